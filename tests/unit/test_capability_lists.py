"""The capability list is written in two places that cannot import each other (``functions.CAPABILITIES``, what is
deployed and registered; ``omcore.settings.CAPABILITIES``, the ground layer's registry, which must not import
``functions``): they name the same capabilities, and each has its folder."""
import os

from omcore import settings

import functions

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_settings_registry_and_the_deployed_capabilities_agree():
    """The registry splits them: data capabilities (``CAPABILITIES``, what ``ALL`` means) and the ones that only
    serve files (``PAGE_CAPABILITIES``: no database, no Redis); together, and apart, they are the deployed list."""
    registered = list(settings.CAPABILITIES) + list(getattr(settings, "PAGE_CAPABILITIES", ()))
    assert sorted(registered) == sorted(functions.CAPABILITIES)
    assert len(set(registered)) == len(registered)


def test_every_capability_has_its_folder_and_every_folder_is_a_capability():
    folders = {name for name in os.listdir(os.path.join(ROOT, "functions"))
               if os.path.isfile(os.path.join(ROOT, "functions", name, "routes.py"))}
    assert folders == set(functions.CAPABILITIES)


def test_every_unit_a_setting_names_exists():
    units = set(functions.CAPABILITIES) | {"container", "worker", "admin"}  # page capabilities included
    unknown = {(s.name, u) for s in settings.SETTINGS if s.units != settings.ALL for u in s.units if u not in units}
    assert unknown == set()


def test_every_place_that_names_the_code_layers_names_the_same_ones():
    """The code layers are named where each tool needs them (the packager, the editable install, the container's
    PYTHONPATH, the per-function deployment spec); this holds them to ``functions.LAYERS`` until they are read
    from one place."""
    import json
    import re
    import tomllib

    from infra.template import CODE_LAYERS

    layers = list(functions.LAYERS)
    paths = [f"layers/{name}/python" for name in layers]
    assert list(CODE_LAYERS) == layers
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        project = tomllib.load(fh)
    assert [d for d in project["tool"]["hatch"]["build"]["dev-mode-dirs"] if d.startswith("layers/")] == paths
    assert [p for p in project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
            if p.startswith("layers/")] == [f"{path}/{CODE_LAYERS[n]}" for n, path in zip(layers, paths)]
    assert [p for p in project["tool"]["ruff"]["src"] if p.startswith("layers/")] == paths
    with open(os.path.join(ROOT, "swarm-fallback", "Dockerfile"), encoding="utf-8") as fh:
        pythonpath = re.search(r"PYTHONPATH=(\S+)", fh.read()).group(1).split(":")
    assert [p for p in pythonpath if "/layers/" in p] == [f"/app/{path}" for path in paths]
    with open(os.path.join(ROOT, "infra", "spec.json"), encoding="utf-8") as fh:
        spec = json.load(fh)
    assert [x for x in spec["defaults"]["layers"] if x in CODE_LAYERS] == layers
