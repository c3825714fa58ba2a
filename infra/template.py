"""The SAM template (infra/template.yaml), generated from app.py's route table (infra/units.py), infra/spec.json and
the settings registry, so code, configuration and deployment cannot drift (a test runs ``build.py --check``).

What an AWS reviewer expects is here: one function per capability (arm64 by default) behind one API and one
CloudFront origin; per-function roles that may read exactly their own SSM secrets (through the parameters' KMS
key) and send mail only as the SES identity; log groups with retention; alarms to an SNS topic; a payment webhook
with reserved concurrency; an SQS trigger with a maximum concurrency; a failure destination for the expiry schedule;
retained, versioned buckets; TLS to MySQL and Redis; SnapStart as an option (published versions behind an alias).
"""
from __future__ import annotations

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
        props["ReservedConcurrentExecutions"] = settings["reserved_concurrency"]
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
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": description, "Namespace": namespace, "MetricName": metric, "Dimensions": dimensions,
        "Statistic": statistic, "Period": period, "EvaluationPeriods": periods, "Threshold": threshold,
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
        "StorefrontOriginDomain": {"Type": "String", "Description": "host name serving the storefront SPA"},
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
            # per-method metrics: the webhook's own 5xx alarm needs them
            "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingBurstLimit": 200,
                                "ThrottlingRateLimit": 100, "MetricsEnabled": True}],
        }}
    resources.update(_storage_resources())
    resources.update(_network_and_edge_resources())
    resources.update(_alarms(functions))
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "Openmerce Serverless: one Lambda function per capability behind one API origin "
                       "(generated by infra/build.py from app.py's route table; do not edit by hand)",
        "Parameters": _parameters(functions),
        "Conditions": {"SnapStartOn": {"Fn::Equals": [{"Ref": "EnableSnapStart"}, "true"]}},
        "Resources": resources,
        "Outputs": {
            "ApiUrl": {"Value": {"Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/"
                                            "${ApiStageName}"}},
            "PublicOrigin": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]}},
            "MidtransNotificationUrl": {"Value": {"Fn::Sub": "https://${Distribution.DomainName}/api/v1/webhook/"
                                                             "midtrans"}},
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
                # the order desk and the reset page (functions/desk) are served by the API on the UIs' own host:
                # the staff cookies are host-only and SameSite=Strict (docs/desk.md)
                *({"PathPattern": pattern, "TargetOriginId": "api", "ViewerProtocolPolicy": "redirect-to-https",
                   "AllowedMethods": ["GET", "HEAD"], "CachePolicyId": caching_disabled,
                   "OriginRequestPolicyId": all_viewer_except_host, "Compress": True}
                  for pattern in ("/desk*", "/account/reset*")),
                {"PathPattern": "/usercontent/*", "TargetOriginId": "usercontent",
                 "ViewerProtocolPolicy": "redirect-to-https", "CachePolicyId": caching_optimized,
                 "Compress": False},
            ],
        }}},
    }


def render(spec: dict | None = None) -> str:
    import yaml

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    header = ("# GENERATED by `python infra/build.py --template-only` from app.py's route table, infra/spec.json and\n"
              "# the settings registry (layers/core/python/omcore/settings.py). Do not edit by hand: CI fails when\n"
              "# this file differs from what the code generates.\n")
    return header + yaml.dump(build_template(spec), Dumper=_NoAliases, sort_keys=False, width=120)
