"""Deployable entry of the freight capability (its own Lambda function)."""
from omcore.http import make_app

from functions.freight.routes import routes

app = make_app("openmerce-freight", routes, units=("freight",))
