# The one line a site adds to use django_toopher's fixtures.
pytest_plugins = ["django_toopher.pytest_plugin"]
