"""Deployable entry of the checkout capability (its own Lambda function, plus the expiry schedule)."""
import functions  # noqa: F401  (puts the shared layers on sys.path outside Lambda)
from omcore.http import make_app

from functions.checkout import events
from functions.checkout.routes import routes

app = make_app("openmerce-checkout", routes, units=("checkout",))
events.register(app)
