"""The audit trail: every pairing, request and decision recorded where it happens, in the
transaction of the change, chained under the audit key, append-only."""

from __future__ import annotations

import base64
import threading
from contextlib import closing
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.utils import timezone

from toopher_server import audit, phones, service, totp
from toopher_server.audit_models import AppendOnlyError, AuditRecord
from toopher_server.auditchain import AuditKeyError, generate_key, verify
from toopher_server.models import AuthenticationRequest, Pairing, ResetLink, User
from toopher_server.params import Params

from .calls import URLCONF, Frame, Site

pytestmark = [pytest.mark.django_db, pytest.mark.urls(URLCONF)]


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOOPHER_AUDIT_KEY", raising=False)


@pytest.fixture
def site(client: Client) -> Site:
    return Site(client)


def events(since: int = 0) -> list[tuple[str, str]]:
    return [(r.event, r.outcome) for r in AuditRecord.objects.filter(seq__gt=since)]


def head() -> int:
    last = AuditRecord.objects.order_by("-id").first()
    return last.seq if last else 0


def chain_ok() -> bool:
    with closing(audit.chained_entries()) as entries:
        return verify(entries, audit.audit_key()).ok


def initiate(site: Site, pairing_id: str, **extra: str) -> dict:
    answer = site.post("authentication_requests/initiate", pairing_id=pairing_id,
                       terminal_name="laptop", **extra)
    assert answer.status_code == 200, answer.content
    return answer.json()


# --- what is recorded, where ---------------------------------------------------------------------


def test_a_pairing_and_a_login_are_recorded_with_who_and_the_chain_verifies(site: Site) -> None:
    phone, pairing_id = site.paired("ann")
    auth = initiate(site, pairing_id, action_name="Log in")
    phones.respond_authentication(auth["id"], True, "ok")
    assert events() == [
        ("pairing.created", "pending"),
        ("pairing.allowed", "enabled"),
        ("authentication.initiated", "pending"),
        ("decision.allowed", "granted"),
    ]
    user = User.objects.get(name="ann")
    for row in AuditRecord.objects.all():
        assert (row.requester, row.user, row.device) == (
            str(site.requester.id), str(user.id), str(phone.id))
        assert row.details["user_name"] == "ann" and row.details["pairing"] == pairing_id
        assert row.time <= timezone.now()
    decision = AuditRecord.objects.get(event="decision.allowed")
    assert decision.details == {
        "request": auth["id"], "pairing": pairing_id, "action": "Log in",
        "terminal": auth["terminal"]["id"], "user_name": "ann", "remember": False, "reason": "ok",
    }
    assert [r.seq for r in AuditRecord.objects.all()] == [1, 2, 3, 4]
    assert chain_ok()


def test_qr_and_sms_pairings_and_a_denial(site: Site) -> None:
    site.post("pairings/create/qr", user_name="quinn")
    sms = site.post("pairings/create/sms", user_name="sam", phone_number="+15551234567").json()
    phones.respond_pairing(sms["id"], False)
    rows = list(AuditRecord.objects.all())
    assert [(r.event, r.outcome, r.details["kind"]) for r in rows] == [
        ("pairing.created", "pending", "qr"),
        ("pairing.created", "pending", "sms"),
        ("pairing.denied", "denied", "sms"),
    ]
    assert rows[0].device is None and rows[1].device == rows[2].device is not None


def test_deactivation_by_the_requester_the_phone_and_a_reset(site: Site, client: Client) -> None:
    _, first = site.paired("dora")
    _, second = site.paired("dora")
    _, third = site.paired("eve")
    start = head()
    assert site.post(f"pairings/{first}", deactivated="true").status_code == 200
    assert site.post(f"pairings/{first}", deactivated="true").status_code == 200  # no change
    assert site.post("users/reset", user_name="dora").status_code == 200  # only the second
    phones.deactivate_pairing(third)
    rows = list(AuditRecord.objects.filter(seq__gt=start))
    assert [(r.event, r.details["pairing"], r.details["by"]) for r in rows] == [
        ("pairing.deactivated", first, "requester"),
        ("pairing.reset", second, "requester"),
        ("pairing.deactivated", third, "phone"),
    ]
    assert {r.outcome for r in rows} == {"deactivated"}


def test_a_reset_link_used_is_a_reset(site: Site, client: Client) -> None:
    _, pairing_id = site.paired("rita")
    url = site.post(f"pairings/{pairing_id}/generate_reset_link").json()["url"]
    start = head()
    assert client.post(url.replace("http://testserver", ""), {"answer": ""}).status_code == 200
    assert client.post(url.replace("http://testserver", ""), {"answer": ""}).status_code == 404
    assert events(start) == [("pairing.reset", "deactivated")]
    assert AuditRecord.objects.get(seq=start + 1).details["by"] == "reset link"
    assert ResetLink.objects.get().used


