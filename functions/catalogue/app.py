"""Deployable entry of the catalogue capability (its own Lambda function)."""
from omcore.http import make_app

from functions.catalogue.routes import routes

app = make_app("openmerce-catalogue", routes, units=("catalogue",))
