"""The live service of the Firefox push test: ``tests.server.live_settings`` plus plain
http push endpoints on loopback (the test's push service) and the test page's URLs."""

from tests.server.live_settings import *  # noqa: F403

ROOT_URLCONF = "tests.push.live_urls"
TOOPHER_SERVER_PUSH_ALLOW_INSECURE_LOOPBACK = True
