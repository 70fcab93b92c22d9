"""Pairing phrases expire: an old phrase pairs no one, answers as an unknown phrase, and
is deleted when phrases are made."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from toopher_server import lifecycle, phones
from toopher_server.models import Pairing, PairingPhrase

from .calls import URLCONF, Site
from .device_client import API, DeviceClient

pytestmark = [pytest.mark.django_db, pytest.mark.urls(URLCONF)]


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    cache.clear()


def age(phrase: PairingPhrase, seconds: int) -> None:
    """Make ``phrase`` as old as ``seconds``."""
    PairingPhrase.objects.filter(pk=phrase.pk).update(
        created=timezone.now() - timedelta(seconds=seconds)
    )


def pair(site: Site, phrase: str, user: str = "ann") -> tuple[int, dict]:
    answer = site.post("pairings/create", pairing_phrase=phrase, user_name=user)
    return answer.status_code, answer.json()


def test_an_expired_phrase_is_refused_like_an_unknown_one() -> None:
    site = Site(Client())
    phrase = phones.new_phrase(phones.create_phone("P"))
    age(phrase, lifecycle.DEFAULT_PAIRING_PHRASE_MAX_AGE + 1)
    expired = pair(site, phrase.phrase)
    unknown = pair(site, "nosuch phrase")
    assert expired == unknown and expired[0] == 409
    assert not Pairing.objects.exists()


def test_a_phrase_pairs_until_its_max_age() -> None:
    site = Site(Client())
    phrase = phones.new_phrase(phones.create_phone("P"))
    age(phrase, lifecycle.DEFAULT_PAIRING_PHRASE_MAX_AGE - 5)
    status, body = pair(site, phrase.phrase)
    assert status == 200, body
    assert Pairing.objects.get().phone_id == phrase.phone_id


@override_settings(TOOPHER_SERVER_PAIRING_PHRASE_MAX_AGE=60)
def test_the_max_age_is_a_setting() -> None:
    site = Site(Client())
    phrase = phones.new_phrase(phones.create_phone("P"))
    age(phrase, 61)
    assert pair(site, phrase.phrase)[0] == 409


def test_a_device_phrase_says_when_it_expires_and_then_stops_pairing() -> None:
    device = DeviceClient()
    assert device.enrol().status_code == 201
    answer = device.call("POST", f"{API}/pairing_phrases").json()
    assert answer["expires"] - answer["created"] == lifecycle.DEFAULT_PAIRING_PHRASE_MAX_AGE
    age(PairingPhrase.objects.get(phrase=answer["pairing_phrase"]), 601)
    assert pair(Site(Client()), answer["pairing_phrase"])[0] == 409


def test_making_a_phrase_deletes_the_expired_ones_and_keeps_the_live() -> None:
    phone = phones.create_phone("P")
    old_unused, old_used, live = (phones.new_phrase(phone) for _ in range(3))
    PairingPhrase.objects.filter(pk=old_used.pk).update(used=True)
    age(old_unused, 601)
    age(old_used, 601)
    newest = phones.new_phrase(phone)
    kept = set(PairingPhrase.objects.values_list("pk", flat=True))
    assert kept == {live.pk, newest.pk}


def test_the_simulator_shows_no_expired_phrase() -> None:
    phone = phones.create_phone("P")
    phrase = phones.new_phrase(phone)
    assert phones.current_phrase(phone) == phrase
    age(phrase, 601)
    assert phones.current_phrase(phone) is None


def test_an_expired_phrase_text_may_be_chosen_again() -> None:
    phone = phones.create_phone("P")
    first = phones.add_phrase(phone, "agile otter")
    age(first, 601)
    again = phones.add_phrase(phone, "agile otter")
    assert again.pk != first.pk
    assert not PairingPhrase.objects.filter(pk=first.pk).exists()
