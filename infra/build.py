"""Build every deployable artefact for AWS from scratch, and the CloudFormation/SAM template that ties them together.

    python infra/build.py                 # layers + one Chalice package per capability + template + size report
    python infra/build.py --template-only # regenerate infra/template.yaml only (no packaging)
    python infra/build.py --check         # fail if infra/template.yaml is not what the code generates

What ``chalice package`` gives us, per capability: the deployment zip of that capability's own Chalice app
(``functions/<name>/app.py`` with only ``functions/<name>`` vendored in), built the way Chalice builds it. What it
cannot express — several Chalice projects behind ONE API origin, shared layers built from ``layers/``, buckets
with an SQS upload trigger, VPC wiring, per-function IAM, SSM secrets, CloudFront — is generated here from the
same route table ``app.py`` serves, so the template and the code cannot drift (a test runs ``--check``).
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

os.environ.setdefault("OPENMERCE_PACKAGING", "1")  # apps skip their start-up config check while we read them

import functions  # noqa: E402  (layers on sys.path)

BUILD = os.path.join(ROOT, "build")
TEMPLATE_PATH = os.path.join(ROOT, "infra", "template.yaml")
RUNTIME = "python3.12"
CODE_LAYERS = {"core": "omcore", "mysql": "omdb", "auth": "omauth", "commerce": "omcommerce"}
# Third-party layers: requirement lines from requirements.txt by package name. boto3 comes with the runtime.
THIRD_PARTY_LAYERS = {
    "deps": ["pymysql", "redis", "pyjwt", "bcrypt", "midtransclient"],
    # Lambda allows 5 layers per function: the images function takes this one instead of "deps"
    "imaging": ["pymysql", "redis", "pyjwt", "bcrypt", "midtransclient", "pillow"],
}
# Lambda limits: 50 MB zipped direct upload, 250 MB unzipped for function + layers.
LIMIT_UNZIPPED = 250 * 1024 * 1024
LIMIT_ZIPPED = 50 * 1024 * 1024
# Files in a capability folder that never ship to Lambda (local-run and admin helpers, fakes).
EXCLUDE_FROM_PACKAGE = {"demo.py", "cli.py", "localdev.py", "worker.py"}
EXCLUDE_PREFIXES = ("fake_",)

PERMISSIONS = {
    "ses-send": [{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"], "Resource": "*"}],
    "s3-originals-write": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
                            "Resource": {"Fn::Sub": "${OriginalsBucket.Arn}/originals/*"}}],
    "s3-originals-read": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                           "Resource": [{"Fn::Sub": "${OriginalsBucket.Arn}/originals/*"},
                                        {"Fn::GetAtt": ["OriginalsBucket", "Arn"]}]}],
    "s3-originals-presign": [{"Effect": "Allow", "Action": ["s3:PutObject"],
                              "Resource": {"Fn::Sub": "${OriginalsBucket.Arn}/originals/*"}}],
    "s3-public-write": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject", "s3:GetObject"],
                         "Resource": {"Fn::Sub": "${PublicBucket.Arn}/usercontent/*"}}],
    "s3-public-delete": [{"Effect": "Allow", "Action": ["s3:DeleteObject"],
                          "Resource": {"Fn::Sub": "${PublicBucket.Arn}/usercontent/*"}}],
    "sqs-images": [{"Effect": "Allow",
                    "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                               "sqs:ChangeMessageVisibility"],
                    "Resource": {"Fn::GetAtt": ["ImagesQueue", "Arn"]}}],
}

# Template parameter holding each plain setting (spec "env").
ENV_PARAMETERS = {
    "DB_HOST": ("DbHost", "RDS Proxy endpoint of the MySQL 8 database", None),
    "DB_PORT": ("DbPort", "MySQL port", "3306"),
    "DB_USER": ("DbUser", "MySQL user of the functions", "openmerce"),
    "DB_NAME": ("DbName", "MySQL database name", "openmerce"),
    "REDIS_HOST": ("RedisHost", "ElastiCache Redis primary endpoint", None),
    "REDIS_PORT": ("RedisPort", "Redis port", "6379"),
    "REDIS_TLS": ("RedisTls", "true when ElastiCache in-transit encryption is on", "true"),
    "LOG_LEVEL": ("LogLevel", "log level of every function", "INFO"),
    "COOKIE_SECURE": ("CookieSecure", "Secure flag on auth cookies (keep true behind HTTPS)", "true"),
    "ACCESS_TOKEN_TTL_SECONDS": ("AccessTokenTtlSeconds", "access JWT lifetime in seconds", "900"),
    "MAIL_FROM": ("MailFrom", "From address of outgoing mail (an SES-verified identity)", None),
    "MAIL_TRANSPORT": ("MailTransport", "mail transport on Lambda", "ses"),
    "ADMIN_USERNAME": ("AdminUsername", "username of the super admin", "admin"),
    "IMAGES_ORIGINALS_BUCKET": (None, None, {"Ref": "OriginalsBucket"}),
    "IMAGES_PUBLIC_BUCKET": (None, None, {"Ref": "PublicBucket"}),
    "IMAGE_MAX_BYTES": ("ImageMaxBytes", "largest accepted image upload in bytes", "15728640"),
    "MIDTRANS_BASE_URL_SNAP": ("MidtransBaseUrlSnap", "Midtrans Snap base URL",
                               "https://app.sandbox.midtrans.com/snap/v1"),
    "MIDTRANS_BASE_URL_CORE_API": ("MidtransBaseUrlCoreApi", "Midtrans Core API base URL",
                                   "https://api.sandbox.midtrans.com"),
    "MIDTRANS_BASE_ORDER_ID": ("MidtransBaseOrderId", "prefix of Midtrans order ids", "OPENMERCE"),
    "PAYMENT_WINDOW_HOURS": ("PaymentWindowHours", "hours before an unpaid order expires", "24"),
    "FREIGHT_ENGINE": ("FreightEngine", "freight engine: table (built in) or a provider name", "table"),
    "FREIGHT_BASE_URL": ("FreightBaseUrl", "freight provider base URL (provider engines only)", ""),
    "FREIGHT_ORIGIN_AREA_ID": ("FreightOriginAreaId", "shipping_areas id the parcels leave from", ""),
}


def load_spec() -> dict:
    with open(os.path.join(ROOT, "infra", "spec.json"), encoding="utf-8") as fh:
        return json.load(fh)


def settings_for(spec: dict, name: str) -> dict:
    merged = dict(spec["defaults"])
    merged.update(spec["functions"].get(name, {}))
    return merged


def logical(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


def capability_app(name: str):
    return importlib.import_module(f"functions.{name}.app").app


def api_routes(app) -> list[tuple[str, str]]:
    return sorted((path, method) for path, entry in app.routes.items() for method in entry)


def event_handlers(app) -> list:
    """(kind, handler name, config) for the capability's non-HTTP handlers."""
    found = []
    for source in app.event_sources:
        found.append((type(source).__name__, source.name, source))
    for fn in app.pure_lambda_functions:
        found.append(("LambdaFunction", fn.name, fn))
    return found


