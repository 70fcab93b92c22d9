"""toopher: a Python 3 client for the Toopher API v1."""

__version__ = "3.0.0.dev0"
