"""Run the built Lambda artefacts the way Lambda runs them, for the artifact tests.

* ``runtime_dir``: what the python3.12 runtime brings besides the standard library (its ``/var/runtime``): boto3 and
  botocore with their dependencies, the Runtime Interface Client and the SnapStart hook registry — copied from this
  venv, nothing else.
* ``Sandbox``: one function laid out as Lambda lays it out (the deployment zip as the task root, its layers in
  template order as ``/opt``), started in a fresh python3.12 with ``-S`` (no site-packages: the only third-party code
  is the artefact's and the runtime's) and exactly the template's environment variables (intrinsics resolved to local
  values) plus what Lambda itself sets.
* ``invoke``: a small stand-in for the runtime's invoke loop (import the Handler string once, call it per event);
  ``RuntimeApi``: the Lambda Runtime API (``/2018-06-01/runtime/invocation/next|response|error``) for the real
  Runtime Interface Client.
"""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata

RUNTIME_DISTRIBUTIONS = ("boto3", "awslambdaric", "snapshot-restore-py")
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
RESULT = "@@RESULT@@ "

DRIVER = r'''
import importlib, json, os, sys, time, traceback
task, opt, runtime = os.environ["LAMBDA_TASK_ROOT"], os.environ["OM_TEST_OPT"], os.environ["LAMBDA_RUNTIME_DIR"]
# Lambda's sys.path for python3.12: the task root, the layers, then the runtime's own packages
sys.path[:0] = [task, os.path.join(opt, "python", "lib", "python3.12", "site-packages"), os.path.join(opt, "python")]
sys.path.append(runtime)
out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # anything the function prints goes to the log stream, as on Lambda

def emit(obj):
    out.write("@@RESULT@@ " + json.dumps(obj) + "\n"); out.flush()

class Context:
    def __init__(self, request_id):
        self.aws_request_id = request_id
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + self.function_name
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = "test"
        self._deadline = time.time() + int(os.environ.get("OM_TEST_TIMEOUT", "30"))
    def get_remaining_time_in_millis(self):
        return int(max(0, self._deadline - time.time()) * 1000)

started = time.perf_counter()
module_name, attr = os.environ["_HANDLER"].rsplit(".", 1)
try:
    handler = getattr(importlib.import_module(module_name), attr)
except BaseException as exc:
    emit({"init_error": type(exc).__name__, "message": str(exc), "trace": traceback.format_exc()[-3000:]})
    sys.exit(1)
emit({"init_ms": (time.perf_counter() - started) * 1000, "modules": sorted(sys.modules)})


def tcp_peers():
    """Remote ports of this process's established TCP connections (from /proc)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = []
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if cols[3] == "01" and cols[9] in inodes:
                ports.append(int(cols[2].rsplit(":", 1)[1], 16))
    return sorted(ports)


def random_fingerprint():
    import hashlib, random
    return hashlib.sha256(repr(random.getstate()).encode()).hexdigest()


for n, line in enumerate(sys.stdin):
    event = json.loads(line)
    hooks = event.get("om_test_hooks") if isinstance(event, dict) else None
    if hooks:
        # SnapStart: run the hooks the runtime would run (before the snapshot / after a restore), in order
        import snapshot_restore_py as srp
        registry = srp.get_before_snapshot() if hooks == "before_snapshot" else srp.get_after_restore()
        before = random_fingerprint()
        try:
            for func, args, kwargs in registry:
                func(*args, **kwargs)
        except BaseException as exc:
            emit({"errorType": type(exc).__name__, "errorMessage": str(exc), "trace": traceback.format_exc()})
            continue
        emit({"hooks": len(registry), "modules": sorted(sys.modules), "tcp_peers": tcp_peers(),
              "random_changed": before != random_fingerprint()})
        continue
    if event == "tcp_peers":
        emit({"tcp_peers": tcp_peers()})
        continue
    try:
        emit({"result": handler(event, Context(f"req-{n}")), "modules": sorted(sys.modules)})
    except BaseException as exc:
        emit({"errorType": type(exc).__name__, "errorMessage": str(exc), "trace": traceback.format_exc()[-3000:]})
'''


def _copy_distribution_closure(names, target: str) -> None:
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = re.split(r"[<>=!~;\[ ]", pending.pop())[0].strip().lower().replace("_", "-")
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        pending += [r for r in dist.requires or [] if "extra ==" not in r]
        for file in dist.files or []:
            if "__pycache__" in file.parts or ".." in file.parts:
                continue
            source = file.locate()
            if os.path.isfile(source):
                dest = os.path.join(target, *file.parts)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copy2(source, dest)


