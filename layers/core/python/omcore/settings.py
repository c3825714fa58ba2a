"""The settings registry: every environment variable the backend reads, written down once.

Each entry says what the setting is (type, default, secret or not), which deployment units read it, and how the AWS
template provides it. From this one table:

* ``required_for(unit)`` gives the settings a function checks at start (``make_app`` → ``config.require``);
* ``infra/`` generates each function's environment variables, the template parameters, the SSM secrets and the
  IAM permission to read exactly those secrets;
* ``docs/configuration.md`` is generated (``python infra/build.py --template-only``, also run by ``make package``);
* a test checks the code agrees: every setting the code reads is registered, every registered setting is read by the
  units that list it, and a default written in code equals the one written here.

Units are the capabilities (``functions/<name>``) plus ``container`` (the Swarm/container entrypoint and its WSGI
adapter), ``worker`` (the Swarm image worker and expiry loop) and ``admin`` (the admin CLI).
"""
from __future__ import annotations

ALL = "*"
REQUIRED = None  # default of a setting that must be set

CAPABILITIES = ("health", "auth", "staff_auth", "catalogue", "backoffice", "account", "cart", "freight", "checkout",
                "payments", "images")
# Capabilities that only serve files (functions/desk): they read no setting, so the template gives them no
# database, Redis or secret (``ALL`` means the data capabilities above).
PAGE_CAPABILITIES = ("desk",)
CUSTOMER = ("auth", "account", "cart", "checkout")
STAFF = ("staff_auth", "backoffice", "images")
MAILERS = ("auth", "staff_auth", "account", "backoffice", "checkout", "payments")
OUTBOX = MAILERS + ("worker", "admin")  # every mail leaves through the outbox (omcommerce.outbox)
FREIGHT = ("freight", "checkout")
MIDTRANS = ("checkout", "payments")
IMAGES = ("backoffice", "images")


# Plain classes with __slots__, not NamedTuples: every function imports this table at start, and building four
# NamedTuple classes cost ~8 ms of each cold start.
class Param:
    """The AWS template sets the variable from a template parameter (``default`` overrides the code default there;
    ``required``: the parameter has no default, the operator must give it)."""
    __slots__ = ("default", "required")

    def __init__(self, default: str | None = None, required: bool = False):
        self.default, self.required = default, required


class Ssm:
    """The AWS template hands the secret over as ``<NAME>_SSM`` naming ``${SecretsPrefix}/<NAME>`` in SSM."""
    __slots__ = ()


class Fixed:
    """The AWS template sets the variable to this value or intrinsic (e.g. ``{"Ref": "OriginalsBucket"}``)."""
    __slots__ = ("value",)

    def __init__(self, value: object):
        self.value = value


class Setting:
    __slots__ = ("name", "type", "default", "units", "doc", "group", "secret", "aws")

    def __init__(self, name: str, type: str, default: object, units: object, doc: str, group: str,
                 secret: bool = False, aws: object = None):
        self.name = name
        self.type = type          # str | int | bool | url | path | list
        self.default = default    # REQUIRED, a value, or a str starting with "(" describing a derived default
        self.units = units        # ALL or a tuple of units
        self.doc = doc
        self.group = group
        self.secret = secret
        self.aws = aws            # None (not set on AWS: the default applies), Param, Ssm or Fixed

    def __repr__(self) -> str:
        return f"Setting({self.name!r})"

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def read_by(self, unit: str) -> bool:
        return self.units == ALL and unit in CAPABILITIES + ("container", "worker", "admin") or unit in self.units


# What one multipart upload through API Gateway can carry to Lambda (IMAGE_FORM_MAX_BYTES on AWS): the synchronous
# invoke limit (6,291,456 bytes of event JSON) less the event's other fields (32 KiB: the headers twice — a REST
# API takes at most 10,240 bytes of them —, requestContext, path, query), base64's 4 bytes per 3 (the template
# declares multipart/form-data binary) and 1 KiB of multipart framing around the file (boundaries, product_id, the
# part headers with the file name): 4,692,992 bytes. tests/infra/test_artifacts.py sends both sides of it.
LAMBDA_EVENT_MAX_BYTES = 6_291_456
AWS_FORM_UPLOAD_MAX_BYTES = (LAMBDA_EVENT_MAX_BYTES - 32 * 1024) // 4 * 3 - 1024

