"""WSGI entry of the container: the composed Chalice app (every capability) behind omcore.wsgi.

gunicorn loads ``wsgi:application`` (see gunicorn.conf.py); the parity test starts the same entrypoint."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import functions  # noqa: E402,F401  (shared layers onto sys.path)
from omcore.wsgi import make_wsgi_app  # noqa: E402

from app import app as chalice_app  # noqa: E402

application = make_wsgi_app(chalice_app, usercontent=os.environ.get("SERVE_USERCONTENT", "1") == "1")
