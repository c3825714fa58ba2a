"""The AWS packaging: the template is generated from app.py's route table (no drift), every route is wired to
exactly one function of the capability that serves it, cfn-lint is clean, and every function package holds only
its capability (it imports and routes with nothing but the layers beside it) within Lambda's size limits."""
import importlib
import json
import os
import subprocess
import sys
import zipfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")


class _Loader(yaml.SafeLoader):
    pass


def _template():
    with open(os.path.join(ROOT, "infra", "template.yaml"), encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_Loader)


def _run(*args, **kw):
    env = dict(os.environ, OPENMERCE_PACKAGING="1")
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=env, **kw)


def test_committed_template_is_what_the_code_generates():
    done = _run("infra/build.py", "--check")
    assert done.returncode == 0, done.stderr


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
            uri = op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            fn = uri.split("/functions/${", 1)[1].split(".Arn}", 1)[0]
            wired[(path, method.upper())] = fn
    assert set(wired) == app_routes
    for route, fn in wired.items():
        resource = template["Resources"][fn]
        assert resource["Properties"]["Tags"]["openmerce:capability"] == owner_by_route[route]
        assert resource["Properties"]["Runtime"] == "python3.12"


def test_cfn_lint_is_clean():
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "cfn-lint"), "infra/template.yaml"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_functions_get_only_the_secrets_they_list_and_least_privilege_roles():
    template = _template()
    spec = json.load(open(os.path.join(ROOT, "infra", "spec.json")))
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        cap = resource["Properties"]["Tags"]["openmerce:capability"]
        variables = resource["Properties"]["Environment"]["Variables"]
        secrets = {k[:-4] for k in variables if k.endswith("_SSM")}
        wanted = set(spec["functions"].get(cap, {}).get("secrets", spec["defaults"]["secrets"]))
        assert secrets == wanted, (logical, secrets, wanted)
        for name in variables:
            assert not any(word in name for word in ("PASS", "KEY", "AUTHORIZATION")) or name.endswith("_SSM"), name
        role = template["Resources"][resource["Properties"]["Role"]["Fn::GetAtt"][0]]
        for statement in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
            assert statement["Action"] != "*" and "*" not in statement["Action"]


@pytest.fixture(scope="module")
def packages():
    done = _run("infra/build.py", "--offline", timeout=600)  # tests reach no registry
    assert done.returncode == 0, done.stdout + done.stderr
    with open(os.path.join(BUILD, "package-report.md"), encoding="utf-8") as fh:
        report = fh.read()
    print(report)
    return report


def test_every_package_holds_only_its_capability_and_fits_lambda_limits(packages, tmp_path):
    import functions

    assert "OVER" not in packages
    layer_dir = tmp_path / "opt" / "python"
    for layer in ("core", "mysql", "auth", "commerce"):
        with zipfile.ZipFile(os.path.join(BUILD, "layers", f"{layer}.zip")) as zf:
            zf.extractall(tmp_path / "opt")
    built = 0
    for name in functions.CAPABILITIES:
        pkg = os.path.join(BUILD, "functions", name, "deployment.zip")
        if not os.path.exists(pkg):
            continue
        built += 1
        with zipfile.ZipFile(pkg) as zf:
            names = zf.namelist()
            for entry in names:
                assert (entry.startswith(("chalice/", f"functions/{name}/", "__pycache__/app.", "functions/__pycache__/"))
                        or entry in ("app.py", "functions/__init__.py")), f"{name} package holds {entry}"
            assert f"functions/{name}/__pycache__/app.cpython-312.pyc" in names  # bytecode ships (read-only FS)
            target = tmp_path / name
            zf.extractall(target)
        # Import it the way Lambda does: the package, then /opt/python (layers); third-party code from the venv.
        site = [p for p in sys.path if p.endswith("site-packages")]
        code = ("import sys, json; sys.path[:0] = [%r, %r] + %r; import app; "
                "print(json.dumps(sorted(app.app.routes)))" % (str(target), str(layer_dir), site))
        done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=str(target),
                              env={"PATH": os.environ["PATH"], "OPENMERCE_PACKAGING": "1"})
        assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"
        routes = importlib.import_module(f"functions.{name}.routes").routes
        assert sorted(json.loads(done.stdout)) == sorted({p for p, *_ in routes.described()})
    assert built >= 1
