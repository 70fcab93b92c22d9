"""The django-toopher example site: settings, URLs and the WSGI entry point."""
