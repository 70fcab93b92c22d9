"""The login flow with a custom user model (e-mail user name, UUID primary key).

Not collected by the main run (its name does not start with ``test_``): it needs
``DJANGO_SETTINGS_MODULE=tests.custom_user.settings`` and is run in a subprocess by
``tests/django_toopher/test_custom_user.py``.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client

from django_toopher.decorators import toopher_required  # noqa: F401  (importable)
from django_toopher.internal.client import get_client
from django_toopher.internal.flows import pairing
from django_toopher.models import ToopherProfile
from django_toopher.session_keys import PENDING

PASSWORD = "a custom user passphrase"

pytestmark = pytest.mark.django_db


@pytest.fixture
def conf(settings, toopher_requester):
    settings.TOOPHER = {
        "CONSUMER_KEY": toopher_requester["key"],
        "CONSUMER_SECRET": toopher_requester["secret"],
        "API_URL": toopher_requester["api_url"],
        "POLL_INTERVAL": 1,
    }
    return settings.TOOPHER


@pytest.mark.parametrize("mode", ["stored", "zero_storage"])
def test_custom_user_login(conf, toopher_sandbox, toopher_phone, mode):
    conf["MODE"] = mode
    User = get_user_model()
    assert User._meta.label == "custom_user.EmailUser"
    user = User.objects.create_user("dora@example.com", PASSWORD)
    attempt, problem = pairing.start(user, toopher_phone.pairing_phrase)
    assert attempt is not None, problem
    assert attempt.user == str(user.pk)  # a UUID key, kept JSON-safe
    assert get_client().get_pairing_status(attempt.id).user_name == "dora@example.com"
    toopher_sandbox.respond_pairing(attempt.id, allow=True)
    result = pairing.poll(None, user, attempt)
    assert result.state is pairing.PairingState.PAIRED, result
    if mode == "stored":
        assert ToopherProfile.objects.get(user=user).pairing_id == attempt.id

    client = Client()
    client.post("/accounts/login/", {"username": "dora@example.com", "password": PASSWORD,
                                     "next": "/private/"})
    assert SESSION_KEY not in client.session
    assert client.session[PENDING]["user"] == str(user.pk)
    client.get("/toopher/pending/")
    client.post("/toopher/pending/terminal/", {"name": "Dora's laptop"})
    client.get("/toopher/pending/")
    item = toopher_sandbox.wait_for_pending(
        toopher_phone.phone_id, "authentication_requests", timeout=5
    )
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "granted" and data["redirect"] == "/private/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.get("/private/").content == b"private: dora@example.com"
