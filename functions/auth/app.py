"""Deployable entry of the auth capability (its own Lambda function)."""
import functions  # noqa: F401  (puts the shared layers on sys.path outside Lambda)
from omcore.http import make_app

from functions.auth.routes import routes

app = make_app("openmerce-auth", routes, units=("auth",))
