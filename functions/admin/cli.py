"""Admin commands that belong to no capability: the local run."""
from .devstack import add_commands  # noqa: F401
