"""Deployable entry of the checkout capability (its own Lambda function, plus the expiry schedule)."""
from omcore.http import make_app

from functions.checkout import events
from functions.checkout.routes import routes

app = make_app("openmerce-checkout", routes, units=("checkout",))
events.register(app)
