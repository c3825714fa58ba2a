"""Deployable entry of the desk capability (its own Lambda function): the order desk and the reset page."""
from omcore.http import make_app

from functions.desk.routes import routes

app = make_app("openmerce-desk", routes, units=("desk",))
