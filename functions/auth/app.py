"""Deployable entry of the auth capability (its own Lambda function)."""
from omcore.http import make_app

from functions.auth.routes import routes

app = make_app("openmerce-auth", routes, units=("auth",))