def test_cancel_otp_automation_and_denial(site: Site) -> None:
    phone, pairing_id = site.paired("otto")
    secret = Pairing.objects.get(id=pairing_id).otp_secret
    start = head()
    cancelled = initiate(site, pairing_id)
    site.post(f"authentication_requests/{cancelled['id']}/cancel")
    site.post(f"authentication_requests/{cancelled['id']}/cancel")  # decided: no record
    bad = initiate(site, pairing_id)
    site.post(f"authentication_requests/{bad['id']}/otp_auth", otp="000000" if totp.totp(
        secret) != "000000" else "111111")
    good = initiate(site, pairing_id)
    site.post(f"authentication_requests/{good['id']}/otp_auth", otp=totp.totp(secret))
    initiate(site, pairing_id, otp=totp.totp(secret))
    remembered = initiate(site, pairing_id)
    phones.respond_authentication(remembered["id"], False, "not me", automate=True)
    initiate(site, pairing_id)  # the rule answers: denied at once
    assert events(start) == [
        ("authentication.initiated", "pending"),
        ("authentication.cancelled", "cancelled"),
        ("authentication.initiated", "pending"),
        ("authentication.otp_checked", "denied"),
        ("authentication.initiated", "pending"),
        ("authentication.otp_checked", "granted"),
        ("authentication.initiated", "granted"),
        ("authentication.otp_checked", "granted"),
        ("authentication.initiated", "pending"),
        ("decision.denied", "denied"),
        ("authentication.initiated", "denied"),
        ("decision.automated", "denied"),
    ]
    assert AuditRecord.objects.get(event="decision.denied").details["remember"] is True
    assert chain_ok()


def test_expiry_is_recorded_once(site: Site) -> None:
    _, pairing_id = site.paired("exa")
    auth = initiate(site, pairing_id)
    AuthenticationRequest.objects.filter(id=auth["id"]).update(
        created=timezone.now() - timedelta(hours=1))
    start = head()
    for _ in range(2):
        answer = site.call("GET", f"authentication_requests/{auth['id']}")
        assert answer.json()["pending"] is False
    assert events(start) == [("authentication.expired", "expired")]
    phone = Pairing.objects.get(id=pairing_id).phone
    assert phone is not None and list(phones.pending_authentications(phone)) == []
    assert events(start) == [("authentication.expired", "expired")]


def test_the_iframe_pairs_authenticates_and_unpairs_on_the_record(site: Site,
                                                                   client: Client) -> None:
    phone = phones.create_phone("P")
    phrase = phones.new_phrase(phone).phrase
    frame = Frame(client)
    assert frame.open(site.iframe().get_authentication_url("ivy", terminal_name="desk")) == "pair"
    assert frame.post("pair", pairing_phrase=phrase) == "wait_pairing"
    phones.respond_pairing(str(Pairing.objects.get(user__name="ivy").id), True)
    assert frame.open(site.iframe().get_authentication_url("ivy", terminal_name="desk")) in {
        "wait_auth", "name_terminal"}
    assert frame.open(site.iframe().get_user_management_url("ivy")) == "manage"
    assert frame.post("unpair") == "result"
    assert events() == [
        ("pairing.created", "pending"),
        ("pairing.allowed", "enabled"),
        ("authentication.initiated", "pending"),
        ("pairing.deactivated", "deactivated"),
    ]
    assert AuditRecord.objects.get(event="pairing.deactivated").details["by"] == "iframe"


def test_refused_calls_record_nothing(site: Site) -> None:
    _, pairing_id = site.paired("bob")
    start = head()
    assert site.post("pairings/create", pairing_phrase="no such", user_name="x").status_code == 409
    assert site.post("pairings/create/sms", user_name="x", phone_number="nope").status_code == 400
    assert site.post("authentication_requests/initiate", user_name="ghost").status_code == 409
    assert site.post("authentication_requests/initiate", pairing_id="zz").status_code == 404
    assert site.post(f"pairings/{pairing_id}", deactivated="maybe").status_code == 400
    assert events(start) == []


# --- one transaction with the change -------------------------------------------------------------


def test_a_record_rolls_back_with_its_change(site: Site) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        service.pair_qr(site.requester, Params([("user_name", "rolled")]))
        assert AuditRecord.objects.count() == 1
        raise RuntimeError("the change fails after its record")
    assert AuditRecord.objects.count() == 0 and not Pairing.objects.exists()
    service.pair_qr(site.requester, Params([("user_name", "kept")]))
    assert [r.seq for r in AuditRecord.objects.all()] == [1] and chain_ok()


def test_a_malformed_key_refuses_the_change_it_cannot_record(site: Site) -> None:
    with override_settings(TOOPHER_SERVER_AUDIT_KEY="not a key"), pytest.raises(AuditKeyError):
        service.pair_qr(site.requester, Params([("user_name", "nokey")]))
    assert not Pairing.objects.exists() and not AuditRecord.objects.exists()


# --- append-only ---------------------------------------------------------------------------------


def test_records_refuse_update_and_delete(site: Site) -> None:
    site.post("pairings/create/qr", user_name="quinn")
    row = AuditRecord.objects.get()
    row.outcome = "enabled"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.filter(pk=row.pk).update(outcome="x")
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.bulk_update([row], ["outcome"])
    assert AuditRecord.objects.get().outcome == "pending" and chain_ok()


