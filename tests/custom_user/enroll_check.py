"""Enrollment, password re-entry and the admin actions with a custom user model
(e-mail user name, UUID primary key).

Not collected by the main run: ``tests/django_toopher/test_custom_user.py``
runs it in a subprocess with ``DJANGO_SETTINGS_MODULE=tests.custom_user.settings``.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from django_toopher.models import AuditEvent, ToopherProfile
from django_toopher.session_keys import AUTH_AT

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
    caches["default"].clear()
    return settings.TOOPHER


def test_enroll_and_admin_disable_with_a_custom_user(conf, toopher_sandbox, toopher_phone):
    User = get_user_model()
    assert User._meta.label == "custom_user.EmailUser"
    dora = User.objects.create_user("dora@example.com", PASSWORD)
    client = Client()
    client.force_login(dora)
    session = client.session
    session[AUTH_AT] = time.time() - 100_000
    session.save()

    # Password re-entry uses the e-mail USERNAME_FIELD.
    response = client.get(reverse("django_toopher:pair"))
    assert response["Location"].startswith(reverse("django_toopher:reauth"))
    response = client.post(reverse("django_toopher:reauth"),
                           {"password": PASSWORD, "next": reverse("django_toopher:pair")})
    assert response["Location"] == reverse("django_toopher:pair")

    # Pairing by phrase, with a UUID primary key in the session state.
    response = client.post(reverse("django_toopher:pair"),
                           {"op": "phrase", "pairing_phrase": toopher_phone.pairing_phrase})
    assert response.status_code == 302
    pairing_id = client.session["_toopher_pairing"]["id"]
    toopher_sandbox.respond_pairing(pairing_id, allow=True)
    caches["default"].clear()
    assert client.get(reverse("django_toopher:pair_status")).json()["status"] == "paired"
    assert ToopherProfile.objects.get(user=dora).pairing_id == pairing_id

    # The admin's profile changelist disables her and ends her session.
    root = User.objects.create_superuser("root@example.com", "pw")
    admin = Client()
    admin.force_login(root)
    profile = ToopherProfile.objects.get(user=dora)
    url = reverse("admin:django_toopher_toopherprofile_changelist")
    response = admin.post(url, {"action": "toopher_disable",
                                "_selected_action": [profile.pk], "post": "yes"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.enabled is False
    assert AuditEvent.objects.get(kind="admin_disabled").actor == root
    assert SESSION_KEY not in client.session
