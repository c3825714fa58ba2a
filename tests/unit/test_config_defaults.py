"""``omcore.config``: a read without a default answers the registry's default (the one place defaults are written);
required, empty, derived and unregistered settings still refuse to be guessed."""
import ast
import os

import pytest

from omcore import config, settings


def by_name(name):
    return next(s for s in settings.SETTINGS if s.name == name)


def test_an_unset_setting_read_without_a_default_answers_the_registrys(monkeypatch):
    monkeypatch.delenv("CART_MAX_QUANTITY", raising=False)
    monkeypatch.delenv("MAIL_DELIVERY", raising=False)
    monkeypatch.delenv("REDIS_TLS", raising=False)
    assert config.get_int("CART_MAX_QUANTITY") == by_name("CART_MAX_QUANTITY").default
    assert config.get("MAIL_DELIVERY") == by_name("MAIL_DELIVERY").default
    assert config.get_bool("REDIS_TLS") is by_name("REDIS_TLS").default
    assert config.get("CART_MAX_QUANTITY") == str(by_name("CART_MAX_QUANTITY").default)


def test_a_set_value_and_an_explicit_default_still_win(monkeypatch):
    monkeypatch.setenv("CART_MAX_QUANTITY", "7")
    assert config.get_int("CART_MAX_QUANTITY") == 7
    monkeypatch.delenv("CART_MAX_QUANTITY")
    assert config.get_int("CART_MAX_QUANTITY", 5) == 5


@pytest.mark.parametrize("name", ["MIDTRANS_SERVER_KEY",  # required
                                  "FREIGHT_BASE_URL",  # empty default: a reader that needs it must be told
                                  "SMTP_SECURITY",  # derived default described in words
                                  "NOT_A_SETTING_AT_ALL"])
def test_what_the_registry_cannot_answer_is_still_refused(monkeypatch, name):
    monkeypatch.delenv(name, raising=False)
    with pytest.raises(config.ConfigError):
        config.get(name)


# ---------------------------------------------------------------- a default is written once: in the registry

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READERS = {"get", "get_int", "get_bool"}
_MISSING = config._MISSING
# the local run's own values (a dev stack, a fake's port) are not production defaults; the migration runner is also
# run with the previous release's layers (bin/previous-release-tests: today's runner migrates the schema the old code
# is tested on), whose config.get* may not know the registry yet, so it keeps its defaults at the call (the registry
# test still holds them equal)
KEEPS_ITS_DEFAULTS = {"devstack.py", "localdev.py", "migrate.py"}


def _python_files(root):
    for top in ("functions", "layers", "tools", "swarm-fallback"):
        for folder, dirs, names in os.walk(os.path.join(root, top)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in names:
                if name.endswith(".py") and name not in KEEPS_ITS_DEFAULTS:
                    yield os.path.join(folder, name)
    if os.path.exists(os.path.join(root, "app.py")):
        yield os.path.join(root, "app.py")


def _is_config_read(func) -> bool:
    """``config.get*(...)`` or a module's own wrapper around it (``_int(...)``, ``_bool(...)``...)."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id == "config" and func.attr in READERS
    return isinstance(func, ast.Name) and func.id in ("_int", "_bool", "_str", "_get")


def _literal(node):
    """The call's default when it is written as a literal (numbers may be multiplied out: ``14 * 24 * 3600``)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add)):
        left, right = _literal(node.left), _literal(node.right)
        if isinstance(left, int) and isinstance(right, int):
            return left * right if isinstance(node.op, ast.Mult) else left + right
        raise ValueError("not a literal")
    return ast.literal_eval(node)


def repeated_defaults(root=ROOT):
    """(place, name, default) for every read that passes a literal default the registry already holds."""
    found = []
    for path in _python_files(root):
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _is_config_read(node.func) and node.args):
                continue
            name = node.args[0]
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                continue
            default = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "default"), None)
            if default is None or config.registry_default(name.value) is _MISSING:
                continue  # no default at the call, or one the registry cannot answer (required, empty, derived)
            try:
                value = _literal(default)
            except ValueError:
                continue  # computed in code: nothing literal repeated
            if value in (None, ""):
                continue  # "unset is fine here": the registry's default would not be the same thing
            found.append((f"{os.path.relpath(path, root)}:{node.lineno}", name.value, value))
    return found


def test_no_code_repeats_a_default_the_registry_holds():
    found = repeated_defaults()
    assert not found, "write no default at the call, the registry answers it:\n" + "\n".join(
        f"{place} passes {value!r} for {name} (registry: {config.registry_default(name)!r})"
        for place, name, value in found)


def test_the_scan_sees_a_repeated_default(tmp_path):
    """The scan itself can fail: a literal default for a registered setting is found, in every spelling."""
    module = tmp_path / "functions" / "x.py"
    module.parent.mkdir()
    module.write_text('from omcore import config\n'
                      'def _int(name, default):\n    return config.get_int(name, default)\n'
                      'A = config.get_int("CART_MAX_QUANTITY", 999)\n'
                      'B = _int("CART_MAX_LINES", 100)\n'
                      'C = config.get("MAIL_DELIVERY", default="inline")\n'
                      'D = config.get_int("REFRESH_TTL_SECONDS", 14 * 24 * 3600)\n'
                      'E = config.get("FREIGHT_BASE_URL", "")\n'  # empty: "unset is fine", allowed
                      'F = config.get_int("CART_MAX_QUANTITY")\n')
    names = [name for _, name, _ in repeated_defaults(str(tmp_path))]
    assert names == ["CART_MAX_QUANTITY", "CART_MAX_LINES", "MAIL_DELIVERY", "REFRESH_TTL_SECONDS"]
