"""Deployable entry of the payments capability (its own Lambda function)."""
from omcore.http import make_app

from functions.payments.routes import routes

app = make_app("openmerce-payments", routes, units=("payments",))
