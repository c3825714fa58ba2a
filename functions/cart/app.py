"""Deployable entry of the cart capability (its own Lambda function)."""
from omcore.http import make_app

from functions.cart.routes import routes

app = make_app("openmerce-cart", routes, units=("cart",))
