"""``python -m toopher_sandbox``: run the sandbox on its own (see ``server.main``)."""

from .server import main

if __name__ == "__main__":
    raise SystemExit(main())
