"""Deployable entry of the catalogue capability (its own Lambda function)."""
import functions  # noqa: F401  (puts the shared layers on sys.path outside Lambda)
from omcore.http import make_app

from functions.catalogue.routes import routes

app = make_app("openmerce-catalogue", routes, units=("catalogue",))
