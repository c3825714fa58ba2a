"""Deployable entry of the account capability (its own Lambda function)."""
from omcore.http import make_app

from functions.account.routes import routes

app = make_app("openmerce-account", routes, units=("account",))