# ---------------------------------------------------------------- template

def _function_env(settings: dict) -> dict:
    variables = {}
    for name in settings["env"]:
        param, _doc, default = ENV_PARAMETERS[name]
        variables[name] = {"Ref": param} if param else default
    for name in settings["secrets"]:
        variables[f"{name}_SSM"] = {"Fn::Sub": "${SecretsPrefix}/" + name}
    return variables


def _role(settings: dict) -> dict:
    statements = []
    for permission in settings["permissions"]:
        statements.extend(PERMISSIONS[permission])
    statements.append({
        "Effect": "Allow", "Action": ["ssm:GetParameter"],
        "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SecretsPrefix}/"
                      + secret} for secret in settings["secrets"]]})
    statements.append({
        "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}}}})
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                                              "AWSLambdaVPCAccessExecutionRole"}],
            "Policies": [{"PolicyName": "least-privilege",
                          "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
        },
    }


def _function(name: str, handler: str, settings: dict, role: str, events: dict | None = None) -> dict:
    props = {
        "CodeUri": f"../build/functions/{name}/deployment.zip",
        "Handler": handler,
        "Runtime": RUNTIME,
        "Architectures": ["x86_64"],
        "MemorySize": settings["memory"],
        "Timeout": settings["timeout"],
        "Role": {"Fn::GetAtt": [role, "Arn"]},
        "Layers": [{"Ref": f"{logical(layer)}Layer"} for layer in settings["layers"]],
        "VpcConfig": {"SubnetIds": {"Ref": "PrivateSubnetIds"},
                      "SecurityGroupIds": {"Ref": "LambdaSecurityGroupIds"}},
        "Environment": {"Variables": _function_env(settings)},
        "Tags": {"openmerce:capability": name},
    }
    if events:
        props["Events"] = events
    return {"Type": "AWS::Serverless::Function", "Properties": props}


