"""Reset links kept as hashes, mail really sent (never stored), SMS only with a sender.

The sandbox app is installed in the test settings, so its outbox is the sender unless a
test asks for the service's own delivery (``delivered_by_the_service``).
"""

from __future__ import annotations

import hashlib
import socket
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test import Client, override_settings

from toopher_sandbox.models import Message
from toopher_server import messaging, reset_links
from toopher_server.models import Pairing, ResetLink, User

from .calls import URLCONF, Frame, Site
from .outgoing import delivered_by_the_service

pytestmark = [pytest.mark.django_db, pytest.mark.urls(URLCONF)]

LOCMEM = override_settings(
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    DEFAULT_FROM_EMAIL="toopher@service.example",
)


@pytest.fixture
def site() -> Site:
    return Site(Client())


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["reset_authorization"][0]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def closed_port() -> int:
    """A loopback port nothing listens on (a mail server that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def reset_state() -> tuple[Any, ...]:
    return (
        ResetLink.objects.count(),
        list(Pairing.objects.values_list("id", "deactivated", "state")),
        Message.objects.count(),
        len(mail.outbox),
    )


# --- reset links: only a hash is kept -------------------------------------------------


def test_a_reset_link_keeps_only_the_hash_of_its_128_bit_token(site: Site) -> None:
    _, pairing_id = site.paired("ann")
    answer = site.post(f"pairings/{pairing_id}/generate_reset_link")
    assert answer.status_code == 200, answer.content
    token = token_of(answer.json()["url"])
    assert len(token) >= 22  # 16 random bytes, base64url
    link = ResetLink.objects.get()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(list(ResetLink.objects.values()))


def test_the_link_works_once_by_its_token(site: Site) -> None:
    _, pairing_id = site.paired("ann")
    url = site.post(f"pairings/{pairing_id}/generate_reset_link").json()["url"]
    browser = Client()
    assert browser.get(path_of(url)).status_code == 200
    assert browser.post(path_of(url)).status_code == 200
    assert Pairing.objects.get(pk=pairing_id).deactivated
    assert browser.post(path_of(url)).status_code == 404  # replayed: already used


def test_a_tampered_or_another_pairings_token_is_refused(site: Site) -> None:
    _, mine = site.paired("ann")
    _, theirs = site.paired("bea")
    url = site.post(f"pairings/{mine}/generate_reset_link").json()["url"]
    token = token_of(url)
    browser = Client()
    for path in (
        f"/pairings/{theirs}/reset?reset_authorization={token}",  # another user's pairing
        f"/pairings/{mine}/reset?reset_authorization={token[:-1]}",  # tampered
        f"/pairings/{mine}/reset?reset_authorization={hashlib.sha256(token.encode()).hexdigest()}",
        f"/pairings/{mine}/reset?reset_authorization={'x' * 5000}",
        f"/pairings/{mine}/reset",
    ):
        assert browser.post(path).status_code == 404, path
    assert not Pairing.objects.filter(deactivated=True).exists()


# --- email: sent through Django's backend, never stored -------------------------------


@LOCMEM
def test_send_reset_link_mails_a_working_link_and_stores_no_message(site: Site) -> None:
    _, pairing_id = site.paired("ann")
    with delivered_by_the_service():
        answer = site.post(f"pairings/{pairing_id}/send_reset_link", reset_email="ann@example.com")
    assert answer.status_code == 200, answer.content
    [sent] = mail.outbox
    assert sent.to == ["ann@example.com"] and sent.from_email == "toopher@service.example"
    url = next(word for word in sent.body.split() if "reset_authorization=" in word)
    assert not Message.objects.exists()
    assert token_of(url) not in repr(list(ResetLink.objects.values()))
    assert Client().post(path_of(url)).status_code == 200
    assert Pairing.objects.get(pk=pairing_id).deactivated


def test_a_failing_mail_server_is_a_clear_503_that_changes_nothing(site: Site) -> None:
    _, pairing_id = site.paired("ann")
    before = reset_state()
    down = override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=closed_port(),
        EMAIL_TIMEOUT=2,
    )
    with down, delivered_by_the_service():
        answer = site.post(f"pairings/{pairing_id}/send_reset_link", reset_email="ann@example.com")
    assert answer.status_code == 503, answer.content
    assert answer.json()["error_code"] == 503
    assert "could not be sent" in answer.json()["error_message"]
    assert reset_state() == before


@override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
def test_without_a_mail_server_send_reset_link_is_refused_before_any_write(site: Site) -> None:
    _, pairing_id = site.paired("ann")
    before = reset_state()
    with delivered_by_the_service():
        answer = site.post(f"pairings/{pairing_id}/send_reset_link", reset_email="ann@example.com")
    assert answer.status_code == 403 and "sends no email" in answer.json()["error_message"]
    assert reset_state() == before


def test_the_sandbox_keeps_the_mail_in_its_outbox(site: Site) -> None:
    _, pairing_id = site.paired("ann")
    answer = site.post(f"pairings/{pairing_id}/send_reset_link", reset_email="ann@example.com")
    assert answer.status_code == 200, answer.content
    [kept] = Message.objects.all()
    assert (kept.kind, kept.to) == (Message.EMAIL, "ann@example.com")
    assert "reset_authorization=" in kept.body and not mail.outbox


def test_the_iframes_reset_email_with_a_failing_mail_server_says_so(site: Site) -> None:
    site.paired("otto")
    frame = Frame(Client())
    frame.open(site.iframe().get_authentication_url("otto", reset_email="otto@example.com"))
    assert frame.post("name_terminal", terminal_name="Desk") == "wait_auth"
    before = reset_state()

    def broken(message: messaging.OutgoingMessage) -> None:
        raise OSError("mail server down")

    with delivered_by_the_service(broken):
        assert frame.post("reset") == "wait_auth"
    assert "could not be sent" in frame.page and "was sent" not in frame.page
    assert reset_state() == before


# --- SMS: only through a sender ---------------------------------------------------------


def sms(site: Site, user: str = "carl") -> Any:
    return site.post("pairings/create/sms", phone_number="+15555550123", user_name=user)


def test_without_a_sender_sms_pairing_is_a_clear_toopher_error(site: Site) -> None:
    with delivered_by_the_service():
        answer = sms(site)
    assert answer.status_code == 403, answer.content
    assert "sends no SMS" in answer.json()["error_message"]
    assert not Pairing.objects.exists() and not User.objects.exists()


def test_the_sandbox_sender_keeps_the_text(site: Site) -> None:
    answer = sms(site)
    assert answer.status_code == 200, answer.content
    [kept] = Message.objects.all()
    assert (kept.kind, kept.to) == (Message.SMS, "+15555550123")
    assert Pairing.objects.get().state == Pairing.PENDING


def test_a_failing_sender_leaves_no_usable_pairing(site: Site) -> None:
    def broken(message: messaging.OutgoingMessage) -> None:
        raise ConnectionError("gateway down")

    with delivered_by_the_service(broken):
        answer = sms(site)
    assert answer.status_code == 503 and answer.json()["error_code"] == 503
    assert not Pairing.objects.filter(deactivated=False).exists()


# --- never inside a transaction ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_messages_are_sent_outside_any_transaction(site: Site) -> None:
    seen: list[bool] = []

    def watching(message: messaging.OutgoingMessage) -> None:
        seen.append(connection.in_atomic_block)

    _, pairing_id = site.paired("ann")
    with delivered_by_the_service(watching):
        assert sms(site).status_code == 200
        answer = site.post(f"pairings/{pairing_id}/send_reset_link", reset_email="ann@example.com")
        assert answer.status_code == 200
    assert seen == [False, False]


# --- the migration ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_the_tokens_of_existing_links() -> None:
    from django.db.migrations.executor import MigrationExecutor

    before = [("toopher_server", "0004_audit")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    requester = old.get_model("toopher_server", "Requester").objects.create(
        name="Old", key="old-key", secret_sealed="x"
    )
    user = old.get_model("toopher_server", "User").objects.create(requester=requester, name="u")
    phone = old.get_model("toopher_server", "Phone").objects.create(name="p")
    pairing = old.get_model("toopher_server", "Pairing").objects.create(
        requester=requester, user=user, phone=phone
    )
    old.get_model("toopher_server", "ResetLink").objects.create(
        token="an-old-clear-token", pairing=pairing
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    link = ResetLink.objects.get()
    assert link.token_hash == reset_links.token_digest("an-old-clear-token")
    assert reset_links.find(link.pairing, "an-old-clear-token") == link  # still works
