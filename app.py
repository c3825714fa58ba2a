"""One Chalice app composing every capability: local runs, the container image, and a single-function deploy.

Each capability is also deployable alone from ``functions/<name>/app.py``; both register the same Blueprints, so a
route behaves identically wherever it runs.
"""
import importlib

from omcore.http import make_app

import functions

# the composed app serves everything, so it needs every capability's settings (omcore.settings)
app = make_app("openmerce", *(importlib.import_module(f"functions.{name}.routes").routes
                              for name in functions.CAPABILITIES),
               units=functions.CAPABILITIES + ("container",))

for _name, _events in functions.capability_modules("events"):
    _events.register(app)
