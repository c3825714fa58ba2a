"""Deployable entry of the backoffice capability (its own Lambda function)."""
from omcore.http import make_app

from functions.backoffice.routes import routes

app = make_app("openmerce-backoffice", routes, units=("backoffice",))
