"""The AWS packaging: every route is wired to exactly one function of the capability that serves it (through the
alias SnapStart needs), cfn-lint is clean, the production parts of the template are there, and every target installs
the same versions from the one lock file — the arm64 layers (the default) hold only aarch64 code whose wheel tags the
python3.12 runtime (Amazon Linux 2023, glibc 2.34) accepts. The built packages themselves are run in
test_artifacts.py."""
import importlib
import os
import re
import subprocess
import sys
import zipfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EM_AARCH64, EM_X86_64 = 183, 62


def _template():
    with open(os.path.join(ROOT, "infra", "template.yaml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_every_route_of_app_is_wired_to_exactly_one_function_of_its_capability(app):
    import functions

    template = _template()
    paths = template["Resources"]["Api"]["Properties"]["DefinitionBody"]["paths"]
    owner_by_route = {}
    for name in functions.CAPABILITIES:
        routes = importlib.import_module(f"functions.{name}.routes").routes
        for path, methods, *_ in routes.described():
            for method in methods:
                assert (path, method) not in owner_by_route, f"{method} {path} served by two capabilities"
                owner_by_route[(path, method)] = name
    app_routes = {(path, method) for path, entry in app.routes.items() for method in entry}
    assert app_routes == set(owner_by_route)
    wired = {}
    for path, methods in paths.items():
        for method, op in methods.items():
            integration = op["x-amazon-apigateway-integration"]
            fn = re.search(r"/functions/\$\{(\w+)Aliaslive\}/invocations", integration["uri"]["Fn::Sub"]).group(1)
            wired[(path, method.upper())] = fn
            assert integration["timeoutInMillis"] <= 29000
    assert set(wired) == app_routes
    for route, fn in wired.items():
        resource = template["Resources"][fn]
        assert resource["Properties"]["Tags"]["openmerce:capability"] == owner_by_route[route]
        assert resource["Properties"]["Runtime"] == "python3.12"
        assert resource["Properties"]["AutoPublishAlias"] == "live"
        assert resource["Properties"]["Timeout"] <= 29, fn


def test_cfn_lint_is_clean():
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "cfn-lint"), "infra/template.yaml"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_template_has_what_a_production_review_expects():
    template = _template()
    resources = template["Resources"]
    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    assert template["Parameters"]["Architecture"]["Default"] == "arm64"
    for name, fn in functions.items():
        props = fn["Properties"]
        assert props["Architectures"] == [{"Ref": "Architecture"}]
        log_group = resources[props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        for metric in ("Errors", "Throttles"):
            alarm = resources[f"{name}{metric}Alarm"]["Properties"]
            assert alarm["MetricName"] == metric and alarm["AlarmActions"] == [{"Ref": "AlarmTopicArn"}]
        if "AutoPublishAlias" in props:
            assert props["SnapStart"] == {"ApplyOn": {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}}
    reserved = functions["PaymentsFunction"]["Properties"]["ReservedConcurrentExecutions"]["Fn::If"]
    assert reserved[1] == {"Ref": "WebhookReservedConcurrency"}
    assert int(template["Parameters"]["WebhookReservedConcurrency"]["Default"]) >= 1
    queue_event = functions["ImagesConvertImagesFunction"]["Properties"]["Events"]["Queue"]["Properties"]
    assert queue_event["ScalingConfig"]["MaximumConcurrency"] >= 2
    schedule = functions["CheckoutExpireOrdersFunction"]["Properties"]
    assert schedule["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    assert schedule["Events"]["Schedule"]["Properties"]["DeadLetterConfig"]
    for alarm in ("Api5xxAlarm", "WebhookFailuresAlarm", "ImagesDeadLetterQueueDepthAlarm",
                  "ExpiryFailureQueueDepthAlarm"):
        assert resources[alarm]["Type"] == "AWS::CloudWatch::Alarm"
    for bucket in ("OriginalsBucket", "PublicBucket"):
        assert resources[bucket]["DeletionPolicy"] == "Retain"
        assert resources[bucket]["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    for name, res in resources.items():
        if res["Type"] == "AWS::SQS::Queue":
            assert res["Properties"]["MessageRetentionPeriod"] >= 345600, name
    # the converter and the upload-URL function are separate roles; only the converter reads originals
    converter = resources["ImagesConvertImagesFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    upload = resources["ImagesFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    assert any("s3:GetObject" in s["Action"] for s in converter["Statement"])
    assert not any("s3:GetObject" in s["Action"] for s in upload["Statement"])
    # mail only as the SES identity, secrets only through the parameters' KMS key
    for res in resources.values():
        if res["Type"] != "AWS::IAM::Role":
            continue
        for statement in res["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
            if "ses:SendEmail" in statement["Action"]:
                assert statement["Resource"] == {"Ref": "MailIdentityArn"}
            if "kms:Decrypt" in statement["Action"]:
                assert statement["Resource"] == {"Ref": "SecretsKmsKeyArn"}
    assert "DbSslCa" in template["Parameters"] and template["Parameters"]["RedisTls"]["Default"] == "true"


def test_the_container_image_installs_the_locked_versions():
    """The Dockerfile's install line, run as written, selects from requirements.lock: every line pinned and hashed,
    the same versions as this venv (which bin/setup installs from the same file)."""
    from importlib import metadata

    dockerfile = open(os.path.join(ROOT, "swarm-fallback", "Dockerfile"), encoding="utf-8").read()
    command = re.search(r"RUN (python infra/lock\.py subset [^>]+)>", dockerfile).group(1).split()
    done = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, capture_output=True, text=True, check=True)
    pins = dict(re.findall(r"^([a-z0-9-]+)==(\S+?)(?: ;.*)? \\$", done.stdout, re.M))
    assert {"chalice", "gunicorn", "pymysql", "redis", "pillow", "cryptography", "bcrypt"} <= set(pins)
    hashed = re.findall(r"^([a-z0-9-]+)==\S+?(?: ;[^\n]*)? \\\n    --hash=sha256:[0-9a-f]{64}", done.stdout, re.M)
    assert sorted(hashed) == sorted(pins), "every locked line carries its hashes"
    for name, version in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # a platform-marked dependency (e.g. Windows only)
        assert installed == version, f"{name}: venv has {installed}, the lock says {version}"


def _elf_machine(path: str) -> int | None:
    with open(path, "rb") as fh:
        head = fh.read(20)
    if head[:4] != b"\x7fELF":
        return None
    return int.from_bytes(head[18:20], "little")


@pytest.fixture(scope="module")
def arm64_layers(tmp_path_factory):
    out = tmp_path_factory.mktemp("arm64")
    done = subprocess.run([sys.executable, "infra/build.py", "--layers-only", "--arch", "arm64", "--wheelhouse",
                           ".cache/wheels", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_arm64_layers_hold_only_aarch64_code_for_the_lambda_runtime(arm64_layers, tmp_path):
    from infra import lock

    locked = {name: entry.version for name, entry in lock.parse().items()}
    shared_objects = 0
    for layer in ("deps", "imaging"):
        target = tmp_path / layer
        with zipfile.ZipFile(arm64_layers / "layers" / f"{layer}.zip") as zf:
            zf.extractall(target)
        for folder, _dirs, files in os.walk(target):
            for name in files:
                path = os.path.join(folder, name)
                if ".so" in name:
                    shared_objects += 1
                    assert _elf_machine(path) == EM_AARCH64, f"{layer}: {os.path.relpath(path, target)} is not aarch64"
                if name == "WHEEL" and folder.endswith(".dist-info"):
                    tags = re.findall(r"^Tag: (\S+)", open(path).read(), re.M)
                    assert tags and all(_runtime_accepts(t) for t in tags), (folder, tags)
                if name == "METADATA" and folder.endswith(".dist-info"):
                    text = open(path, encoding="utf-8").read()
                    dist = re.search(r"^Name: (\S+)", text, re.M).group(1)
                    version = re.search(r"^Version: (\S+)", text, re.M).group(1)
                    assert locked[lock.canonical(dist)] == version, f"{dist} {version} is not the locked version"
        assert not any(p.name in ("boto3", "botocore") for p in (target / "python").iterdir())
    assert shared_objects >= 5  # cryptography, bcrypt, cffi, charset-normalizer, pillow...


def _runtime_accepts(tag: str) -> bool:
    """python3.12 on Amazon Linux 2023 (glibc 2.34), aarch64."""
    python, abi, platform = tag.split("-")
    if python not in ("py3", "cp312") and not (python.startswith("cp3") and abi == "abi3"):
        return False
    if platform == "any":
        return True
    m = re.match(r"manylinux_(\d+)_(\d+)_aarch64$", platform)
    if m:
        return (int(m.group(1)), int(m.group(2))) <= (2, 34)
    return platform == "manylinux2014_aarch64"
