"""The SAM template (infra/template.yaml), generated from app.py's route table (infra/units.py), infra/spec.json and
the settings registry, so code, configuration and deployment cannot drift (a test runs ``build.py --check``).

What an AWS reviewer expects is here: one function per capability (arm64 by default) behind one API and one
CloudFront origin; per-function roles that may read exactly their own SSM secrets (through the parameters' KMS
key) and send mail only as the SES identity; log groups with retention; alarms to an SNS topic; a payment webhook
with reserved concurrency; an SQS trigger with a maximum concurrency; a failure destination for the expiry schedule;
retained, versioned buckets; TLS to MySQL and Redis; SnapStart as an option (published versions behind an alias);
the caches' own allkeys-lru ElastiCache cluster; an API stage that only answers CloudFront (regional web ACL on a
secret origin header) and a generated us-east-1 template for the edge web ACL's per-client rate limits
(``render_edge`` → infra/edge-template.yaml); custom domain, TLS 1.2 and HSTS as parameters; API access logs, a
dashboard, latency and mail-age alarms; SSM/SQS interface endpoints.
"""
from __future__ import annotations

import json

from .units import Function, functions_of, load_spec, logical

RUNTIME = "python3.12"
CODE_LAYERS = {"core": "omcore", "mysql": "omdb", "auth": "omauth", "commerce": "omcommerce"}
THIRD_PARTY_LAYERS = ("deps", "imaging")
ALIAS = "live"
SECRETS_PARAMETER_ARN = ("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SecretsPrefix}/")

PERMISSIONS = {
    "ses-send": [{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"],
                  "Resource": {"Ref": "MailIdentityArn"}}],
    "s3-originals-write": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
                            "Resource": {"Fn::Sub": "${OriginalsBucket.Arn}/originals/*"}}],
    "s3-originals-read": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                           "Resource": {"Fn::Sub": "${OriginalsBucket.Arn}/originals/*"}},
                          {"Effect": "Allow", "Action": ["s3:ListBucket"],
                           "Resource": {"Fn::GetAtt": ["OriginalsBucket", "Arn"]}}],
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
    "sqs-mail-send": [{"Effect": "Allow", "Action": ["sqs:SendMessage"],
                       "Resource": {"Fn::GetAtt": ["MailQueue", "Arn"]}}],
    "sqs-mail": [{"Effect": "Allow",
                  "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                             "sqs:ChangeMessageVisibility"],
                  "Resource": {"Fn::GetAtt": ["MailQueue", "Arn"]}}],
    "expiry-failures": [{"Effect": "Allow", "Action": ["sqs:SendMessage"],
                         "Resource": {"Fn::GetAtt": ["ExpiryFailureQueue", "Arn"]}}],
}


# ---------------------------------------------------------------- environment from the settings registry

def _registry():
    from omcore import settings

    return settings


def parameter_name(setting) -> str:
    return logical(setting.name.lower())


def function_environment(fn: Function) -> dict:
    """The function's Environment.Variables: every setting its capability reads that the template provides."""
    from omcore.settings import Fixed, Param, Ssm

    variables = {}
    for setting in _registry().for_unit(fn.capability):
        if isinstance(setting.aws, Param):
            variables[setting.name] = {"Ref": parameter_name(setting)}
        elif isinstance(setting.aws, Ssm):
            variables[f"{setting.name}_SSM"] = {"Fn::Sub": "${SecretsPrefix}/" + setting.name}
        elif isinstance(setting.aws, Fixed):
            variables[setting.name] = setting.aws.value
    return variables


def secrets_of(fn: Function) -> list[str]:
    from omcore.settings import Ssm

    return [s.name for s in _registry().for_unit(fn.capability) if isinstance(s.aws, Ssm)]


def setting_parameters(functions: list[Function]) -> dict:
    from omcore.settings import Param

    used = {s.name for fn in functions for s in _registry().for_unit(fn.capability) if isinstance(s.aws, Param)}
    parameters = {}
    for setting in _registry().SETTINGS:
        if setting.name not in used:
            continue
        default = setting.aws.default if setting.aws.default is not None else setting.default
        entry = {"Type": "String", "Description": f"{setting.name}: {setting.doc}"[:250]}
        if default is not None and not setting.aws.required:
            entry["Default"] = str(default).lower() if isinstance(default, bool) else str(default)
        parameters[parameter_name(setting)] = entry
    return parameters


# ---------------------------------------------------------------- functions, roles, logs, alarms

