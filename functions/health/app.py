"""Deployable entry of the health capability (its own Lambda function)."""
from omcore.http import make_app

from functions.health.routes import routes

app = make_app("openmerce-health", routes, units=("health",))
