"""Deployable entry of the staff_auth capability (its own Lambda function)."""
import functions  # noqa: F401  (puts the shared layers on sys.path outside Lambda)
from omcore.http import make_app

from functions.staff_auth.routes import routes

app = make_app("openmerce-staff-auth", routes, units=("staff_auth",))