def make_runtime_dir(target: str) -> str:
    os.makedirs(target, exist_ok=True)
    _copy_distribution_closure(RUNTIME_DISTRIBUTIONS, target)
    with open(os.path.join(target, "om_test_driver.py"), "w", encoding="utf-8") as fh:
        fh.write(DRIVER)
    return target


# ---------------------------------------------------------------- the template's environment

def resolve(value, refs: dict):
    """Replace the template's intrinsics by local values (``refs``: parameter and resource names → values)."""
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            if arg not in refs:
                raise KeyError(f"no local value for Ref {arg}")
            return refs[arg]
        if key == "Fn::Sub":
            def sub(m):
                name = m.group(1)
                if name not in refs:
                    raise KeyError(f"no local value for ${{{name}}}")
                return str(refs[name])
            return re.sub(r"\$\{([^}]+)\}", sub, arg)
        if key == "Fn::GetAtt":
            name = ".".join(arg)
            if name not in refs:
                raise KeyError(f"no local value for GetAtt {name}")
            return refs[name]
        raise KeyError(f"unsupported intrinsic {key}")
    return value


def template_parameter_defaults(template: dict) -> dict:
    return {name: str(p["Default"]) for name, p in template["Parameters"].items() if "Default" in p}


class Sandbox:
    """One template function laid out and started as Lambda would start it."""

    def __init__(self, template: dict, logical: str, build_dir: str, root: str, runtime_dir: str, refs: dict,
                 extra_env: dict):
        self.logical = logical
        self.props = template["Resources"][logical]["Properties"]
        self.task = os.path.join(root, logical, "task")
        self.opt = os.path.join(root, logical, "opt")
        shutil.rmtree(os.path.join(root, logical), ignore_errors=True)
        capability = self.props["Tags"]["openmerce:capability"]
        with zipfile.ZipFile(os.path.join(build_dir, "functions", capability, "deployment.zip")) as zf:
            zf.extractall(self.task)
        for layer in self.props["Layers"]:
            name = layer["Ref"][:-len("Layer")].lower()
            with zipfile.ZipFile(os.path.join(build_dir, "layers", f"{name}.zip")) as zf:
                zf.extractall(self.opt)
        self.variables = {k: str(resolve(v, refs)) for k, v in self.props["Environment"]["Variables"].items()}
        self.env = {
            # what Lambda sets in every python3.12 execution environment
            "LAMBDA_TASK_ROOT": self.task, "LAMBDA_RUNTIME_DIR": runtime_dir, "_HANDLER": self.props["Handler"],
            "AWS_LAMBDA_FUNCTION_NAME": logical, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.props["MemorySize"]),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1", "TZ": ":UTC", "LANG": "en_US.UTF-8", "PATH": "/usr/bin:/bin",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "OM_TEST_OPT": self.opt, "OM_TEST_TIMEOUT": str(self.props["Timeout"]),
            **extra_env,            # credentials of the role and the endpoint of the AWS stand-in (moto)
            **self.variables,       # exactly the template's variables
        }
        self.runtime_dir = runtime_dir
        self.proc: subprocess.Popen | None = None
        self.init: dict | None = None

    def start(self, **env) -> dict:
        self.proc = subprocess.Popen(
            [BASE_PYTHON, "-S", "-B", os.path.join(self.runtime_dir, "om_test_driver.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.task,
            env=dict(self.env, **env))
        self._stderr: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.init = self._read()
        return self.init

    def _drain(self):
        for line in self.proc.stderr:
            self._stderr.append(line)

    @property
    def log(self) -> str:
        return "".join(self._stderr)[-4000:]

    def _read(self) -> dict:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait(timeout=10)
                return {"init_error": "exited", "message": f"exit {self.proc.returncode}", "trace": self.log}
            if line.startswith(RESULT):
                return json.loads(line[len(RESULT):])

    def invoke(self, event: dict) -> dict:
        self.proc.stdin.write(json.dumps(event) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# ---------------------------------------------------------------- events

def api_event(method: str, path: str, *, body=None, query: dict | None = None, cookies: dict | None = None,
              headers: dict | None = None, source_ip: str = "198.51.100.7") -> dict:
    """An API Gateway REST (v1 proxy) event, as the template's API sends it to the function."""
    hdrs = {"Host": "api.example.com", "User-Agent": "artifact-test", "X-Forwarded-For": source_ip,
            "X-Forwarded-Proto": "https"}
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
        hdrs["Content-Type"] = "application/json"
    if cookies:
        hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    hdrs.update(headers or {})
    resource = path  # our routes have no path parameters
    request_id = str(uuid.uuid4())
    return {
        "resource": resource, "path": path, "httpMethod": method, "headers": hdrs,
        "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": "/prod" + path, "stage": "prod",
                           "requestId": request_id, "extendedRequestId": request_id, "accountId": "000000000000",
                           "apiId": "artifact", "protocol": "HTTP/1.1", "requestTimeEpoch": int(time.time() * 1000),
                           "identity": {"sourceIp": source_ip, "userAgent": "artifact-test"}},
        "body": body.decode() if isinstance(body, bytes) else body, "isBase64Encoded": False,
    }


def schedule_event() -> dict:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "000000000000", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:000000000000:rule/expire-orders"],
            "detail": {}}


def sqs_s3_event(bucket: str, key: str, size: int) -> dict:
    """The SQS event Lambda's SQS trigger delivers for one S3 ObjectCreated notification."""
    s3_record = {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                 "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                 "eventName": "ObjectCreated:Post",
                 "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                        "object": {"key": key, "size": size, "sequencer": "0055AED6DCD90281E5"}}}
    message_id = str(uuid.uuid4())
    return {"Records": [{
        "messageId": message_id, "receiptHandle": "handle-" + message_id, "body": json.dumps({"Records": [s3_record]}),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:images", "awsRegion": "us-east-1"}]}


def cookies_of(result: dict) -> dict:
    """The cookies a proxy response sets (name → value; an expired cookie → removed)."""
    jar = {}
    headers = result.get("multiValueHeaders") or {}
    values = headers.get("Set-Cookie") or headers.get("set-cookie") or []
    single = (result.get("headers") or {}).get("Set-Cookie")
    if single:
        values = values + [single]
    for raw in values:
        name, _, rest = raw.partition("=")
        value = rest.split(";", 1)[0]
        jar[name.strip()] = None if "max-age=0" in raw.lower() or not value else value
    return jar


# ---------------------------------------------------------------- the Runtime API, for the real RIC

class RuntimeApi:
    """The Lambda Runtime API on 127.0.0.1: hands out queued events, collects responses and errors."""

    def __init__(self):
        self.events: queue.Queue = queue.Queue()
        self.responses: dict[str, queue.Queue] = {}
        self.init_errors: list[dict] = []
        self.restore_errors: list[dict] = []
        self.snapshot_taken = threading.Event()   # the runtime asked for /restore/next: before-snapshot hooks ran
        self.restore = threading.Event()          # set by the test: "the environment is restored"
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # the runtime's client keeps its connection open, as with Lambda's

            def log_message(self, *args):
                if os.environ.get("OM_RUNTIME_API_DEBUG"):
                    sys.stderr.write("runtime-api: " + (args[0] % args[1:]) + "\n")

            def do_GET(self):
                if self.path == "/2018-06-01/runtime/restore/next":
                    api.snapshot_taken.set()
                    api.restore.wait(timeout=120)
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path != "/2018-06-01/runtime/invocation/next":
                    self.send_error(404)
                    return
                request_id, event = api.events.get()
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int((time.time() + 30) * 1000)))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:us-east-1:000000000000:function:ric")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                m = re.match(r"^/2018-06-01/runtime/invocation/([^/]+)/(response|error)$", self.path)
                if m:
                    api.responses.setdefault(m.group(1), queue.Queue()).put(
                        (m.group(2), json.loads(data) if data else None))
                elif self.path == "/2018-06-01/runtime/init/error":
                    api.init_errors.append(json.loads(data) if data else {})
                elif self.path == "/2018-06-01/runtime/restore/error":
                    api.restore_errors.append(json.loads(data) if data else {})
                else:
                    self.send_error(404)
                    return
                self.send_response(202)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda *args: None  # the runtime's connection dropped when the test kills it
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, event: dict, timeout: float = 60) -> tuple[str, dict]:
        request_id = str(uuid.uuid4())
        self.responses[request_id] = queue.Queue()
        self.events.put((request_id, event))
        return self.responses[request_id].get(timeout=timeout)

    def close(self):
        self.restore.set()
        self.events.put(("closing", {}))
        self.server.shutdown()