def _role(fn: Function) -> dict:
    statements = []
    for permission in fn.settings["permissions"]:
        statements.extend(PERMISSIONS[permission])
    statements.append({"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                       "Resource": {"Fn::Sub": "${" + fn.logical + "Logs.Arn}:*"}})
    secrets = secrets_of(fn)
    if secrets:
        statements.append({"Effect": "Allow", "Action": ["ssm:GetParameters"],
                           "Resource": [{"Fn::Sub": SECRETS_PARAMETER_ARN + name} for name in secrets]})
        statements.append({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": {"Ref": "SecretsKmsKeyArn"},
                           "Condition": {"StringEquals": {
                               "kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}}}})
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            # ENI management for the VPC only: logs are granted above for this function's own log group
            "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                                              "AWSLambdaENIManagementAccess"}],
            "Policies": [{"PolicyName": "least-privilege",
                          "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
        },
    }


def _function(fn: Function) -> dict:
    settings = fn.settings
    props = {
        "CodeUri": f"../build/functions/{fn.capability}/deployment.zip",
        "Handler": fn.handler,
        "Runtime": RUNTIME,
        "Architectures": [{"Ref": "Architecture"}],
        "MemorySize": settings["memory"],
        "Timeout": settings["timeout"],
        "Role": {"Fn::GetAtt": [f"{fn.logical}Role", "Arn"]},
        "Layers": [{"Ref": f"{logical(layer)}Layer"} for layer in settings["layers"]],
        "VpcConfig": {"SubnetIds": {"Ref": "PrivateSubnetIds"},
                      "SecurityGroupIds": {"Ref": "LambdaSecurityGroupIds"}},
        "Environment": {"Variables": function_environment(fn)},
        "LoggingConfig": {"LogGroup": {"Ref": f"{fn.logical}Logs"}, "LogFormat": "Text"},
        "Tags": {"openmerce:capability": fn.capability},
    }
    if fn.kind == "api":
        props["AutoPublishAlias"] = ALIAS
        props["SnapStart"] = {"ApplyOn": {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}}
    if "reserved_concurrency" in settings:
        # a parameter: an account whose concurrency quota is still the new-account 10 cannot reserve 20 (0: none)
        props["ReservedConcurrentExecutions"] = {"Fn::If": ["ReserveWebhookConcurrency",
                                                            {"Ref": "WebhookReservedConcurrency"},
                                                            {"Ref": "AWS::NoValue"}]}
    if fn.kind == "schedule":
        expression = fn.source.schedule_expression
        props["Events"] = {"Schedule": {"Type": "Schedule", "Properties": {
            "Schedule": expression if isinstance(expression, str) else expression.to_string(),
            "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600},
            "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["ExpiryFailureQueue", "Arn"]}}}}}
        props["EventInvokeConfig"] = {"MaximumRetryAttempts": 2, "DestinationConfig": {"OnFailure": {
            "Type": "SQS", "Destination": {"Fn::GetAtt": ["ExpiryFailureQueue", "Arn"]}}}}
    elif fn.kind == "sqs":
        props["Events"] = {"Queue": {"Type": "SQS", "Properties": {
            "Queue": {"Fn::GetAtt": [settings.get("queue", "ImagesQueue"), "Arn"]}, "BatchSize": fn.source.batch_size or 10,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": settings.get("max_concurrency", 5)}}}}
    return {"Type": "AWS::Serverless::Function", "Properties": props}


def _log_group(fn: Function) -> dict:
    return {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": {"LogGroupName": {"Fn::Sub": "/openmerce/${AWS::StackName}/" + fn.logical},
                           "RetentionInDays": {"Ref": "LogRetentionDays"}}}


def _alarm(description: str, namespace: str, metric: str, dimensions: list, threshold: float = 0,
           statistic: str = "Sum", period: int = 300, periods: int = 1) -> dict:
    stat = {"ExtendedStatistic": statistic} if statistic.startswith("p") else {"Statistic": statistic}
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": description, "Namespace": namespace, "MetricName": metric, "Dimensions": dimensions,
        **stat, "Period": period, "EvaluationPeriods": periods, "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": "AlarmTopicArn"}], "OKActions": [{"Ref": "AlarmTopicArn"}]}}


def _alarms(functions: list[Function]) -> dict:
    alarms = {}
    for fn in functions:
        dims = [{"Name": "FunctionName", "Value": {"Ref": fn.logical}}]
        alarms[f"{fn.logical}ErrorsAlarm"] = _alarm(f"{fn.logical}: invocations failed", "AWS/Lambda", "Errors", dims)
        alarms[f"{fn.logical}ThrottlesAlarm"] = _alarm(f"{fn.logical}: invocations throttled", "AWS/Lambda",
                                                      "Throttles", dims)
    api_dims = [{"Name": "ApiName", "Value": {"Ref": "AWS::StackName"}},
                {"Name": "Stage", "Value": {"Ref": "ApiStageName"}}]
    alarms["Api5xxAlarm"] = _alarm("API: 5xx answers", "AWS/ApiGateway", "5XXError", api_dims, threshold=5)
    alarms["WebhookFailuresAlarm"] = _alarm(
        "Midtrans webhook answered 5xx (Midtrans retries; payments may be waiting)", "AWS/ApiGateway", "5XXError",
        api_dims + [{"Name": "Resource", "Value": "/api/v1/webhook/midtrans"}, {"Name": "Method", "Value": "POST"}])
    # slow, not failing: p99 of the whole API above 3 s for 15 minutes (checkout calls Midtrans; 3 s is far above it)
    alarms["ApiLatencyAlarm"] = _alarm("API: p99 latency above 3 s for 15 minutes (docs/runbook.md)",
                                       "AWS/ApiGateway", "Latency", api_dims, threshold=3000, statistic="p99",
                                       periods=3)
    # order mails stuck: the oldest message of the mail queue older than 15 minutes (SES throttled or failing)
    alarms["MailQueueAgeAlarm"] = _alarm("Order mails waiting longer than 15 minutes in the mail queue", "AWS/SQS",
                                         "ApproximateAgeOfOldestMessage",
                                         [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["MailQueue", "QueueName"]}}],
                                         threshold=900, statistic="Maximum")
    # the edge: many requests blocked at the API stage means someone calls the origin around CloudFront
    alarms["OriginBypassAlarm"] = _alarm("Requests to the API stage without CloudFront's origin header (blocked)",
                                         "AWS/WAFV2", "BlockedRequests",
                                         [{"Name": "WebACL", "Value": {"Fn::Sub": "${AWS::StackName}-api"}},
                                          {"Name": "Region", "Value": {"Ref": "AWS::Region"}},
                                          {"Name": "Rule", "Value": "only-through-cloudfront"}], threshold=100)
    for queue in ("ImagesDeadLetterQueue", "ExpiryFailureQueue", "MailDeadLetterQueue"):
        alarms[f"{queue}DepthAlarm"] = _alarm(f"{queue}: messages waiting (failed work)", "AWS/SQS",
                                              "ApproximateNumberOfMessagesVisible",
                                              [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
                                              statistic="Maximum")
    return alarms


# ---------------------------------------------------------------- the template

def _parameters(functions: list[Function]) -> dict:
    parameters = {
        "Architecture": {"Type": "String", "Default": "arm64", "AllowedValues": ["arm64", "x86_64"],
                         "Description": "CPU of every function; build the layers for the same (make package "
                                        "ARCH=x86_64). arm64 (Graviton) costs less per GB-s"},
        "EnableSnapStart": {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
                            "Description": "SnapStart for the API functions (published versions behind the "
                                           f"'{ALIAS}' alias either way)"},
        "SecretsPrefix": {"Type": "String", "Default": "/openmerce/prod", "AllowedPattern": "^/[A-Za-z0-9/_.-]+$",
                          "Description": "SSM path holding the SecureString secrets"},
        "SecretsKmsKeyArn": {"Type": "String", "AllowedPattern": "^arn:aws[a-z-]*:kms:.+$",
                             "Description": "ARN of the KMS key that encrypts the SSM SecureString secrets "
                                           "(functions may decrypt with it only through SSM)"},
        "MailIdentityArn": {"Type": "String", "AllowedPattern": "^arn:aws[a-z-]*:ses:.+$",
                            "Description": "ARN of the verified SES identity mail is sent as "
                                           "(arn:aws:ses:REGION:ACCOUNT:identity/example.com)"},
        "AlarmTopicArn": {"Type": "String", "AllowedPattern": "^arn:aws[a-z-]*:sns:.+$",
                          "Description": "SNS topic alarms notify"},
        "LogRetentionDays": {"Type": "Number", "Default": 30,
                             "AllowedValues": [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731],
                             "Description": "days function logs are kept"},
        "VpcId": {"Type": "AWS::EC2::VPC::Id", "Description": "VPC of the database, Redis and functions"},
        "PrivateSubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>",
                             "Description": "private subnets with a NAT route (Midtrans, freight provider)"},
        "PrivateRouteTableIds": {"Type": "CommaDelimitedList",
                                 "Description": "route tables of the private subnets (for the S3 gateway endpoint)"},
        "LambdaSecurityGroupIds": {"Type": "List<AWS::EC2::SecurityGroup::Id>",
                                   "Description": "security groups allowed into RDS Proxy and Redis"},
        "StorefrontOriginDomain": {"Type": "String",
                                   "Description": "host name serving the storefront SPA (and, with DomainName, the "
                                                  "staff UI for staff.DomainName: the Host header is forwarded)"},
        "DomainName": {"Type": "String", "Default": "", "AllowedPattern": "^([a-z0-9-]+\\.)+[a-z]{2,}$|^$",
                       "Description": "the shop's domain (shop.example): the distribution answers it and "
                                      "staff.<it>; empty: only the cloudfront.net name"},
        "CertificateArn": {"Type": "String", "Default": "", "AllowedPattern": "^arn:aws[a-z-]*:acm:us-east-1:.+$|^$",
                           "Description": "ACM certificate in us-east-1 covering DomainName and staff.DomainName"},
        "EdgeWebAclArn": {"Type": "String", "AllowedPattern": "^arn:aws[a-z-]*:wafv2:us-east-1:.+:global/webacl/.+$",
                          "Description": "the CloudFront web ACL (per-client rate limits) that infra/edge-template.yaml "
                                         "creates in us-east-1: its WebAclArn output"},
        "OriginVerifySecret": {"Type": "String", "NoEcho": True, "MinLength": 32, "AllowedPattern": "^[A-Za-z0-9]+$",
                               "Description": "random token CloudFront sends to the API (X-Origin-Verify); the API "
                                              "stage's web ACL blocks requests without it (openssl rand -hex 24)"},
        "WebhookRateLimit": {"Type": "Number", "Default": 50,
                             "Description": "requests per second API Gateway lets through to the Midtrans webhook "
                                            "(its own bucket: a scraper's 429s never reach Midtrans)"},
        "WebhookReservedConcurrency": {"Type": "Number", "Default": 20, "MinValue": 0,
                                       "Description": "concurrency reserved for the Midtrans webhook (needs the "
                                                      "account's Lambda quota above it + 10; 0: none reserved)"},
        "CacheNodeType": {"Type": "String", "Default": "cache.t4g.small",
                          "Description": "node type of the cache Redis (allkeys-lru) the stack creates"},
        "InterfaceEndpoints": {"Type": "String", "Default": "true", "AllowedValues": ["true", "false"],
                               "Description": "VPC interface endpoints for SSM and SQS (traffic off the NAT gateway)"},
        "ApiStageName": {"Type": "String", "Default": "prod", "AllowedPattern": "^[a-z0-9]+$"},
    }
    parameters.update(setting_parameters(functions))
    return parameters


def build_template(spec: dict | None = None) -> dict:
    spec = spec or load_spec()
    functions = functions_of(spec)
    resources: dict = {}
    for layer in THIRD_PARTY_LAYERS + tuple(CODE_LAYERS):
        resources[f"{logical(layer)}Layer"] = {
            "Type": "AWS::Serverless::LayerVersion",
            "Properties": {"LayerName": {"Fn::Sub": "${AWS::StackName}-" + layer},
                           "ContentUri": f"../build/layers/{layer}.zip",
                           "CompatibleRuntimes": [RUNTIME], "CompatibleArchitectures": [{"Ref": "Architecture"}],
                           "RetentionPolicy": "Delete"}}

    paths: dict = {}
    for fn in functions:
        resources[f"{fn.logical}Role"] = _role(fn)
        resources[f"{fn.logical}Logs"] = _log_group(fn)
        resources[fn.logical] = _function(fn)
        if fn.kind != "api":
            continue
        target = {"Ref": f"{fn.logical}Alias{ALIAS}"}  # the alias SAM makes for AutoPublishAlias
        resources[f"{fn.logical}ApiPermission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {"Action": "lambda:InvokeFunction", "FunctionName": target,
                           "Principal": "apigateway.amazonaws.com",
                           "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                                                    "${AWS::AccountId}:${Api}/*"}}}
        from .units import api_routes, capability_app

        for path, method in api_routes(capability_app(fn.capability)):
            paths.setdefault(path, {})[method.lower()] = {
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy", "httpMethod": "POST", "passthroughBehavior": "when_no_match",
                    "timeoutInMillis": fn.settings["timeout"] * 1000,
                    "uri": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
                                       "functions/${" + fn.logical + "Alias" + ALIAS + "}/invocations"}},
                "responses": {}}

    resources["Api"] = {
        "Type": "AWS::Serverless::Api",
        "Properties": {
            "Name": {"Ref": "AWS::StackName"},
            "StageName": {"Ref": "ApiStageName"},
            "EndpointConfiguration": {"Type": "REGIONAL"},
            "BinaryMediaTypes": ["multipart~1form-data", "application~1octet-stream", "image~1*"],
            "DefinitionBody": {"swagger": "2.0", "info": {"title": {"Ref": "AWS::StackName"}, "version": "1.0"},
                               "schemes": ["https"], "paths": paths,
                               "x-amazon-apigateway-binary-media-types": ["multipart/form-data",
                                                                          "application/octet-stream", "image/*"]},
            # per-method metrics: the webhook's own 5xx alarm needs them; the webhook has its own throttle
            "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingBurstLimit": 200,
                                "ThrottlingRateLimit": 100, "MetricsEnabled": True},
                               {"ResourcePath": "/api~1v1~1webhook~1midtrans", "HttpMethod": "POST",
                                "ThrottlingBurstLimit": 100, "ThrottlingRateLimit": {"Ref": "WebhookRateLimit"},
                                "MetricsEnabled": True}],
            # one JSON line per request (the log queries of docs/runbook.md); needs API Gateway's account-level
            # CloudWatch role (docs/deploy-aws.md, prerequisites)
            "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}, "Format": json.dumps({
                "requestId": "$context.requestId", "ip": "$context.identity.sourceIp",
                "method": "$context.httpMethod", "path": "$context.path", "status": "$context.status",
                "latencyMs": "$context.responseLatency", "integrationMs": "$context.integration.latency",
                "bytes": "$context.responseLength", "waf": "$context.wafResponseCode",
                "error": "$context.error.message"}, separators=(",", ":"))},
        }}
    resources["ApiAccessLogs"] = {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain",
                                  "UpdateReplacePolicy": "Retain", "Properties": {
                                      "LogGroupName": {"Fn::Sub": "/openmerce/${AWS::StackName}/api-access"},
                                      "RetentionInDays": {"Ref": "LogRetentionDays"}}}
    resources.update(_storage_resources())
    resources.update(_network_and_edge_resources())
    resources.update(_alarms(functions))
    resources.update(_cache_resources())
    resources.update(_waf_resources())
    resources["Dashboard"] = _dashboard(functions)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "Openmerce Serverless: one Lambda function per capability behind one API origin "
                       "(generated by infra/build.py from app.py's route table; do not edit by hand)",
        "Parameters": _parameters(functions),
        "Conditions": {"SnapStartOn": {"Fn::Equals": [{"Ref": "EnableSnapStart"}, "true"]},
                       "HasDomain": {"Fn::Not": [{"Fn::Equals": [{"Ref": "DomainName"}, ""]}]},
                       "EndpointsOn": {"Fn::Equals": [{"Ref": "InterfaceEndpoints"}, "true"]},
                       "ReserveWebhookConcurrency": {"Fn::Not": [{"Fn::Equals": [
                           {"Ref": "WebhookReservedConcurrency"}, "0"]}]}},
        "Rules": {"CertificateWithDomain": {
            "RuleCondition": {"Fn::Not": [{"Fn::Equals": [{"Ref": "DomainName"}, ""]}]},
            "Assertions": [{"Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]},
                            "AssertDescription": "a DomainName needs its CertificateArn (ACM, us-east-1)"}]}},
        "Resources": resources,
        "Outputs": {
            "PublicOrigin": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]}},
            "MidtransNotificationUrl": {"Value": {"Fn::If": [
                "HasDomain", {"Fn::Sub": "https://${DomainName}/api/v1/webhook/midtrans"},
                {"Fn::Sub": "https://${Distribution.DomainName}/api/v1/webhook/midtrans"}]}},
            "DashboardUrl": {"Value": {"Fn::Sub": "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home"
                                                  "?region=${AWS::Region}#dashboards:name=${Dashboard}"}},
            "OriginalsBucketName": {"Value": {"Ref": "OriginalsBucket"}},
            "PublicBucketName": {"Value": {"Ref": "PublicBucket"}},
        },
    }


def _bucket(extra: dict | None = None) -> dict:
    props = {
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "VersioningConfiguration": {"Status": "Enabled"},
        "LifecycleConfiguration": {"Rules": [
            {"Id": "abort-incomplete-uploads", "Status": "Enabled",
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
            {"Id": "expire-old-versions", "Status": "Enabled",
             "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]},
    }
    props.update(extra or {})
    # a stack deletion or replacement must never take the shop's images with it
    return {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": props}


def _queue(props: dict) -> dict:
    return {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": dict({"SqsManagedSseEnabled": True}, **props)}


def _storage_resources() -> dict:
    originals = _bucket({
        "BucketName": {"Fn::Sub": "${AWS::StackName}-originals-${AWS::AccountId}"},
        "NotificationConfiguration": {"QueueConfigurations": [{
            "Event": "s3:ObjectCreated:*", "Queue": {"Fn::GetAtt": ["ImagesQueue", "Arn"]},
            "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "originals/"}]}}}]},
    })
    originals["DependsOn"] = "ImagesQueuePolicy"
    return {
        "ImagesDeadLetterQueue": _queue({"MessageRetentionPeriod": 1209600}),
        "ImagesQueue": _queue({
            "VisibilityTimeout": 720, "MessageRetentionPeriod": 345600,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["ImagesDeadLetterQueue", "Arn"]},
                              "maxReceiveCount": 5}}),
        "ExpiryFailureQueue": _queue({"MessageRetentionPeriod": 1209600}),
        # order mails (omcommerce.outbox): the API functions enqueue outbox row ids after the commit, checkout's
        # deliver_mail sends them; what fails five times waits in the DLQ (the outbox row stays pending for the sweep)
        "MailDeadLetterQueue": _queue({"MessageRetentionPeriod": 1209600}),
        "MailQueue": _queue({
            "VisibilityTimeout": 360, "MessageRetentionPeriod": 345600,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["MailDeadLetterQueue", "Arn"]},
                              "maxReceiveCount": 5}}),
        "ExpiryFailureQueuePolicy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": "ExpiryFailureQueue"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": ["ExpiryFailureQueue", "Arn"]},
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]}}},
        "ImagesQueuePolicy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": "ImagesQueue"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": ["ImagesQueue", "Arn"]},
                "Condition": {"ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:s3:::"
                                                                       "${AWS::StackName}-originals-*"}},
                              "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]}}},
        "OriginalsBucket": originals,
        "PublicBucket": _bucket(),
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
        # SSM (secrets at cold start) and SQS (mail and image queues) without the NAT gateway
        "EndpointSecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Condition": "EndpointsOn", "Properties": {
            "GroupDescription": "HTTPS from the functions to the VPC interface endpoints", "VpcId": {"Ref": "VpcId"},
            "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                      "SourceSecurityGroupId": {"Fn::Select": [0, {"Ref": "LambdaSecurityGroupIds"}]}}]}},
        **{f"{name}InterfaceEndpoint": {"Type": "AWS::EC2::VPCEndpoint", "Condition": "EndpointsOn", "Properties": {
            "VpcEndpointType": "Interface", "VpcId": {"Ref": "VpcId"}, "PrivateDnsEnabled": True,
            "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}." + service},
            "SubnetIds": {"Ref": "PrivateSubnetIds"}, "SecurityGroupIds": [{"Ref": "EndpointSecurityGroup"}]}}
           for name, service in (("Ssm", "ssm"), ("Sqs", "sqs"))},
        "PublicBucketOriginAccessControl": {"Type": "AWS::CloudFront::OriginAccessControl", "Properties": {
            "OriginAccessControlConfig": {"Name": {"Fn::Sub": "${AWS::StackName}-usercontent"},
                                          "OriginAccessControlOriginType": "s3", "SigningBehavior": "always",
                                          "SigningProtocol": "sigv4"}}},
        "EdgeLogsBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                           "Properties": {
            # CloudFront's standard logs are written with an ACL: the bucket must accept ACLs (owner preferred)
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "LifecycleConfiguration": {"Rules": [{"Id": "expire-logs", "Status": "Enabled",
                                                  "ExpirationInDays": 90}]}}},
        "SecurityHeaders": {"Type": "AWS::CloudFront::ResponseHeadersPolicy", "Properties": {
            "ResponseHeadersPolicyConfig": {"Name": {"Fn::Sub": "${AWS::StackName}-security-headers"},
                                            "SecurityHeadersConfig": {
                "StrictTransportSecurity": {"AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True,
                                            "Preload": False, "Override": True},
                "ContentTypeOptions": {"Override": True},
                "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": False}}}}},
        # staff.<domain> and <domain> are two apps behind one origin host: the Host header goes to the origin and
        # is part of the cache key, so one host's pages are never served for the other
        "HostCachePolicy": {"Type": "AWS::CloudFront::CachePolicy", "Properties": {"CachePolicyConfig": {
            "Name": {"Fn::Sub": "${AWS::StackName}-by-host"}, "DefaultTTL": 86400, "MaxTTL": 31536000,
            "MinTTL": 0, "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": True,
                "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": ["Host"]},
                "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}}}}},
        # cfn-lint resolves CertificateArn's empty default, which the HasDomain condition never uses
        "Distribution": {"Type": "AWS::CloudFront::Distribution",
                         "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W1030"]}}},
                         "Properties": {"DistributionConfig": {
            "Enabled": True, "HttpVersion": "http2and3", "Comment": {"Ref": "AWS::StackName"},
            "Aliases": {"Fn::If": ["HasDomain", [{"Ref": "DomainName"}, {"Fn::Sub": "staff.${DomainName}"}],
                                   {"Ref": "AWS::NoValue"}]},
            "ViewerCertificate": {"Fn::If": ["HasDomain",
                                             {"AcmCertificateArn": {"Ref": "CertificateArn"},
                                              "SslSupportMethod": "sni-only",
                                              "MinimumProtocolVersion": "TLSv1.2_2021"},
                                             {"CloudFrontDefaultCertificate": True}]},
            "WebACLId": {"Ref": "EdgeWebAclArn"},
            "Logging": {"Bucket": {"Fn::GetAtt": ["EdgeLogsBucket", "RegionalDomainName"]},
                        "Prefix": "cloudfront/", "IncludeCookies": False},
            "Origins": [
                {"Id": "storefront", "DomainName": {"Ref": "StorefrontOriginDomain"},
                 "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"}},
                {"Id": "api", "DomainName": {"Fn::Sub": "${Api}.execute-api.${AWS::Region}.amazonaws.com"},
                 "OriginPath": {"Fn::Sub": "/${ApiStageName}"},
                 "OriginCustomHeaders": [{"HeaderName": "X-Origin-Verify", "HeaderValue": {"Ref": "OriginVerifySecret"}}],
                 "CustomOriginConfig": {"OriginProtocolPolicy": "https-only",
                                        "OriginSSLProtocols": ["TLSv1.2"]}},
                {"Id": "usercontent", "DomainName": {"Fn::GetAtt": ["PublicBucket", "RegionalDomainName"]},
                 "S3OriginConfig": {"OriginAccessIdentity": ""},
                 "OriginAccessControlId": {"Fn::GetAtt": ["PublicBucketOriginAccessControl", "Id"]}},
            ],
            "DefaultCacheBehavior": {"TargetOriginId": "storefront", "ViewerProtocolPolicy": "redirect-to-https",
                                     "CachePolicyId": {"Fn::If": ["HasDomain", {"Ref": "HostCachePolicy"},
                                                                  caching_optimized]},
                                     "ResponseHeadersPolicyId": {"Ref": "SecurityHeaders"}, "Compress": True},
            "CacheBehaviors": [
                {"PathPattern": "/api/*", "TargetOriginId": "api", "ViewerProtocolPolicy": "redirect-to-https",
                 "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                 "CachePolicyId": caching_disabled, "OriginRequestPolicyId": all_viewer_except_host,
                 "ResponseHeadersPolicyId": {"Ref": "SecurityHeaders"}, "Compress": True},
                # the order desk and the reset page (functions/desk) are served by the API on the UIs' own host:
                # the staff cookies are host-only and SameSite=Strict (docs/desk.md)
                *({"PathPattern": pattern, "TargetOriginId": "api", "ViewerProtocolPolicy": "redirect-to-https",
                   "AllowedMethods": ["GET", "HEAD"], "CachePolicyId": caching_disabled,
                   "OriginRequestPolicyId": all_viewer_except_host,
                   "ResponseHeadersPolicyId": {"Ref": "SecurityHeaders"}, "Compress": True}
                  for pattern in ("/desk*", "/account/reset*")),
                {"PathPattern": "/usercontent/*", "TargetOriginId": "usercontent",
                 "ViewerProtocolPolicy": "redirect-to-https", "CachePolicyId": caching_optimized,
                 "ResponseHeadersPolicyId": {"Ref": "SecurityHeaders"}, "Compress": False},
            ],
        }}},
    }


def _cache_resources() -> dict:
    """The cache Redis (REDIS_CACHE_*): its own ElastiCache cluster with allkeys-lru, so anonymous traffic filling
    caches evicts cache entries, never the sessions in the operator's noeviction Redis."""
    return {
        "CacheParameterGroup": {"Type": "AWS::ElastiCache::ParameterGroup", "Properties": {
            "CacheParameterGroupFamily": "redis7", "Description": "openmerce caches: evict least recently used",
            "Properties": {"maxmemory-policy": "allkeys-lru"}}},
        "CacheSubnetGroup": {"Type": "AWS::ElastiCache::SubnetGroup", "Properties": {
            "Description": "openmerce cache Redis", "SubnetIds": {"Ref": "PrivateSubnetIds"}}},
        "CacheSecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "cache Redis: 6379 from the functions", "VpcId": {"Ref": "VpcId"},
            "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
                                      "SourceSecurityGroupId": {"Fn::Select": [0, {"Ref": "LambdaSecurityGroupIds"}]}}]}},
        "CacheReplicationGroup": {"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": {
            "ReplicationGroupDescription": "openmerce caches (allkeys-lru, no persistence)",
            "Engine": "redis", "EngineVersion": "7.1", "CacheNodeType": {"Ref": "CacheNodeType"},
            "NumCacheClusters": 1, "AutomaticFailoverEnabled": False,
            "CacheParameterGroupName": {"Ref": "CacheParameterGroup"},
            "CacheSubnetGroupName": {"Ref": "CacheSubnetGroup"},
            "SecurityGroupIds": [{"Ref": "CacheSecurityGroup"}],
            "TransitEncryptionEnabled": True, "AtRestEncryptionEnabled": True, "SnapshotRetentionLimit": 0}},
    }


def _waf_resources() -> dict:
    """The API stage's web ACL: only requests that came through CloudFront (its secret origin header) get in, so
    the edge's rate limits cannot be bypassed through the execute-api host."""
    return {
        "ApiWebAcl": {"Type": "AWS::WAFv2::WebACL", "Properties": {
            "Name": {"Fn::Sub": "${AWS::StackName}-api"}, "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
            "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                 "MetricName": {"Fn::Sub": "${AWS::StackName}-api"}},
            "Rules": [{
                "Name": "only-through-cloudfront", "Priority": 0, "Action": {"Block": {}},
                "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                     "MetricName": "only-through-cloudfront"},
                "Statement": {"NotStatement": {"Statement": {"ByteMatchStatement": {
                    "FieldToMatch": {"SingleHeader": {"Name": "x-origin-verify"}},
                    "PositionalConstraint": "EXACTLY", "SearchString": {"Ref": "OriginVerifySecret"},
                    "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}}}}]}},
        "ApiWebAclAssociation": {"Type": "AWS::WAFv2::WebACLAssociation", "DependsOn": "ApiStage", "Properties": {
            "ResourceArn": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/"
                                       "${ApiStageName}"},
            "WebACLArn": {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}}},
    }


def _dashboard(functions: list[Function]) -> dict:
    """One CloudWatch dashboard: traffic, errors and latency of the API, each function's errors and duration, the
    queues, and the edge's blocked requests (docs/runbook.md says what to look at when)."""
    api = ["AWS/ApiGateway", "{metric}", "ApiName", "${AWS::StackName}", "Stage", "${ApiStageName}"]

    def metric(template, name, **extra):
        return [part.replace("{metric}", name) for part in template] + ([extra] if extra else [])

    def widget(title, metrics, x, y, stat="Sum"):
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
                "properties": {"title": title, "region": "${AWS::Region}", "stat": stat, "period": 300,
                               "metrics": metrics}}

    lambdas = [["AWS/Lambda", "Errors", "FunctionName", "${" + fn.logical + "}"] for fn in functions]
    durations = [["AWS/Lambda", "Duration", "FunctionName", "${" + fn.logical + "}"] for fn in functions]
    queues = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${" + q + ".QueueName}"]
              for q in ("ImagesDeadLetterQueue", "ExpiryFailureQueue", "MailDeadLetterQueue")]
    queues.append(["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "${MailQueue.QueueName}",
                   {"yAxis": "right"}])
    body = {"widgets": [
        widget("API requests, 4xx, 5xx", [metric(api, "Count"), metric(api, "4XXError"), metric(api, "5XXError")],
               0, 0),
        widget("API latency p50 / p99 (ms)", [metric(api, "Latency", stat="p50"), metric(api, "Latency", stat="p99")],
               12, 0, stat="p99"),
        widget("Function errors", lambdas, 0, 6),
        widget("Function duration p99 (ms)", durations, 12, 6, stat="p99"),
        widget("Failed work (DLQ depth) and mail queue age (s, right)", queues, 0, 12, stat="Maximum"),
        widget("Webhook requests and 5xx", [
            metric(api + ["Resource", "/api/v1/webhook/midtrans", "Method", "POST"], "Count"),
            metric(api + ["Resource", "/api/v1/webhook/midtrans", "Method", "POST"], "5XXError")], 12, 12),
    ]}
    return {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
        "DashboardName": {"Fn::Sub": "${AWS::StackName}"},
        "DashboardBody": {"Fn::Sub": json.dumps(body, separators=(",", ":"))}}}


def render_edge() -> str:
    """infra/edge-template.yaml: the CloudFront web ACL, which AWS only accepts in us-east-1 (deploy it there first;
    its WebAclArn output is the main stack's EdgeWebAclArn)."""
    import yaml

    def rate(name, priority, limit, path=None):
        statement = {"RateBasedStatement": {"Limit": {"Ref": limit}, "AggregateKeyType": "IP",
                                            "EvaluationWindowSec": 300}}
        if path:
            statement["RateBasedStatement"]["ScopeDownStatement"] = {"ByteMatchStatement": {
                "FieldToMatch": {"UriPath": {}}, "PositionalConstraint": "STARTS_WITH", "SearchString": path,
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}
        return {"Name": name, "Priority": priority, "Action": {"Block": {"CustomResponse": {"ResponseCode": 429}}},
                "Statement": statement,
                "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                     "MetricName": name}}

    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Openmerce edge web ACL for CloudFront (deploy in us-east-1; generated by infra/build.py)",
        "Parameters": {
            "RequestsPer5MinPerIp": {"Type": "Number", "Default": 3000, "MinValue": 100,
                                     "Description": "requests one client IP may send in 5 minutes (all paths)"},
            "ApiRequestsPer5MinPerIp": {"Type": "Number", "Default": 1500, "MinValue": 100,
                                        "Description": "requests one client IP may send to /api/ in 5 minutes"},
            "WebhookPer5MinPerIp": {"Type": "Number", "Default": 3000, "MinValue": 100,
                                    "Description": "Midtrans webhook calls per sender IP in 5 minutes (its own "
                                                   "budget, so a scraper never makes Midtrans' notifications fail)"},
        },
        "Resources": {"EdgeWebAcl": {"Type": "AWS::WAFv2::WebACL", "Properties": {
            "Name": {"Fn::Sub": "${AWS::StackName}-edge"}, "Scope": "CLOUDFRONT", "DefaultAction": {"Allow": {}},
            "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                 "MetricName": {"Fn::Sub": "${AWS::StackName}-edge"}},
            "Rules": [
                rate("webhook-per-ip", 0, "WebhookPer5MinPerIp", "/api/v1/webhook/"),
                # everything but the webhook from here on: the webhook rule above is its only limit
                {**rate("api-per-ip", 1, "ApiRequestsPer5MinPerIp", "/api/"), "Statement": {"RateBasedStatement": {
                    "Limit": {"Ref": "ApiRequestsPer5MinPerIp"}, "AggregateKeyType": "IP", "EvaluationWindowSec": 300,
                    "ScopeDownStatement": {"AndStatement": {"Statements": [
                        {"ByteMatchStatement": {"FieldToMatch": {"UriPath": {}}, "PositionalConstraint": "STARTS_WITH",
                                                "SearchString": "/api/",
                                                "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}},
                        {"NotStatement": {"Statement": {"ByteMatchStatement": {
                            "FieldToMatch": {"UriPath": {}}, "PositionalConstraint": "STARTS_WITH",
                            "SearchString": "/api/v1/webhook/",
                            "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}}}]}}}}},
                {**rate("all-per-ip", 2, "RequestsPer5MinPerIp"), "Statement": {"RateBasedStatement": {
                    "Limit": {"Ref": "RequestsPer5MinPerIp"}, "AggregateKeyType": "IP", "EvaluationWindowSec": 300,
                    "ScopeDownStatement": {"NotStatement": {"Statement": {"ByteMatchStatement": {
                        "FieldToMatch": {"UriPath": {}}, "PositionalConstraint": "STARTS_WITH",
                        "SearchString": "/api/v1/webhook/",
                        "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}}}}}},
                {"Name": "aws-common", "Priority": 3, "OverrideAction": {"None": {}},
                 "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet",
                                                             "ExcludedRules": [{"Name": "SizeRestrictions_BODY"}]}},
                 "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                      "MetricName": "aws-common"}},
            ]}}},
        "Outputs": {"WebAclArn": {"Value": {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}}},
    }
    header = "# GENERATED by `python infra/build.py --template-only` (infra/template.py render_edge). Do not edit.\n"
    return header + yaml.safe_dump(template, sort_keys=False, width=120)


def render(spec: dict | None = None) -> str:
    import yaml

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    header = ("# GENERATED by `python infra/build.py --template-only` from app.py's route table, infra/spec.json and\n"
              "# the settings registry (layers/core/python/omcore/settings.py). Do not edit by hand: CI fails when\n"
              "# this file differs from what the code generates.\n")
    return header + yaml.dump(build_template(spec), Dumper=_NoAliases, sort_keys=False, width=120)
