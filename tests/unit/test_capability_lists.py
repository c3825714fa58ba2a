"""The capability list is written in two places that cannot import each other (``functions.CAPABILITIES``, what is
deployed and registered; ``omcore.settings.CAPABILITIES``, the ground layer's registry, which must not import
``functions``): they name the same capabilities, and each has its folder."""
import os

from omcore import settings

import functions

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_settings_registry_and_the_deployed_capabilities_agree():
    assert sorted(settings.CAPABILITIES) == sorted(functions.CAPABILITIES)


def test_every_capability_has_its_folder_and_every_folder_is_a_capability():
    folders = {name for name in os.listdir(os.path.join(ROOT, "functions"))
               if os.path.isfile(os.path.join(ROOT, "functions", name, "routes.py"))}
    assert folders == set(functions.CAPABILITIES)


def test_every_unit_a_setting_names_exists():
    units = set(functions.CAPABILITIES) | {"container", "worker", "admin"}
    unknown = {(s.name, u) for s in settings.SETTINGS if s.units != settings.ALL for u in s.units if u not in units}
    assert unknown == set()
