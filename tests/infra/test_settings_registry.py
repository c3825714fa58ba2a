"""One settings registry (layers/core/python/omcore/settings.py), and the code, the template and the docs agree with it:

* every environment variable the shipped code reads is registered, with the same default and type it is read with;
* every registered setting is read by each deployment unit that lists it (no stale entries such as a template
  variable nothing reads);
* every function of the template is given every setting it cannot start without, and may read exactly its own
  SSM secrets;
* docs/configuration.md and infra/template.yaml are what the registry generates (build.py --check)."""
import ast
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAYER_DIRS = {"omcore": "layers/core/python/omcore", "omdb": "layers/mysql/python/omdb",
              "omauth": "layers/auth/python/omauth", "omcommerce": "layers/commerce/python/omcommerce"}
# Set by the platform or the tooling, not settings of ours.
PLATFORM = {"PATH", "HOME", "AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_INITIALIZATION_TYPE",
            "AWS_REGION", "AWS_DEFAULT_REGION", "LAMBDA_TASK_ROOT", "_HANDLER", "PYTHONPATH"}
LOCAL_RUN_FILES = {"devstack.py", "localdev.py"}
CONFIG_READERS = {"get": "str", "get_int": "int", "get_bool": "bool", "require": None}


def _registry():
    from omcore import settings

    return settings


def _module_file(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] in LAYER_DIRS:
        base = os.path.join(ROOT, LAYER_DIRS[parts[0]], *parts[1:])
    elif parts[0] == "functions":
        base = os.path.join(ROOT, *parts)
    else:
        return None
    if os.path.isdir(base):
        return os.path.join(base, "__init__.py")
    return base + ".py" if os.path.isfile(base + ".py") else None


def _parse(path: str) -> ast.Module:
    with open(path, encoding="utf-8") as fh:
        return ast.parse(fh.read(), path)


