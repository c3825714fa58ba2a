"""The images capability's logic; storage itself is shared with the back office in omcommerce.media."""
from omcommerce.media import *  # noqa: F401,F403
