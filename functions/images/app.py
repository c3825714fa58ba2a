"""Deployable entry of the images capability: the presigned-upload route and the SQS-triggered converter."""
from omcore.http import make_app

from functions.images import events
from functions.images.routes import routes

app = make_app("openmerce-images", routes, units=("images",))
events.register(app)