def _imports(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    package = module if is_package else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found.add(name)
            found.update(f"{name}.{a.name}" for a in node.names)
    return found


def closure_files(module: str) -> set[str]:
    """The source files a module imports, transitively, within functions/ and the layers (lazy imports included)."""
    seen: dict[str, str] = {}
    pending = [module]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None:
            continue
        seen[name] = path
        parts = name.split(".")
        pending += [".".join(parts[:i]) for i in range(1, len(parts))]
        pending += list(_imports(_parse(path), name, path.endswith("__init__.py")))
    return set(seen.values())


def _literal_strings(paths) -> set[str]:
    out = set()
    for path in paths:
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.add(node.value)
    return out


def _eval_default(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        if isinstance(node, ast.BinOp):
            left, right = _eval_default(node.left), _eval_default(node.right)
            if isinstance(left, (int, float)) and isinstance(right, (int, float)):
                return {ast.Mult: lambda a, b: a * b, ast.Add: lambda a, b: a + b}[type(node.op)](left, right)
        raise


def config_reads(paths):
    """(file, line, name, reader, default-node) for every config.get*/os.environ read with a literal name."""
    reads = []
    for path in paths:
        for node in ast.walk(_parse(path)):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            func = node.func
            reader = None
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                if func.value.id == "config" and func.attr in CONFIG_READERS:
                    reader = func.attr
                elif func.value.id == "os" and func.attr == "getenv":
                    reader = "environ"
            if isinstance(func, ast.Attribute) and func.attr == "get" and isinstance(func.value, ast.Attribute) \
                    and func.value.attr == "environ" and isinstance(func.value.value, ast.Name) \
                    and func.value.value.id == "os":
                reader = "environ"
            if reader is None:
                continue
            default = node.args[1] if len(node.args) > 1 else None
            reads.append((os.path.relpath(path, ROOT), node.lineno, first.value, reader, default))
    return reads


def _shipped_and_tooling_files():
    files = []
    for top in ("functions", "tools", "layers", "swarm-fallback"):
        for folder, dirs, names in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            files += [os.path.join(folder, n) for n in names if n.endswith(".py")]
    return files + [os.path.join(ROOT, "app.py")]


def test_every_setting_the_code_reads_is_registered_with_its_default_and_type():
    registry = _registry()
    problems = []
    for path, line, name, reader, default in config_reads(_shipped_and_tooling_files()):
        if name in PLATFORM:
            continue
        setting = registry.BY_NAME.get(name)
        where = f"{path}:{line}"
        if setting is None:
            problems.append(f"{where} reads {name}, which omcore/settings.py does not register")
            continue
        wanted_type = CONFIG_READERS.get(reader)
        if wanted_type == "int" and setting.type != "int" or wanted_type == "bool" and setting.type != "bool":
            problems.append(f"{where} reads {name} with config.{reader}, but it is registered as {setting.type}")
        if default is None or reader == "require" or setting.required:
            continue  # (a local-run tool may default a setting production must set, e.g. DB_NAME)
        if os.path.basename(path) in LOCAL_RUN_FILES:
            continue  # the local run's own defaults (OPENMERCE-DEV order ids...) are not production defaults
        if isinstance(setting.default, str) and setting.default.startswith("("):
            continue  # a derived default the registry describes in words
        try:
            value = _eval_default(default)
        except (ValueError, KeyError):
            continue  # computed in code (e.g. os.path.join): nothing literal to compare
        registered = setting.default
        if reader == "environ" and registered is not None and not isinstance(registered, str):
            registered = str(registered).lower() if isinstance(registered, bool) else str(registered)
        if value in (None, ""):
            continue  # `config.get(X, "") or fallback`: the fallback is computed in code
        if value != registered:
            problems.append(f"{where} defaults {name} to {value!r}; the registry says {registered!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("unit", ["health", "auth", "staff_auth", "catalogue", "backoffice", "account", "cart",
                                  "freight", "checkout", "payments", "images"])
def test_a_capability_reads_every_setting_the_registry_lists_for_it(unit):
    registry = _registry()
    literals = _literal_strings(closure_files(f"functions.{unit}.app"))
    listed = [s.name for s in registry.for_unit(unit)]
    unread = [n for n in listed if n not in literals]
    assert not unread, f"{unit}: registered as read by it but its code never names them: {unread}"


def test_every_registered_setting_is_read_somewhere():
    registry = _registry()
    literals = _literal_strings(_shipped_and_tooling_files())
    shell = ""
    for folder, _dirs, names in os.walk(os.path.join(ROOT, "swarm-fallback")):
        for n in names:
            if not n.endswith(".py"):
                with open(os.path.join(folder, n), encoding="utf-8", errors="replace") as fh:
                    shell += fh.read()
    unread = [s.name for s in registry.SETTINGS if s.name not in literals and s.name not in shell]
    assert not unread, f"registered but read nowhere: {unread}"


def test_every_template_function_gets_what_it_cannot_start_without_and_only_its_own_secrets():
    registry = _registry()
    with open(os.path.join(ROOT, "infra", "template.yaml"), encoding="utf-8") as fh:
        template = yaml.safe_load(fh)
    checked = 0
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        checked += 1
        unit = resource["Properties"]["Tags"]["openmerce:capability"]
        variables = resource["Properties"]["Environment"]["Variables"]
        given = {k[:-4] if k.endswith("_SSM") else k for k in variables}
        missing = [n for n in registry.required_for(unit) if n not in given]
        assert not missing, f"{logical} would not start: the template gives it no {missing}"
        for name in variables:
            base = name[:-4] if name.endswith("_SSM") else name
            setting = registry.BY_NAME[base]
            assert setting.read_by(unit), f"{logical} is given {name}, which {unit} does not read"
            assert not setting.secret or name.endswith("_SSM"), f"{logical}: secret {base} as a plain variable"
        secrets = sorted(k[:-4] for k in variables if k.endswith("_SSM"))
        role = template["Resources"][resource["Properties"]["Role"]["Fn::GetAtt"][0]]
        statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        readable = sorted(r["Fn::Sub"].rsplit("/", 1)[1] for s in statements if s["Action"] == ["ssm:GetParameters"]
                          for r in s["Resource"])
        assert readable == secrets, (logical, readable, secrets)
        for statement in statements:
            assert "*" not in statement["Action"] and statement["Resource"] != "*", (logical, statement)
    assert checked >= len(registry.CAPABILITIES)


def test_template_and_configuration_docs_are_generated_from_the_registry():
    done = subprocess.run([sys.executable, "infra/build.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
