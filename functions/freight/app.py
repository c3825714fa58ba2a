"""Deployable entry of the freight capability (its own Lambda function)."""
import functions  # noqa: F401  (puts the shared layers on sys.path outside Lambda)
from omcore.http import make_app

from functions.freight.routes import routes

app = make_app("openmerce-freight", routes, units=("freight",))