def build_template(spec: dict) -> dict:
    resources: dict = {}
    parameters: dict = {
        "SecretsPrefix": {"Type": "String", "Default": "/openmerce/prod", "AllowedPattern": "^/[A-Za-z0-9/_.-]+$",
                          "Description": "SSM path holding the SecureString secrets (DB_PASS, REDIS_PASS, "
                                         "JWT_KEY_CUSTOMER, JWT_KEY_STAFF, ADMIN_PASSWORD, MIDTRANS_SERVER_KEY, "
                                         "FREIGHT_AUTHORIZATION)"},
        "VpcId": {"Type": "AWS::EC2::VPC::Id", "Description": "VPC of the database, Redis and functions"},
        "PrivateSubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>",
                             "Description": "private subnets with a NAT route (Midtrans, freight provider)"},
        "PrivateRouteTableIds": {"Type": "CommaDelimitedList",
                                 "Description": "route tables of the private subnets (for the S3 gateway endpoint)"},
        "LambdaSecurityGroupIds": {"Type": "List<AWS::EC2::SecurityGroup::Id>",
                                   "Description": "security groups allowed into RDS Proxy and Redis"},
        "StorefrontOriginDomain": {"Type": "String", "Description": "host name serving the storefront SPA"},
        "ApiStageName": {"Type": "String", "Default": "prod", "AllowedPattern": "^[a-z0-9]+$"},
    }
    used_env = sorted({e for n in functions.CAPABILITIES for e in settings_for(spec, n)["env"]})
    for env in used_env:
        param, doc, default = ENV_PARAMETERS[env]
        if param:
            parameters[param] = {"Type": "String", "Description": doc}
            if default is not None:
                parameters[param]["Default"] = default

    for layer in list(THIRD_PARTY_LAYERS) + list(CODE_LAYERS):
        resources[f"{logical(layer)}Layer"] = {
            "Type": "AWS::Serverless::LayerVersion",
            "Properties": {"LayerName": {"Fn::Sub": "${AWS::StackName}-" + layer},
                           "ContentUri": f"../build/layers/{layer}.zip",
                           "CompatibleRuntimes": [RUNTIME], "RetentionPolicy": "Delete"}}

    paths: dict = {}
    route_owner: dict = {}
    for name in functions.CAPABILITIES:
        settings = settings_for(spec, name)
        app = capability_app(name)
        role = f"{logical(name)}Role"
        resources[role] = _role(settings)
        routes = api_routes(app)
        if routes:
            fn = f"{logical(name)}Function"
            resources[fn] = _function(name, "app.app", settings, role)
            resources[f"{fn}ApiPermission"] = {
                "Type": "AWS::Lambda::Permission",
                "Properties": {"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": fn},
                               "Principal": "apigateway.amazonaws.com",
                               "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                                                        "${AWS::AccountId}:${Api}/*"}}}
            for path, method in routes:
                route_owner[(path, method)] = fn
                paths.setdefault(path, {})[method.lower()] = {
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy", "httpMethod": "POST", "passthroughBehavior": "when_no_match",
                        "uri": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/"
                                           "2015-03-31/functions/${" + fn + ".Arn}/invocations"}},
                    "responses": {}}
        for kind, handler_name, config in event_handlers(app):
            fn = f"{logical(name)}{logical(handler_name)}Function"
            events = None
            if kind == "ScheduledEventConfig":
                events = {"Schedule": {"Type": "Schedule",
                                       "Properties": {"Schedule": config.schedule_expression
                                                      if isinstance(config.schedule_expression, str)
                                                      else config.schedule_expression.to_string()}}}
            elif kind == "SQSEventConfig":
                events = {"Queue": {"Type": "SQS", "Properties": {
                    "Queue": {"Fn::GetAtt": ["ImagesQueue", "Arn"]}, "BatchSize": config.batch_size or 10,
                    "FunctionResponseTypes": ["ReportBatchItemFailures"]}}}
            elif kind == "S3EventConfig":
                continue  # S3 → SQS → function is the packaged path (CloudFormation cannot add S3 → Lambda here)
            resources[fn] = _function(name, f"app.{handler_name}", settings, role, events)

    resources["Api"] = {
        "Type": "AWS::Serverless::Api",
        "Properties": {
            "StageName": {"Ref": "ApiStageName"},
            "EndpointConfiguration": {"Type": "REGIONAL"},
            "BinaryMediaTypes": ["multipart~1form-data", "application~1octet-stream", "image~1*"],
            "DefinitionBody": {"swagger": "2.0", "info": {"title": {"Ref": "AWS::StackName"}, "version": "1.0"},
                               "schemes": ["https"], "paths": paths,
                               "x-amazon-apigateway-binary-media-types": ["multipart/form-data",
                                                                          "application/octet-stream", "image/*"]},
            "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingBurstLimit": 200,
                                "ThrottlingRateLimit": 100}],
        }}

    resources.update(_storage_resources())
    resources.update(_network_and_edge_resources())
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "Openmerce Serverless: one Lambda function per capability behind one API origin "
                       "(generated by infra/build.py from app.py's route table; do not edit by hand)",
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": {
            "ApiUrl": {"Value": {"Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/"
                                            "${ApiStageName}"}},
            "PublicOrigin": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]}},
            "MidtransNotificationUrl": {"Value": {"Fn::Sub": "https://${Distribution.DomainName}/api/v1/webhook/midtrans"}},
            "OriginalsBucketName": {"Value": {"Ref": "OriginalsBucket"}},
            "PublicBucketName": {"Value": {"Ref": "PublicBucket"}},
        },
    }


def _private_bucket(extra: dict | None = None) -> dict:
    props = {
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    }
    props.update(extra or {})
    return {"Type": "AWS::S3::Bucket", "Properties": props}


def _storage_resources() -> dict:
    return {
        "ImagesDeadLetterQueue": {"Type": "AWS::SQS::Queue",
                                  "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}},
        "ImagesQueue": {"Type": "AWS::SQS::Queue", "Properties": {
            "VisibilityTimeout": 720, "SqsManagedSseEnabled": True,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["ImagesDeadLetterQueue", "Arn"]},
                              "maxReceiveCount": 5}}},
        "ImagesQueuePolicy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": "ImagesQueue"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": ["ImagesQueue", "Arn"]},
                "Condition": {"ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:s3:::"
                                                                       "${AWS::StackName}-originals-*"}},
                              "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]}}},
        "OriginalsBucket": dict(_private_bucket({
            "BucketName": {"Fn::Sub": "${AWS::StackName}-originals-${AWS::AccountId}"},
            "LifecycleConfiguration": {"Rules": [{"Id": "abort-incomplete-uploads", "Status": "Enabled",
                                                  "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]},
            "NotificationConfiguration": {"QueueConfigurations": [{
                "Event": "s3:ObjectCreated:*", "Queue": {"Fn::GetAtt": ["ImagesQueue", "Arn"]},
                "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "originals/"}]}}}]},
        }), DependsOn="ImagesQueuePolicy"),
        "PublicBucket": _private_bucket(),
        "PublicBucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "PublicBucket"},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                "Resource": {"Fn::Sub": "${PublicBucket.Arn}/usercontent/*"},
                "Condition": {"StringEquals": {"AWS:SourceArn": {
                    "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"}}}}]}}},
    }


def _network_and_edge_resources() -> dict:
    caching_disabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"      # AWS managed: CachingDisabled
    caching_optimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"     # AWS managed: CachingOptimized
    all_viewer_except_host = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AWS managed origin request policy
    return {
        "S3GatewayEndpoint": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcEndpointType": "Gateway", "VpcId": {"Ref": "VpcId"},
            "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"},
            "RouteTableIds": {"Ref": "PrivateRouteTableIds"}}},
        "PublicBucketOriginAccessControl": {"Type": "AWS::CloudFront::OriginAccessControl", "Properties": {
            "OriginAccessControlConfig": {"Name": {"Fn::Sub": "${AWS::StackName}-usercontent"},
                                          "OriginAccessControlOriginType": "s3", "SigningBehavior": "always",
                                          "SigningProtocol": "sigv4"}}},
        "Distribution": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
            "Enabled": True, "HttpVersion": "http2and3", "Comment": {"Ref": "AWS::StackName"},
            "Origins": [
                {"Id": "storefront", "DomainName": {"Ref": "StorefrontOriginDomain"},
                 "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"}},
                {"Id": "api", "DomainName": {"Fn::Sub": "${Api}.execute-api.${AWS::Region}.amazonaws.com"},
                 "OriginPath": {"Fn::Sub": "/${ApiStageName}"},
                 "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"}},
                {"Id": "usercontent", "DomainName": {"Fn::GetAtt": ["PublicBucket", "RegionalDomainName"]},
                 "S3OriginConfig": {"OriginAccessIdentity": ""},
                 "OriginAccessControlId": {"Fn::GetAtt": ["PublicBucketOriginAccessControl", "Id"]}},
            ],
            "DefaultCacheBehavior": {"TargetOriginId": "storefront", "ViewerProtocolPolicy": "redirect-to-https",
                                     "CachePolicyId": caching_optimized, "Compress": True},
            "CacheBehaviors": [
                {"PathPattern": "/api/*", "TargetOriginId": "api", "ViewerProtocolPolicy": "redirect-to-https",
                 "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                 "CachePolicyId": caching_disabled, "OriginRequestPolicyId": all_viewer_except_host,
                 "Compress": True},
                {"PathPattern": "/usercontent/*", "TargetOriginId": "usercontent",
                 "ViewerProtocolPolicy": "redirect-to-https", "CachePolicyId": caching_optimized,
                 "Compress": False},
            ],
        }}},
    }


# ---------------------------------------------------------------- packaging

def _compile(folder: str) -> None:
    """Ship bytecode: Lambda's file system is read-only, so without .pyc files every cold start compiles every
    module again. unchecked-hash pycs stay valid whatever mtimes the unzipped files get."""
    import compileall

    compileall.compile_dir(folder, quiet=2, invalidation_mode=__import__("py_compile").PycInvalidationMode.UNCHECKED_HASH,
                           workers=0)


def _zip_dir(source: str, target: str, prefix: str = "") -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for folder, dirs, files in os.walk(source):
            dirs[:] = sorted(dirs)
            for name in sorted(files):
                if name.endswith(".pyo"):
                    continue
                full = os.path.join(folder, name)
                arc = os.path.join(prefix, os.path.relpath(full, source))
                info = zipfile.ZipInfo(arc, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(full, "rb") as fh:
                    zf.writestr(info, fh.read())


def _requirement_lines(names: list[str]) -> list[str]:
    wanted = {n.lower() for n in names}
    lines = []
    with open(os.path.join(ROOT, "requirements.txt"), encoding="utf-8") as fh:
        for line in fh:
            stripped = line.split("#", 1)[0].strip()
            if not stripped:
                continue
            name = stripped
            for sep in "=<>!~[; ":
                name = name.split(sep, 1)[0]
            if name.lower() in wanted:
                lines.append(stripped)
    missing = wanted - {ln.split("=")[0].split("<")[0].split(">")[0].lower() for ln in lines}
    if missing:
        raise SystemExit(f"requirements.txt lacks {sorted(missing)}")
    return lines


def _copy_installed(names: list[str], target: str) -> None:
    """Offline layer build: copy the named distributions and everything they require from the running
    interpreter's site-packages (same CPython 3.12 / x86_64 as Lambda). Used by the tests, which must not reach any
    registry; `make package` downloads manylinux wheels for the Lambda platform instead."""
    import re
    from importlib import metadata

    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = re.split(r"[<>=!~;\[ ]", pending.pop())[0].strip().lower().replace("_", "-")
        if not name or name in seen or name in ("boto3", "botocore", "s3transfer", "jmespath"):
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for requirement in dist.requires or []:
            if "extra ==" not in requirement:
                pending.append(requirement)
        for file in dist.files or []:
            if ("__pycache__" in file.parts or file.parts[0].endswith((".dist-info", ".data")) or ".." in file.parts
                    or file.parts[0] == "tests"):
                continue
            source = file.locate()
            if os.path.isfile(source):
                dest = os.path.join(target, *file.parts)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copy2(source, dest)


def build_layers(offline: bool = False) -> None:
    out = os.path.join(BUILD, "layers")
    os.makedirs(out, exist_ok=True)
    for layer in CODE_LAYERS:
        staged = os.path.join(BUILD, "layer-src", layer, "python")
        shutil.rmtree(os.path.dirname(staged), ignore_errors=True)
        shutil.copytree(os.path.join(ROOT, "layers", layer, "python"), staged,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        _compile(staged)
        _zip_dir(os.path.dirname(staged), os.path.join(out, f"{layer}.zip"))
    for layer, names in THIRD_PARTY_LAYERS.items():
        target = os.path.join(BUILD, "layer-src", layer, "python")
        shutil.rmtree(os.path.dirname(target), ignore_errors=True)
        os.makedirs(target)
        if offline:
            _copy_installed(names, target)
            _compile(target)
            _zip_dir(os.path.dirname(target), os.path.join(out, f"{layer}.zip"))
            continue
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               "--no-compile", "--target", target, "--platform", "manylinux2014_x86_64",
                               "--implementation", "cp", "--python-version", "3.12", "--only-binary=:all:",
                               *_requirement_lines(names)], stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            sys.stderr.write("\n".join(line for line in done.stderr.splitlines() if "is ignored" not in line))
            raise SystemExit(f"building the {layer} layer failed")
        for folder, dirs, _files in os.walk(target):
            for d in list(dirs):
                if d in ("__pycache__", "tests") or d.startswith(("boto3", "botocore")):
                    shutil.rmtree(os.path.join(folder, d))
                    dirs.remove(d)
        _compile(target)
        _zip_dir(os.path.dirname(target), os.path.join(out, f"{layer}.zip"))


def _project(name: str, spec: dict) -> str:
    project = os.path.join(BUILD, "functions", name)
    shutil.rmtree(project, ignore_errors=True)
    vendor = os.path.join(project, "vendor", "functions")
    os.makedirs(os.path.join(project, ".chalice"))
    os.makedirs(vendor)
    shutil.copy(os.path.join(ROOT, "functions", "__init__.py"), os.path.join(vendor, "__init__.py"))
    src = os.path.join(ROOT, "functions", name)
    for folder, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = os.path.relpath(folder, src)
        for fname in files:
            if fname in EXCLUDE_FROM_PACKAGE or fname.startswith(EXCLUDE_PREFIXES) or fname.endswith(".pyc"):
                continue
            if not fname.endswith((".py", ".json", ".sql", ".txt", ".html")):
                continue
            dest = os.path.join(vendor, name, rel)
            os.makedirs(dest, exist_ok=True)
            shutil.copy(os.path.join(folder, fname), os.path.join(dest, fname))
    app = capability_app(name)
    handlers = [h for _k, h, _c in event_handlers(app)]
    with open(os.path.join(project, "app.py"), "w", encoding="utf-8") as fh:
        fh.write(f'"""Generated by infra/build.py: the {name} capability as its own Lambda package."""\n'
                 f"from functions.{name}.app import app\n")
        for handler in handlers:
            fh.write(f"{handler} = app.handler_map[{handler!r}]\n")
    open(os.path.join(project, "requirements.txt"), "w").close()  # third-party code comes from layers
    settings = settings_for(spec, name)
    # IAM is ours (least privilege per function in the generated template), so Chalice manages no role here.
    config = {"version": "2.0", "app_name": f"openmerce-{name.replace('_', '-')}", "manage_iam_role": False,
              "iam_role_arn": "arn:aws:iam::000000000000:role/defined-in-infra-template",
              "stages": {"prod": {"api_gateway_stage": "prod", "lambda_memory_size": settings["memory"],
                                  "lambda_timeout": settings["timeout"]}}}
    with open(os.path.join(project, ".chalice", "config.json"), "w", encoding="utf-8") as fh:
        json.dump(config, fh, indent=2)
    return project


def build_functions(spec: dict) -> None:
    chalice = os.path.join(os.path.dirname(sys.executable), "chalice")
    layer_paths = os.pathsep.join(os.path.join(ROOT, "layers", layer, "python") for layer in CODE_LAYERS)
    env = dict(os.environ, AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION", "ap-southeast-3"),
               PYTHONPATH=layer_paths + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for name in functions.CAPABILITIES:
        app = capability_app(name)
        if not api_routes(app) and not event_handlers(app):
            continue  # nothing to deploy yet
        project = _project(name, spec)
        if name == "health":
            # the health function serves the whole API's OpenAPI document without importing other capabilities
            from functions.health.openapi import build as build_openapi

            with open(os.path.join(project, "vendor", "functions", "health", "openapi.generated.json"), "w",
                      encoding="utf-8") as fh:
                json.dump(build_openapi(), fh, separators=(",", ":"))
        out = os.path.join(project, "out")
        subprocess.run([chalice, "package", "--stage", "prod", "--pkg-format", "cloudformation", out],
                       cwd=project, env=env, check=True, stdout=subprocess.DEVNULL)
        staged = os.path.join(project, "staged")
        with zipfile.ZipFile(os.path.join(out, "deployment.zip")) as zf:
            zf.extractall(staged)
        _compile(staged)
        _zip_dir(staged, os.path.join(project, "deployment.zip"))
        shutil.rmtree(staged)


def _unzipped_size(path: str) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(info.file_size for info in zf.infolist())


def size_report(spec: dict) -> str:
    lines = ["| function | package (zipped) | package + layers (unzipped) | limit |", "|---|---:|---:|---|"]
    for name in functions.CAPABILITIES:
        settings = settings_for(spec, name)
        pkg = os.path.join(BUILD, "functions", name, "deployment.zip")
        if not os.path.exists(pkg):
            continue
        unzipped = _unzipped_size(pkg) + sum(_unzipped_size(os.path.join(BUILD, "layers", f"{layer}.zip"))
                                             for layer in settings["layers"])
        zipped = os.path.getsize(pkg)
        ok = "ok" if unzipped <= LIMIT_UNZIPPED and zipped <= LIMIT_ZIPPED else "OVER"
        lines.append(f"| {name} | {zipped / 1024:.0f} KiB | {unzipped / 1024 / 1024:.1f} MiB | {ok} |")
    return "\n".join(lines) + "\n"


def render_template(spec: dict) -> str:
    import yaml

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    header = ("# GENERATED by `python infra/build.py --template-only` from app.py's route table and infra/spec.json.\n"
              "# Do not edit by hand: CI fails when this file differs from what the code generates.\n")
    return header + yaml.dump(build_template(spec), Dumper=_NoAliases, sort_keys=False, width=120)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template-only", action="store_true")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--offline", action="store_true",
                        help="build the third-party layers from this interpreter's installed packages (no registry)")
    args = parser.parse_args(argv)
    spec = load_spec()
    rendered = render_template(spec)
    if args.check:
        with open(TEMPLATE_PATH, encoding="utf-8") as fh:
            if fh.read() != rendered:
                print("infra/template.yaml is out of date: run `python infra/build.py --template-only`",
                      file=sys.stderr)
                return 1
        print("infra/template.yaml is up to date")
        return 0
    with open(TEMPLATE_PATH, "w", encoding="utf-8") as fh:
        fh.write(rendered)
    if args.template_only:
        print(f"wrote {os.path.relpath(TEMPLATE_PATH, ROOT)}")
        return 0
    shutil.rmtree(BUILD, ignore_errors=True)
    build_layers(offline=args.offline)
    build_functions(spec)
    report = size_report(spec)
    with open(os.path.join(BUILD, "package-report.md"), "w", encoding="utf-8") as fh:
        fh.write(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
