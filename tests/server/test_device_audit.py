"""Device enrolments are audited (a new device, and its key enrolled again), with the
device id, its label and the client address; the chain still verifies."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, override_settings

from toopher_server import audit
from toopher_server.audit_models import AuditRecord
from toopher_server.models import Device

from .device_client import API, DeviceClient

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.server.urls")]


@pytest.fixture(autouse=True)
def _fresh_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOOPHER_AUDIT_KEY", raising=False)
    cache.clear()


def enrolments() -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(event=audit.DEVICE_ENROLLED).order_by("seq"))


def test_an_enrolment_and_its_retry_are_audited() -> None:
    phone = DeviceClient(label="Ann's phone")
    assert phone.enrol().status_code == 201
    assert phone.enrol().status_code == 200  # the same key again: a no-op
    device = Device.objects.get()
    first, again = enrolments()
    assert (first.outcome, again.outcome) == ("enrolled", "unchanged")
    for row in (first, again):
        assert row.device == str(device.phone_id)
        assert row.details == {
            "device_id": device.id, "label": "Ann's phone", "address": "127.0.0.1"
        }


@override_settings(TOOPHER_SERVER_TRUSTED_PROXIES=1)
def test_the_audited_address_is_the_client_behind_the_proxy() -> None:
    phone = DeviceClient()
    phone.client = Client(REMOTE_ADDR="10.0.0.1")
    body = json.dumps({"jwk": phone.device.key.public_jwk}).encode()
    answer = phone.call("POST", f"{API}/devices", body,
                        headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.4"})
    assert answer.status_code == 201, answer.content
    [row] = enrolments()
    assert row.details["address"] == "203.0.113.4"


def test_a_refused_enrolment_records_nothing() -> None:
    phone = DeviceClient()
    body = b'{"jwk": {"kty": "RSA"}}'
    assert phone.call("POST", f"{API}/devices", body).status_code == 400
    other = DeviceClient()
    unsigned = other.call("POST", f"{API}/devices", b"{}", sign=False)
    assert unsigned.status_code == 401
    assert enrolments() == [] and not Device.objects.exists()


def test_the_chain_with_enrolments_verifies() -> None:
    for label in ("one", "two"):
        phone = DeviceClient(label=label)
        assert phone.enrol().status_code == 201
        assert phone.enrol().status_code == 200
    out = StringIO()
    call_command("verifyaudit", stdout=out)
    assert "OK" in out.getvalue() and "4 records" in out.getvalue()
