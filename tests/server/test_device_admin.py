"""The administrator's lost-phone actions: remove a device, reset a user's pairings.

Each is audited with the acting administrator; no admin page shows key material.
"""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from toopher_server import devices, phones, service
from toopher_server.audit_models import AuditRecord
from toopher_server.models import Device, Pairing, Phone, Requester
from toopher_server.requesters import create_requester
from toopher_server.testing import DeviceKey

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls")]

ADMIN = "/admin/toopher_server"


@pytest.fixture
def requester() -> Requester:
    return create_requester("Example Shop")


def enrolled(label: str = "Ann's phone") -> Device:
    key = DeviceKey.generate()
    device, created = devices.enrol(devices.Enrolment(key.public_key, label))
    assert created
    return device


def paired(requester: Requester, device: Device, user: str = "ann") -> Pairing:
    phrase = phones.new_phrase(device.phone).phrase
    pairing = service.pair_user_with_phrase(requester, user, phrase)
    return phones.respond_pairing(str(pairing.id), True)


def action(client: Client, model: str, name: str, ids: list[Any]) -> Any:
    return client.post(
        f"{ADMIN}/{model}/",
        {"action": name, "_selected_action": [str(i) for i in ids]},
    )


def audited(event: str) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(event=event).order_by("seq"))


def test_no_admin_page_shows_key_material(admin_client: Client, requester: Requester) -> None:
    device = enrolled()
    pairing = paired(requester, device)
    pages = [
        f"{ADMIN}/device/", f"{ADMIN}/device/{device.pk}/change/",
        f"{ADMIN}/pairing/", f"{ADMIN}/pairing/{pairing.pk}/change/",
        f"{ADMIN}/user/", f"{ADMIN}/user/{pairing.user_id}/change/",
    ]  # fmt: skip
    for url in pages:
        page = admin_client.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        assert device.public_jwk["x"] not in text and device.public_jwk["y"] not in text
        assert pairing.otp_secret not in text
    assert html.escape(device.label) in admin_client.get(f"{ADMIN}/device/").content.decode()
    assert admin_client.get(f"{ADMIN}/device/add/").status_code == 403


def test_removing_a_device_is_audited_with_the_admin(
    admin_client: Client, admin_user: Any, requester: Requester
) -> None:
    device = enrolled()
    other = enrolled("Ann's tablet")
    Device.objects.filter(pk=other.pk).update(phone=device.phone)
    Phone.objects.exclude(pk=device.phone_id).delete()
    pairing = paired(requester, device)
    response = action(admin_client, "device", "remove_devices", [device.pk])
    assert response.status_code == 302
    assert list(Device.objects.values_list("pk", flat=True)) == [other.pk]
    assert Pairing.objects.get(pk=pairing.pk).usable  # the tablet still answers
    (removed,) = audited("device.removed")
    assert removed.details["by"] == f"admin:{admin_user.get_username()}"
    assert removed.details["device"] == device.pk


def test_deleting_the_last_device_from_its_page_deactivates_its_pairings(
    admin_client: Client, admin_user: Any, requester: Requester
) -> None:
    device = enrolled()
    pairing = paired(requester, device)
    response = admin_client.post(f"{ADMIN}/device/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Device.objects.exists()
    assert Pairing.objects.get(pk=pairing.pk).deactivated
    by = f"admin:{admin_user.get_username()}"
    assert [r.details["by"] for r in audited("device.removed")] == [by]
    assert [r.details["by"] for r in audited("pairing.deactivated")] == [by]


def test_resetting_a_users_pairings_is_audited_with_the_admin(
    admin_client: Client, admin_user: Any, requester: Requester
) -> None:
    device = enrolled()
    ann = paired(requester, device, "ann")
    bob = paired(requester, enrolled("Bob's phone"), "bob")
    response = action(admin_client, "user", "reset_pairings", [ann.user_id])
    assert response.status_code == 302
    assert Pairing.objects.get(pk=ann.pk).deactivated
    assert Pairing.objects.get(pk=bob.pk).usable
    (reset,) = audited("pairing.reset")
    assert (reset.user, reset.details["by"]) == (
        str(ann.user_id), f"admin:{admin_user.get_username()}",
    )
    assert Device.objects.count() == 2  # the phones stay; only the pairings end


def test_resetting_selected_pairings(admin_client: Client, requester: Requester) -> None:
    pairing = paired(requester, enrolled())
    action(admin_client, "pairing", "reset_pairings", [pairing.pk])
    assert Pairing.objects.get(pk=pairing.pk).deactivated
    assert len(audited("pairing.reset")) == 1


def test_a_staff_user_who_may_only_view_cannot_reset(requester: Requester) -> None:
    pairing = paired(requester, enrolled())
    viewer = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "view_pairing", "view_device"])
    )
    client = Client()
    client.force_login(viewer)
    assert client.get(f"{ADMIN}/pairing/").status_code == 200
    action(client, "pairing", "reset_pairings", [pairing.pk])
    action(client, "device", "remove_devices", [pairing.phone.devices.get().pk])
    assert Pairing.objects.get(pk=pairing.pk).usable and Device.objects.count() == 1
    assert not audited("pairing.reset") and not audited("device.removed")
