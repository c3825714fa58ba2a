"""Routes of the images capability (to be built; see the open issue)."""
from omcore.http import Routes

routes = Routes(__name__)