S = Setting
DB, REDIS, AUTH, MAIL, HTTP, SHOP, PAY, FR, IMG, RUN = (
    "Database", "Redis", "Authentication", "Mail", "HTTP and containers", "Catalogue, cart, account",
    "Checkout and payments", "Freight", "Images", "Running and logging")

SETTINGS: tuple[Setting, ...] = (
    # -- database
    S("DB_HOST", "str", REQUIRED, ALL, "MySQL host (the RDS Proxy endpoint on AWS)", DB, aws=Param()),
    S("DB_PORT", "int", 3306, ALL, "MySQL port", DB, aws=Param()),
    S("DB_USER", "str", REQUIRED, ALL, "MySQL user", DB, aws=Param("openmerce")),
    S("DB_PASS", "str", "", ALL, "MySQL password", DB, secret=True, aws=Ssm()),
    S("DB_NAME", "str", REQUIRED, ALL, "MySQL database", DB, aws=Param("openmerce")),
    S("DB_SSL_CA", "path", "", ALL, "CA bundle file: turns on verified TLS to MySQL (through RDS Proxy on Lambda: "
      "`/etc/pki/tls/certs/ca-bundle.crt`; straight to RDS: the RDS CA bundle, docs/deploy-aws.md)", DB, aws=Param("")),
    S("DB_SESSION_TIME_ZONE", "bool", True, ALL,
      "`SET time_zone = '+00:00'` on each new connection; false behind RDS Proxy, whose InitQuery sets it once per "
      "database connection (a SET from the client may pin the proxy session)", DB, aws=Param("false")),
    S("DB_CONNECT_TIMEOUT", "int", 3, ALL, "seconds to connect to MySQL", DB),
    S("DB_READ_TIMEOUT", "int", 30, ALL, "seconds to wait for a MySQL answer", DB),
    S("DB_WRITE_TIMEOUT", "int", 30, ALL, "seconds to send to MySQL", DB),
    S("DB_POOL_SIZE", "int", 16, ALL, "MySQL connections per process at most (keep it × processes below the server's"
      " `max_connections`; Lambda and sync workers use one)", DB),
    S("DB_POOL_TIMEOUT_SECONDS", "int", 5, ALL,
      "seconds a request waits for a free MySQL connection of its process before a 503 with `Retry-After`", DB),
    # -- redis
    S("REDIS_HOST", "str", REQUIRED, ALL, "Redis host for sessions, codes and rate limits (a `noeviction` Redis)",
      REDIS, aws=Param()),
    S("REDIS_PORT", "int", 6379, ALL, "Redis port", REDIS, aws=Param()),
    S("REDIS_PASS", "str", "", ALL, "Redis AUTH password", REDIS, secret=True, aws=Ssm()),
    S("REDIS_DB", "int", 0, ALL, "Redis logical database", REDIS),
    S("REDIS_TLS", "bool", False, ALL, "TLS to Redis (ElastiCache in-transit encryption)", REDIS, aws=Param("true")),
    S("REDIS_CACHE_HOST", "str", "", ALL,
      "Redis for caches (catalogue, search, areas, freight), ideally `allkeys-lru`; empty: the main Redis (AWS: the "
      "template's own `allkeys-lru` cluster)", REDIS,
      aws=Fixed({"Fn::GetAtt": ["CacheReplicationGroup", "PrimaryEndPoint.Address"]})),
    S("REDIS_CACHE_PORT", "int", 6379, ALL, "cache Redis port", REDIS,
      aws=Fixed({"Fn::GetAtt": ["CacheReplicationGroup", "PrimaryEndPoint.Port"]})),
    S("REDIS_CACHE_PASS", "str", "", ALL, "cache Redis AUTH password", REDIS, secret=True, aws=Ssm()),
    S("REDIS_CACHE_DB", "int", "(REDIS_DB without REDIS_CACHE_HOST, else 0)", ALL, "cache Redis logical database",
      REDIS),
    S("REDIS_CACHE_TLS", "bool", False, ALL, "TLS to the cache Redis", REDIS, aws=Param("true")),
    S("CACHE_NEAR", "bool", True, ALL,
      "per-process near cache of hot public reads, kept correct by Redis client-side caching (RESP3 tracking)",
      REDIS),
    S("CACHE_ALLOW_NOEVICTION", "bool", False, ALL,
      "use a cache Redis with maxmemory and maxmemory-policy noeviction anyway (refused otherwise: caches would "
      "fill it until its writes, sessions included, fail)", REDIS),
    S("CACHE_NEAR_STATS_DIR", "path", "", ALL, "benchmarks: where processes write their near-cache hit counts",
      REDIS),
    S("REDIS_CONNECT_TIMEOUT_MS", "int", 1000, ALL, "Redis connect timeout", REDIS),
    S("REDIS_TIMEOUT_MS", "int", 1000, ALL, "Redis command timeout", REDIS),
    S("REDIS_POOL_SIZE", "int", 16, ALL,
      "main-Redis connections per process at most (the lean pool's, and redis-py's for tools)", REDIS),
    S("REDIS_POOL_TIMEOUT_SECONDS", "int", 5, ALL,
      "seconds a request waits for a free main-Redis connection of its process before a 503 (and for the "
      "process's cache connection before a cache miss)", REDIS),
    # -- authentication
    S("JWT_KEY_CUSTOMER", "str", REQUIRED, CUSTOMER, "HS256 secret of customer (and registration) tokens", AUTH,
      secret=True, aws=Ssm()),
    S("JWT_KEY_STAFF", "str", REQUIRED, STAFF, "HS256 secret of staff tokens", AUTH, secret=True, aws=Ssm()),
    S("ACCESS_TOKEN_TTL_SECONDS", "int", 900, CUSTOMER + STAFF, "access JWT lifetime", AUTH, aws=Param()),
    S("REFRESH_TTL_SECONDS", "int", 14 * 24 * 3600, ("auth", "staff_auth"),
      "absolute lifetime of a login (14 days)", AUTH),
    S("REFRESH_GRACE_SECONDS", "int", 30, ("auth", "staff_auth"),
      "a just-rotated refresh token still works this long (concurrent tabs)", AUTH),
    S("COOKIE_SECURE", "bool", True, CUSTOMER + STAFF,
      "`Secure` flag on auth cookies (false only for plain-http local runs)", AUTH, aws=Param("true")),
    S("ADMIN_USERNAME", "str", "admin", ("staff_auth", "admin"), "super admin username", AUTH, aws=Param()),
    S("ADMIN_PASSWORD", "str", REQUIRED, ("staff_auth", "admin"),
      "super admin password at creation (never re-applied)", AUTH, secret=True, aws=Ssm()),
    S("BCRYPT_COST", "int", 10, ("auth", "staff_auth"), "bcrypt work factor of new hashes", AUTH),
    S("LOGIN_FAIL_WINDOW_SECONDS", "int", 900, ("auth", "staff_auth"), "failed-login counting window", AUTH),
    S("LOGIN_FAIL_PER_ACCOUNT", "int", 5, ("auth", "staff_auth"),
      "failed logins per account per window before 429", AUTH),
    S("LOGIN_FAIL_PER_IP", "int", 50, ("auth", "staff_auth"),
      "failed logins per client IP per window before 429", AUTH),
    S("LOGIN_FAIL_PER_ACCOUNT_GLOBAL", "int", 20, ("auth", "staff_auth"),
      "failed logins per account from all clients together per global window (429 after)", AUTH),
    S("LOGIN_FAIL_GLOBAL_WINDOW_SECONDS", "int", 3600, ("auth", "staff_auth"),
      "window of `LOGIN_FAIL_PER_ACCOUNT_GLOBAL`", AUTH),
    S("VERIFICATION_CODE_TTL_SECONDS", "int", 300, ("auth",), "registration code lifetime", AUTH),
    S("EMAIL_COOKIE_STEP1_SECONDS", "int", 300, ("auth",), "registration cookie lifetime, step 1", AUTH),
    S("EMAIL_COOKIE_STEP2_SECONDS", "int", 600, ("auth",), "registration cookie lifetime, step 2", AUTH),
    S("CODE_MAX_ATTEMPTS", "int", 5, ("auth", "staff_auth", "account"), "wrong tries per code", AUTH),
    S("CODE_FAIL_PER_ACCOUNT_DAY", "int", 20, ("auth", "staff_auth", "account"),
      "wrong codes per account and purpose per day, across reissued codes", AUTH),
    S("CODE_CHECK_PER_IP", "int", 30, ("auth", "staff_auth", "account"),
      "code checks one client may make per window", AUTH),
    S("CODE_CHECK_WINDOW_SECONDS", "int", 900, ("auth", "staff_auth", "account"),
      "window of `CODE_CHECK_PER_IP`", AUTH),
    S("MAIL_THROTTLE_SECONDS", "int", 300, ("auth", "account"),
      "one registration/verification mail per address per this many seconds", AUTH),
    S("MAIL_PER_IP_LIMIT", "int", 10, ("auth", "staff_auth"), "mails one client IP may trigger per window", AUTH),
    S("MAIL_PER_IP_WINDOW_SECONDS", "int", 3600, ("auth", "staff_auth"), "window of `MAIL_PER_IP_LIMIT`", AUTH),
    S("RESET_CODE_TTL_SECONDS", "int", 900, ("auth", "staff_auth"), "password reset code lifetime", AUTH),
    S("STOREFRONT_URL", "url", "", ("auth",),
      "the storefront's address (`https://shop.example`): the reset mail links to its `/account/reset` page", AUTH,
      aws=Param("")),
    S("RESET_MAIL_THROTTLE_SECONDS", "int", 60, ("auth", "staff_auth"),
      "one reset mail per account per this many seconds", AUTH),
    # -- mail
    S("MAIL_TRANSPORT", "str", "(ses on Lambda, smtp with SMTP_HOST, else log)", MAILERS,
      "`ses`, `smtp` or `log`", MAIL, aws=Param("ses")),
    S("MAIL_FROM", "str", "Openmerce <noreply@openmerce.local>", MAILERS,
      "sender (an SES-verified identity on AWS)", MAIL, aws=Param(required=True)),
    S("MAIL_OUTBOX_DIR", "path", "(.local/outbox)", MAILERS, "where the log transport keeps messages", MAIL),
    S("SMTP_HOST", "str", "", MAILERS, "SMTP server (selects the smtp transport)", MAIL),
    S("SMTP_PORT", "int", 587, MAILERS, "SMTP port", MAIL),
    S("SMTP_USER", "str", "", MAILERS, "SMTP user", MAIL),
    S("SMTP_PASS", "str", "", MAILERS, "SMTP password", MAIL, secret=True),
    S("SMTP_SECURITY", "str", "(starttls on 587, tls on 465, else none)", MAILERS,
      "`starttls`, `tls` or `none`", MAIL),
    S("SMTP_TIMEOUT", "int", 10, MAILERS, "SMTP timeout in seconds", MAIL),
    S("MAIL_DELIVERY", "str", "inline", OUTBOX,
      "how mails leave the outbox after the commit: `inline` (this process, right away: local run, tests), "
      "`sqs` (the mail queue → checkout's deliver_mail function: AWS), `sweep` (the expiry loop's sweep; codes and "
      "account notices go to the process's mail thread at once: Swarm)",
      MAIL, aws=Fixed("sqs")),
    S("MAIL_QUEUE_URL", "url", "", OUTBOX, "the mail queue (with `MAIL_DELIVERY=sqs`)", MAIL,
      aws=Fixed({"Ref": "MailQueue"})),
    S("MAIL_MAX_ATTEMPTS", "int", 5, OUTBOX,
      "tries per outbox mail after transport errors (then `failed`); retries wait 1, 2, 4... minutes", MAIL),
    # -- http / containers
    S("TRUSTED_PROXY_HOPS", "int", 0, ("container",),
      "containers: proxies in front (Traefik = 1) whose `X-Forwarded-For` entries are trusted", HTTP),
    S("MAX_BODY_BYTES", "int", 16 * 1024 * 1024, ("container",), "containers: request size limit (413)", HTTP),
    S("FORWARDED_ALLOW_IPS", "list", "127.0.0.1,::1", ("container",),
      "containers: addresses/CIDRs of the proxies whose `X-Forwarded-For` is believed (empty: none)", HTTP),
    S("CLIENT_READ_TIMEOUT", "int", 10, ("container",),
      "containers: seconds a client may take per read or write, and for its whole body (408 after)", HTTP),
    S("CLIENT_HEADER_TIMEOUT", "int", 10, ("container",),
      "containers: seconds a client may take to send a request line and headers (connection closed after)", HTTP),
    S("BIND", "str", "0.0.0.0:8000", ("container",), "containers: gunicorn's listening address", HTTP),
    S("WEB_CONCURRENCY", "int", "(the container's CPU limit, at least 2)", ("container",),
      "containers: gunicorn worker processes", HTTP),
    S("WEB_THREADS", "int", 128, ("container",),
      "containers: requests one worker process serves at once (threads; waiting on the network holds only one)", HTTP),
    S("WORKER_TIMEOUT", "int", 30, ("container",), "containers: seconds before gunicorn restarts a stuck worker",
      HTTP),
    S("ACCESS_LOG", "str", "1", ("container",), "containers: `1` writes gunicorn's access log", HTTP),
    S("SERVE_USERCONTENT", "str", "1", ("container",),
      "containers: `1` serves `/usercontent/*` from the public bucket (no CDN in front)", HTTP),
    S("HEARTBEAT_FILE", "path", "(none in code; /tmp/openmerce.heartbeat in the image)", ("worker", "container"),
      "file the image worker and expiry loop touch; their healthcheck reads its age", RUN),
    S("HEARTBEAT_MAX_AGE_SECONDS", "int", 120, ("container",),
      "healthcheck: a heartbeat older than this is unhealthy", RUN),
    S("IMAGES_WORKER_ID", "str", "(host name)", ("worker",),
      "names the image worker's processing list (recovered when a worker of that name starts)", RUN),
    S("MIGRATE_WAIT_SECONDS", "int", 180, ("container",), "migrate role: how long to wait for MySQL", RUN),
    S("MIGRATE_DB_USER", "str", "", ("admin",),
      "migrate: the MySQL user with CREATE/ALTER/DROP (empty: DB_USER); the application user needs only DML", RUN),
    S("MIGRATE_DB_PASS", "str", "", ("admin",), "migrate: password of `MIGRATE_DB_USER`", RUN, secret=True),
    S("MIGRATE_LOCK_WAIT_SECONDS", "int", 5, ("admin",),
      "migrate: how long a DDL statement may wait for a table lock before it gives up (and is retried)", RUN),
    S("MIGRATE_LOCK_RETRIES", "int", 5, ("admin",), "migrate: tries after a lock-wait timeout", RUN),
    S("BACKUP_S3_BUCKET", "str", REQUIRED, ("admin",),
      "backup: bucket of the backup location (a second S3-compatible store, not the shop's own)", RUN),
    S("BACKUP_S3_PREFIX", "str", "openmerce", ("admin",), "backup: key prefix inside `BACKUP_S3_BUCKET`", RUN),
    S("BACKUP_S3_ENDPOINT_URL", "url", "", ("admin",),
      "backup: S3 endpoint of the backup location (empty: AWS S3 in `BACKUP_S3_REGION`)", RUN),
    S("BACKUP_S3_REGION", "str", "us-east-1", ("admin",), "backup: region of the backup location", RUN),
    S("BACKUP_S3_ACCESS_KEY_ID", "str", "", ("admin",),
      "backup: access key of the backup location (empty: the default AWS credentials)", RUN, secret=True),
    S("BACKUP_S3_SECRET_ACCESS_KEY", "str", "", ("admin",), "backup: secret key of the backup location", RUN,
      secret=True),
    S("BACKUP_S3_SSE", "str", "AES256", ("admin",),
      "backup: server-side encryption asked for on every write (`AES256`, `aws:kms`; empty: none)", RUN),
    S("BACKUP_ENCRYPTION_KEY", "str", "", ("admin",),
      "backup: encrypt dumps and objects here (AES-256-GCM) before they leave; needed again to restore", RUN,
      secret=True),
    S("BACKUP_RETENTION_DAYS", "int", 14, ("admin",), "backup: backups older than this are deleted", RUN),
    S("BACKUP_KEEP_MIN", "int", 7, ("admin",), "backup: the newest this many are kept whatever their age", RUN),
    S("BACKUP_INTERVAL_SECONDS", "int", 3600, ("admin",), "backup role: seconds between backups", RUN),
    S("OPENMERCE_LOCAL_DIR", "path", "(.local)", ("admin",), "local run: where private servers keep their data",
      RUN),
    S("PORT", "int", 8000, ("admin",), "local run: HTTP port", RUN),
    S("STAFF_PASSWORD", "str", "", ("admin",), "create-staff: the password, instead of a prompt", RUN, secret=True),
    S("V1_DB_NAME", "str", "", ("admin",), "upgrade-v1: the v1 database (or --from)", RUN),
    S("V1_DB_HOST", "str", "(DB_HOST)", ("admin",), "upgrade-v1: the v1 MySQL host", RUN),
    S("V1_DB_PORT", "int", "(DB_PORT)", ("admin",), "upgrade-v1: the v1 MySQL port", RUN),
    S("V1_DB_USER", "str", "(DB_USER)", ("admin",), "upgrade-v1: the v1 MySQL user", RUN),
    S("V1_DB_PASS", "str", "(DB_PASS)", ("admin",), "upgrade-v1: the v1 MySQL password", RUN, secret=True),
    S("CHALICE_DEBUG", "bool", False, ALL, "Chalice debug mode (never in production)", RUN),
    S("LOG_LEVEL", "str", "INFO", ALL, "log level", RUN, aws=Param()),
    # -- catalogue, cart, account
    S("CART_MAX_QUANTITY", "int", 999, ("cart", "checkout"),
      "largest quantity of one product in a cart (checked again at checkout)", SHOP),
    S("CART_MAX_LINES", "int", 100, ("cart",), "products in one cart", SHOP),
    S("BANNER_HREF_HOSTS", "list", "", ("backoffice", "admin"),
      "hosts a banner may link to over https (comma-separated); other banner links must be same-site paths", SHOP,
      aws=Param()),
    S("ADDRESS_MAX_PER_CUSTOMER", "int", 20, ("account",), "addresses one customer may keep", SHOP),
    S("EMAIL_CHANGE_CODE_TTL_SECONDS", "int", 900, ("account",), "lifetime of the code confirming a new email",
      SHOP),
    # -- checkout and payments
    S("MIDTRANS_SERVER_KEY", "str", REQUIRED, MIDTRANS,
      "Midtrans server key (also verifies notification signatures)", PAY, secret=True, aws=Ssm()),
    S("WEBHOOK_BAD_PER_IP", "int", 20, ("payments",),
      "malformed or badly signed notifications one client may send per window (then 429); none is stored", PAY),
    S("WEBHOOK_BAD_WINDOW_SECONDS", "int", 900, ("payments",), "window of `WEBHOOK_BAD_PER_IP`", PAY),
    S("MIDTRANS_BASE_URL_SNAP", "url", "https://app.sandbox.midtrans.com/snap/v1", MIDTRANS, "Snap base URL", PAY,
      aws=Param()),
    S("MIDTRANS_BASE_URL_CORE_API", "url", "https://api.sandbox.midtrans.com", MIDTRANS, "Core API base URL", PAY,
      aws=Param()),
    S("MIDTRANS_SANDBOX", "bool", False, MIDTRANS + ("container",),
      "a staging shop: allow the Midtrans sandbox (its URLs, an `SB-` server key); without it a function or container"
      " configured for the sandbox refuses to start", PAY, aws=Param("false")),
    S("MIDTRANS_BASE_ORDER_ID", "str", "OPENMERCE", MIDTRANS,
      "prefix of Midtrans order ids (`<prefix>-<order id>`)", PAY, aws=Param()),
    S("MAX_UNPAID_ORDERS_PER_CUSTOMER", "int", 3, ("checkout",),
      "unpaid orders one customer may hold; the next checkout is refused (409); 0: no limit", PAY),
    S("MAX_UNPAID_UNITS_PER_PRODUCT", "int", 10, ("checkout",),
      "units of one product one customer may hold across unpaid orders; more is refused (409); 0: no cap", PAY),
    S("MIDTRANS_TIMEOUT_SECONDS", "int", 10, MIDTRANS, "HTTP timeout of every Midtrans call", PAY),
    S("PAYMENT_WINDOW_HOURS", "int", 24, ("checkout",), "unpaid orders expire after this", PAY, aws=Param()),
    S("EXPIRY_INTERVAL_SECONDS", "int", 300, ("worker",), "Swarm `expiry` service loop interval", PAY),
    # -- freight
    S("FREIGHT_ENGINE", "str", "table", FREIGHT, "`table` (MySQL rate table) or `biteship`", FR, aws=Param()),
    S("FREIGHT_BASE_URL", "url", "", FREIGHT, "provider base URL (provider engines)", FR, aws=Param("")),
    S("FREIGHT_AUTHORIZATION", "str", "", FREIGHT, "provider API key (provider engines)", FR, secret=True,
      aws=Ssm()),
    S("FREIGHT_ORIGIN_POSTAL_CODE", "str", "", FREIGHT,
      "postal code the parcels leave from (provider engines)", FR, aws=Param("")),
    S("FREIGHT_COURIERS", "list", "anteraja,sicepat,jne,jnt", FREIGHT, "couriers asked for rates", FR, aws=Param()),
    S("FREIGHT_TIMEOUT_SECONDS", "int", 8, FREIGHT, "provider HTTP timeout", FR),
    # -- images
    S("IMAGES_ORIGINALS_BUCKET", "str", REQUIRED, IMAGES, "bucket of uploaded originals", IMG,
      aws=Fixed({"Ref": "OriginalsBucket"})),
    S("IMAGES_PUBLIC_BUCKET", "str", REQUIRED, IMAGES, "bucket of the public WebP files (`/usercontent/`)", IMG,
      aws=Fixed({"Ref": "PublicBucket"})),
    S("IMAGES_EVENTS", "str", "s3", IMAGES,
      "`redis`: the API hands upload events to the worker through Redis (Swarm, local run)", IMG),
    S("IMAGES_QUEUE", "str", "openmerce-images", ("images",), "SQS queue of the converter (AWS)", IMG),
    S("IMAGE_MAX_BYTES", "int", 15 * 1024 * 1024, IMAGES,
      "largest image (the presigned upload's bound; the multipart upload's too unless `IMAGE_FORM_MAX_BYTES` is lower)",
      IMG, aws=Param()),
    S("IMAGE_FORM_MAX_BYTES", "int", "(IMAGE_MAX_BYTES)", ("backoffice",),
      "largest image through the multipart `product-2` upload (the v1 staff UI's); above it a 413 names the presigned"
      " upload. AWS: 4,692,992, what one API Gateway event carries to Lambda (docs/deploy-aws.md)", IMG,
      aws=Fixed(str(AWS_FORM_UPLOAD_MAX_BYTES))),
    S("IMAGE_MAX_PIXELS", "int", 40_000_000, ("images",), "decompression-bomb limit", IMG),
    S("IMAGE_MAX_FRAMES", "int", 300, ("images",), "animation frames", IMG),
    S("IMAGE_MAX_DIMENSION", "int", 2048, ("images",), "width of the main WebP", IMG),
    S("IMAGE_MAX_TOTAL_PIXELS", "int", 100_000_000, ("images",),
      "largest width x height x frames of an animation (animated-image bombs)", IMG),
    S("IMAGE_MAX_ATTEMPTS", "int", 5, ("images",), "conversion attempts per original", IMG),
    S("WEBP_QUALITY", "int", 80, ("images",), "WebP quality", IMG),
    S("WEBP_METHOD", "int", 1, ("images",), "WebP method (chosen by measurement, docs/images.md)", IMG),
    S("WEBP_DIRECT_YUV", "bool", True, ("images",),
      "encode still RGB pictures straight to YUV with Pillow's libwebp (false: Pillow's own encoder)", IMG),
)

BY_NAME = {s.name: s for s in SETTINGS}


def for_unit(unit: str) -> list[Setting]:
    return [s for s in SETTINGS if s.read_by(unit)]


def required_for(*units: str) -> tuple[str, ...]:
    """Names a deployment unit cannot start without (several units: the composed app)."""
    return tuple(s.name for s in SETTINGS if s.required and any(s.read_by(u) for u in units))
