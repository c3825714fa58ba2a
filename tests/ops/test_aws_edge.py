"""The AWS template's edge, cache and monitoring (infra/template.py → infra/template.yaml, infra/edge-template.yaml;
cfn-lint and the drift check run in tests/infra): the origin only answers CloudFront, per-client rate limits at
the edge with the webhook apart, the custom domain as parameters, the caches on their own allkeys-lru cluster,
access logs, the dashboard and the latency/mail-age alarms."""
import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _Loader(yaml.SafeLoader):
    pass


def _load(name):
    with open(os.path.join(ROOT, "infra", name), encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_Loader)


def test_the_api_stage_only_answers_requests_that_came_through_cloudfront():
    template = _load("template.yaml")
    res = template["Resources"]
    api_origin = next(o for o in res["Distribution"]["Properties"]["DistributionConfig"]["Origins"] if o["Id"] == "api")
    header = api_origin["OriginCustomHeaders"][0]
    assert header == {"HeaderName": "X-Origin-Verify", "HeaderValue": {"Ref": "OriginVerifySecret"}}
    rule = res["ApiWebAcl"]["Properties"]["Rules"][0]
    assert rule["Action"] == {"Block": {}}
    match = rule["Statement"]["NotStatement"]["Statement"]["ByteMatchStatement"]
    assert match["FieldToMatch"]["SingleHeader"]["Name"] == "x-origin-verify"
    assert match["SearchString"] == {"Ref": "OriginVerifySecret"}
    assert template["Parameters"]["OriginVerifySecret"]["NoEcho"] is True
    assoc = res["ApiWebAclAssociation"]["Properties"]
    assert "/restapis/${Api}/stages/${ApiStageName}" in assoc["ResourceArn"]["Fn::Sub"]
    assert "ApiUrl" not in template["Outputs"]  # the way around the edge is not advertised


def test_rate_limits_per_client_at_the_edge_and_the_webhook_has_its_own():
    edge = _load("edge-template.yaml")
    acl = edge["Resources"]["EdgeWebAcl"]["Properties"]
    assert acl["Scope"] == "CLOUDFRONT"
    rules = {r["Name"]: r for r in acl["Rules"]}
    for name in ("webhook-per-ip", "api-per-ip", "all-per-ip"):
        assert rules[name]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP", name
        assert rules[name]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    # the general rules leave the webhook out; the webhook rule only counts the webhook
    for name in ("api-per-ip", "all-per-ip"):
        assert "/api/v1/webhook/" in json.dumps(rules[name]["Statement"]) and "NotStatement" in json.dumps(
            rules[name]["Statement"])
    webhook_scope = rules["webhook-per-ip"]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    assert webhook_scope["ByteMatchStatement"]["SearchString"] == "/api/v1/webhook/"
    template = _load("template.yaml")
    assert template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]["WebACLId"] == {
        "Ref": "EdgeWebAclArn"}
    settings = template["Resources"]["Api"]["Properties"]["MethodSettings"]
    webhook = next(m for m in settings if m["ResourcePath"] == "/api~1v1~1webhook~1midtrans")
    assert webhook["ThrottlingRateLimit"] == {"Ref": "WebhookRateLimit"}
    lint = subprocess.run([os.path.join(os.path.dirname(sys.executable), "cfn-lint"), "infra/edge-template.yaml"],
                          cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_custom_domain_tls_hsts_logs_and_staff_host_routing_are_parameters():
    template = _load("template.yaml")
    res = template["Resources"]
    config = res["Distribution"]["Properties"]["DistributionConfig"]
    assert config["Aliases"]["Fn::If"][1] == [{"Ref": "DomainName"}, {"Fn::Sub": "staff.${DomainName}"}]
    cert = config["ViewerCertificate"]["Fn::If"][1]
    assert cert["AcmCertificateArn"] == {"Ref": "CertificateArn"} and cert["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["Logging"]["Bucket"] == {"Fn::GetAtt": ["EdgeLogsBucket", "RegionalDomainName"]}
    hsts = res["SecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert hsts["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    for behaviour in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeaders"}
    host_policy = res["HostCachePolicy"]["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert host_policy["HeadersConfig"]["Headers"] == ["Host"]
    assert config["DefaultCacheBehavior"]["CachePolicyId"]["Fn::If"][1] == {"Ref": "HostCachePolicy"}
    assert "CertificateWithDomain" in template["Rules"]


def test_caches_get_their_own_evicting_cluster_on_every_function():
    template = _load("template.yaml")
    res = template["Resources"]
    assert res["CacheParameterGroup"]["Properties"]["Properties"]["maxmemory-policy"] == "allkeys-lru"
    group = res["CacheReplicationGroup"]["Properties"]
    assert group["CacheParameterGroupName"] == {"Ref": "CacheParameterGroup"} and group["TransitEncryptionEnabled"]
    assert "RedisCacheHost" not in template["Parameters"]  # nothing can point the caches at the sessions Redis
    functions = [r for r in res.values() if r["Type"] == "AWS::Serverless::Function"
                 and "REDIS_HOST" in (r["Properties"].get("Environment") or {}).get("Variables", {})]
    assert len(functions) >= 11  # every function that talks to Redis (the desk's static pages do not)
    for fn in functions:
        env = fn["Properties"]["Environment"]["Variables"]
        assert env["REDIS_CACHE_HOST"] == {"Fn::GetAtt": ["CacheReplicationGroup", "PrimaryEndPoint.Address"]}


def test_access_logs_dashboard_latency_and_mail_age_alarms():
    template = _load("template.yaml")
    res = template["Resources"]
    access = res["Api"]["Properties"]["AccessLogSetting"]
    assert access["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    assert {"status", "path", "latencyMs", "waf"} <= set(json.loads(access["Format"]))
    latency = res["ApiLatencyAlarm"]["Properties"]
    assert latency["MetricName"] == "Latency" and latency["ExtendedStatistic"] == "p99"
    age = res["MailQueueAgeAlarm"]["Properties"]
    assert age["MetricName"] == "ApproximateAgeOfOldestMessage"
    body = json.loads(res["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"])
    titles = " ".join(w["properties"]["title"] for w in body["widgets"])
    for words in ("latency", "5xx", "DLQ", "mail queue age", "Webhook"):
        assert words in titles, words
    for name in ("SsmInterfaceEndpoint", "SqsInterfaceEndpoint"):
        assert res[name]["Properties"]["VpcEndpointType"] == "Interface"
    assert template["Parameters"]["DbSessionTimeZone"]["Default"] == "false"
