"""Test configuration: the real MariaDB and Redis of this machine (or TEST_DB_* / TEST_REDIS_* overrides), one
database and one Redis logical DB per pytest-xdist worker, so workers never share state."""
import os
import tempfile

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
WORKER_INDEX = int(WORKER[2:]) if WORKER.startswith("gw") and WORKER[2:].isdigit() else 0
# Several independent runs on one machine (e.g. two checkouts) stay apart with TEST_NAMESPACE + TEST_REDIS_DB.
NAMESPACE = "".join(c for c in os.environ.get("TEST_NAMESPACE", "") if c.isalnum())
REDIS_DB_BASE = int(os.environ.get("TEST_REDIS_DB", "1"))

TEST_ENV = {
    "DB_HOST": os.environ.get("TEST_DB_HOST", "127.0.0.1"),
    "DB_PORT": os.environ.get("TEST_DB_PORT", "3306"),
    "DB_USER": os.environ.get("TEST_DB_USER", "root"),
    "DB_PASS": os.environ.get("TEST_DB_PASS", ""),
    "DB_NAME": f"om_test_{NAMESPACE}{WORKER_INDEX}",
    "REDIS_HOST": os.environ.get("TEST_REDIS_HOST", "127.0.0.1"),
    "REDIS_PORT": os.environ.get("TEST_REDIS_PORT", "6379"),
    "REDIS_PASS": os.environ.get("TEST_REDIS_PASS", ""),
    "REDIS_DB": str((REDIS_DB_BASE + WORKER_INDEX) % 16),
    "JWT_KEY_CUSTOMER": "test-customer-key-0123456789abcdef0123456789",
    "JWT_KEY_STAFF": "test-staff-key-0123456789abcdef0123456789abcd",
    "ADMIN_USERNAME": "admin",
    "ADMIN_PASSWORD": "Admin#Passw0rd",
    "COOKIE_SECURE": "false",
    "MAIL_TRANSPORT": "log",
    "MAIL_OUTBOX_DIR": os.path.join(tempfile.gettempdir(), f"om-test-outbox-{WORKER_INDEX}-{os.getpid()}"),
    "BCRYPT_COST": "4",
    "LOG_LEVEL": "WARNING",
    "AWS_DEFAULT_REGION": "us-east-1",
    # nothing in a test may reach real AWS: without the moto fixture, S3/SQS/SES calls hit a closed local port
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "IMAGES_ORIGINALS_BUCKET": "om-originals",
    "IMAGES_PUBLIC_BUCKET": "om-public",
    "MIDTRANS_SERVER_KEY": "SB-Mid-server-NOT-CONFIGURED-IN-THIS-TEST",
    "MIDTRANS_BASE_URL_SNAP": "http://127.0.0.1:9/snap/v1",
    "MIDTRANS_BASE_URL_CORE_API": "http://127.0.0.1:9",
    "MIDTRANS_TIMEOUT_SECONDS": "2",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def apply() -> None:
    for key, value in TEST_ENV.items():
        os.environ[key] = value
    for key in ("SMTP_HOST", "AWS_PROFILE"):
        os.environ.pop(key, None)
