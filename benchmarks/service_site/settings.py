"""The load test's settings of the service (``tests/faults/service_settings``: the
production settings, limits with room for the load) with the bare view's URLconf."""

from tests.faults.service_settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.service_site.urls"
