"""Routes of the cart capability (to be built; see the open issue)."""
from omcore.http import Routes

routes = Routes(__name__)
