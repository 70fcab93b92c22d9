"""Settings of the custom-user run (``tests/django_toopher/test_custom_user.py`` starts
pytest on ``tests/custom_user/flow_check.py`` with these in a subprocess)."""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.custom_user"]  # noqa: F405
AUTH_USER_MODEL = "custom_user.EmailUser"
