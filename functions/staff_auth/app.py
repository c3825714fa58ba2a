"""Deployable entry of the staff_auth capability (its own Lambda function)."""
from omcore.http import make_app

from functions.staff_auth.routes import routes

app = make_app("openmerce-staff-auth", routes, units=("staff_auth",))
