"""django_toopher's internals: free to change between releases, not public API.

Views and the public modules call the flows in :mod:`.flows`; the flows use the
small modules here, each with one job (see docs/architecture.md)."""