def test_the_admin_shows_records_read_only(admin_client: Client, site: Site) -> None:
    site.post("pairings/create/qr", user_name="quinn")
    row = AuditRecord.objects.get()
    with override_settings(ROOT_URLCONF="tests.urls"):
        listing = admin_client.get("/admin/toopher_server/auditrecord/")
        assert listing.status_code == 200 and b"pairing.created" in listing.content
        page = admin_client.get(f"/admin/toopher_server/auditrecord/{row.pk}/change/")
        assert page.status_code == 200 and b'name="outcome"' not in page.content
        assert admin_client.post(f"/admin/toopher_server/auditrecord/{row.pk}/change/",
                                 {"outcome": "x"}).status_code == 403
        assert admin_client.get("/admin/toopher_server/auditrecord/add/").status_code == 403
        assert admin_client.post(f"/admin/toopher_server/auditrecord/{row.pk}/delete/",
                                 {"post": "yes"}).status_code == 403
    assert AuditRecord.objects.get().outcome == "pending"


# --- the key -------------------------------------------------------------------------------------


def test_the_key_comes_from_the_setting_or_the_environment_else_from_secret_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    derived = audit.audit_key()
    assert len(derived) == 32 and not audit.audit_key_is_explicit()
    with override_settings(SECRET_KEY="another-secret-key-for-this-test-0123456789"):
        assert audit.audit_key() != derived
    env_key, setting_key = generate_key(), generate_key()
    monkeypatch.setenv("TOOPHER_AUDIT_KEY", env_key)
    assert audit.audit_key_is_explicit()
    assert audit.audit_key() == base64.urlsafe_b64decode(env_key + "=")
    with override_settings(TOOPHER_SERVER_AUDIT_KEY=setting_key):
        assert audit.audit_key() == base64.urlsafe_b64decode(setting_key + "=")
    monkeypatch.setenv("TOOPHER_AUDIT_KEY", "short")
    with pytest.raises(AuditKeyError) as raised:
        audit.audit_key()
    assert "short" not in str(raised.value)


def test_a_chain_does_not_verify_under_another_key(site: Site,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    site.post("pairings/create/qr", user_name="k")
    assert chain_ok()
    monkeypatch.setenv("TOOPHER_AUDIT_KEY", generate_key())
    assert not chain_ok()


# --- concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_do_not_fork_the_chain(client: Client) -> None:
    """Threads with their own connections append at once: one line, no fork, no gap.

    On PostgreSQL (``make test-postgres``) this fails without the head's row lock: two
    appends read the same head and both write the next number."""
    site = Site(client)
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("an in-memory SQLite database is one connection's: see test-postgres")
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def append(n: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(5):
                service.pair_qr(site.requester, Params([("user_name", f"t{n}-{i}")]))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(r.seq for r in AuditRecord.objects.all()) == list(range(1, 21))
    assert chain_ok()


WRITER = """
import sys, django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["toopher_server"], SECRET_KEY="two-instances-share-this-secret-key-0123456789",
    USE_TZ=True, DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                                        "NAME": sys.argv[1], "OPTIONS": {"timeout": 30}}})
django.setup()
from django.core.management import call_command
from toopher_server import audit
if sys.argv[2] == "migrate":
    call_command("migrate", verbosity=0)
elif sys.argv[2] == "verifyaudit":  # the command as an operator runs it
    from django.core.management import execute_from_command_line
    execute_from_command_line(["manage.py", *sys.argv[2:]])
else:
    for i in range(int(sys.argv[3])):
        audit.record(audit.PAIRING_CREATED, "pending", requester=sys.argv[2], details={"i": i})
"""


def test_instances_appending_to_one_sqlite_file_at_once_do_not_fork(tmp_path) -> None:
    """Three processes (as three instances of the service) on one SQLite file.

    Without the write that takes SQLite's lock before the head is read, two appends
    hold read locks and wait on each other ("database is locked")."""
    import sqlite3
    import subprocess
    import sys

    database = str(tmp_path / "audit.sqlite3")
    subprocess.run([sys.executable, "-c", WRITER, database, "migrate"], check=True)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, database, f"instance-{n}", "40"])
               for n in range(3)]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0, 0]
    verified = subprocess.run([sys.executable, "-c", WRITER, database, "verifyaudit"],
                              capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("OK: 120 records verify; head 120:")
    head = verified.stdout.split()[-1]
    with sqlite3.connect(database) as raw:
        raw.execute(f"UPDATE {AuditRecord._meta.db_table} SET outcome = 'x' WHERE seq = 77")
    broken = subprocess.run([sys.executable, "-c", WRITER, database, "verifyaudit", "--anchor",
                             head], capture_output=True, text=True)
    assert broken.returncode == 1 and broken.stdout == ""
    assert "BROKEN at #77: altered: row 77 does not match its hash" in broken.stderr
