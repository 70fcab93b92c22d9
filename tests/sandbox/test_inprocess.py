"""The sandbox mounted in a Django project (tests/urls.py mounts it at /sandbox/)."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.checks import run_checks
from django.test import Client
from django.test.utils import override_settings
from oauthlib.oauth1 import Client as OAuthClient

from toopher_sandbox.checks import W001
from toopher_server import nonces as service_nonces
from toopher_server import phones, totp
from toopher_server.models import AuthenticationRequest, Pairing, Phone, Requester
from toopher_server.phrases import generate_phrase
from toopher_server.requesters import ensure_requester

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
PACKAGE = Path(__file__).resolve().parents[2] / "toopher_sandbox"


@pytest.fixture
def creds():
    ensure_requester("inproc-key", "inproc-secret", "In-process site")
    return ("inproc-key", "inproc-secret")


def signed(client, method, path, creds, data=None, **oauth_kw):
    """A signed call through Django's test client (host ``testserver``)."""
    oauth = OAuthClient(creds[0], client_secret=creds[1], **oauth_kw)
    url = f"http://testserver{path}"
    if method == "GET":
        query = f"?{urlencode(data)}" if data else ""
        _, headers, _ = oauth.sign(url + query, http_method="GET")
        return client.get(path, data or {}, HTTP_AUTHORIZATION=headers["Authorization"])
    body = urlencode(data or {})
    _, headers, body = oauth.sign(url, http_method="POST", body=body,
                                  headers={"Content-Type": FORM})
    return client.post(path, body, content_type=FORM, HTTP_AUTHORIZATION=headers["Authorization"])


def new_phone_with_phrase():
    phone = phones.create_phone("P")
    return phone, phones.new_phrase(phone).phrase


def test_api_works_under_a_prefix_and_builds_urls_from_the_request(client, creds):
    phone, phrase = new_phone_with_phrase()
    response = signed(client, "POST", "/sandbox/v1/pairings/create", creds,
                      {"pairing_phrase": phrase, "user_name": "ann"})
    assert response.status_code == 200, response.content
    pairing_id = response.json()["id"]
    link = signed(client, "POST", f"/sandbox/v1/pairings/{pairing_id}/generate_reset_link",
                  creds).json()["url"]
    assert link.startswith(f"http://testserver/sandbox/pairings/{pairing_id}/reset?")
    qr = signed(client, "GET", f"/sandbox/v1/qr/pairings/{pairing_id}", creds)
    assert qr.status_code == 200 and qr["Content-Type"] == "image/png"
    with override_settings(TOOPHER_SANDBOX_CONTROL_TOKEN="in-process-token-1234"):
        made = client.post("/sandbox/control/requesters", "{}", content_type="application/json",
                           headers={"X-Sandbox-Token": "in-process-token-1234"})
    assert made.json()["api_url"] == "http://testserver/sandbox/v1"
    assert client.get("/sandbox/v1").json()["api_url"] == "http://testserver/sandbox/v1"


def test_signature_over_another_path_is_rejected(client, creds):
    """The base string uses the real (prefixed) URL: signing /v1/... without the prefix fails."""
    oauth = OAuthClient(creds[0], client_secret=creds[1])
    _, headers, _ = oauth.sign("http://testserver/v1/users?name=x", http_method="GET")
    response = client.get("/sandbox/v1/users", {"name": "x"},
                          HTTP_AUTHORIZATION=headers["Authorization"])
    assert response.status_code == 401


@override_settings(TOOPHER_SANDBOX_TIMESTAMP_WINDOW=30)
def test_timestamp_window_setting(client, creds):
    old = str(int(time.time()) - 60)
    assert signed(client, "GET", "/sandbox/v1/users", creds, {"name": "x"},
                  timestamp=old).status_code == 401
    assert signed(client, "GET", "/sandbox/v1/users", creds, {"name": "x"}).status_code == 200


def test_ensure_requester_is_idempotent_and_updates():
    first = ensure_requester("site-key", "s1", "Site")
    again = ensure_requester("site-key", "s1", "Site")
    assert first.pk == again.pk
    changed = ensure_requester("site-key", "s2", "Site 2")
    assert changed.pk == first.pk
    assert (changed.current_secret(), changed.name) == ("s2", "Site 2")
    assert Requester.objects.filter(key="site-key").count() == 1
    with pytest.raises(ValueError):
        ensure_requester("", "x", "y")


def test_system_check_warns_without_debug():
    with override_settings(DEBUG=False):
        assert W001 in [m.id for m in run_checks()]
    with override_settings(DEBUG=True):
        assert W001 not in [m.id for m in run_checks()]


@pytest.mark.parametrize(
    ("at", "expected"),
    [(59, "287082"), (1111111109, "081804"), (1111111111, "050471"),
     (1234567890, "005924"), (2000000000, "279037"), (20000000000, "353130")],
)
def test_totp_rfc6238_vectors(at, expected):
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.totp(secret, at) == expected
    assert totp.verify(secret, expected, at=at + 30)
    assert not totp.verify(secret, expected, at=at + 95)
    assert not totp.verify(secret, "12345", at=at)
    assert not totp.verify(secret, "１２３４５６", at=at)


def test_phrases_are_two_lowercase_words():
    for _ in range(50):
        words = generate_phrase().split(" ")
        assert len(words) == 2 and all(w.isalpha() and w.islower() for w in words)


def test_ids_are_lowercase_uuid4(client, creds):
    user = signed(client, "POST", "/sandbox/v1/users/create", creds, {"name": "u"}).json()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        user["id"])
    upper = signed(client, "GET", f"/sandbox/v1/users/{user['id'].upper()}", creds)
    assert upper.status_code == 200 and upper.json()["id"] == user["id"]


# --- the phone page ----------------------------------------------------------------------------


def pending_auth(client, creds, phone, phrase):
    pairing = signed(client, "POST", "/sandbox/v1/pairings/create", creds,
                     {"pairing_phrase": phrase, "user_name": "pat@example.com"}).json()
    phones.respond_pairing(pairing["id"], True)
    auth = signed(client, "POST", "/sandbox/v1/authentication_requests/initiate", creds,
                  {"pairing_id": pairing["id"], "terminal_name": "Kitchen PC",
                   "action_name": "Change email"}).json()
    return pairing, auth


def csrf_of(response) -> str:
    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.content)[1].decode()


def test_phone_page_shows_requests_and_answers_with_csrf(creds):
    browser = Client(enforce_csrf_checks=True)
    phone, phrase = new_phone_with_phrase()
    page = browser.get(f"/sandbox/phone/{phone.id}/")
    assert page.status_code == 200 and phrase.encode() in page.content
    pairing, auth = pending_auth(Client(), creds, phone, phrase)

    page = browser.get(f"/sandbox/phone/{phone.id}/")
    html = page.content.decode()
    for text in ("In-process site", "pat@example.com", "Change email", "Kitchen PC"):
        assert text in html
    assert html.count('name="csrfmiddlewaretoken"') >= 3
    respond = f"/sandbox/phone/{phone.id}/requests/{auth['id']}/respond"

    assert browser.post(respond, {"answer": "allow"}).status_code == 403  # no token
    assert AuthenticationRequest.objects.get(id=auth["id"]).pending is True

    code = AuthenticationRequest.objects.get(id=auth["id"]).verification_code  # the site shows it
    answer = browser.post(respond, {"code": code, "automate": "on",
                                    "csrfmiddlewaretoken": csrf_of(page)})
    assert answer.status_code == 302
    decided = AuthenticationRequest.objects.get(id=auth["id"])
    assert (decided.pending, decided.granted) == (False, True)
    page = browser.get(answer["Location"])
    assert b"Request allowed." in page.content
    assert b"Change email" in page.content  # now listed as an automation
    otp = phones.otp_of(Pairing.objects.get(id=pairing["id"]))
    assert otp.encode() in page.content


def test_phone_page_pairing_phrase_remove_and_state(creds):
    browser = Client(enforce_csrf_checks=True)
    phone, phrase = new_phone_with_phrase()
    page = browser.get(f"/sandbox/phone/{phone.id}/")
    token = csrf_of(page)
    browser.post(f"/sandbox/phone/{phone.id}/phrase", {"csrfmiddlewaretoken": token})
    assert phone.phrases.filter(used=False).count() == 2
    state = browser.get(f"/sandbox/phone/{phone.id}/state").json()
    assert state["pending"] == 0 and state["otps"] == {}

    pairing = signed(Client(), "POST", "/sandbox/v1/pairings/create", creds,
                     {"pairing_phrase": phones.current_phrase(phone).phrase,
                      "user_name": "rem"}).json()
    state2 = browser.get(f"/sandbox/phone/{phone.id}/state").json()
    assert state2["pending"] == 1 and state2["signature"] != state["signature"]
    browser.post(f"/sandbox/phone/{phone.id}/pairings/{pairing['id']}/respond",
                 {"answer": "allow", "csrfmiddlewaretoken": token})
    state3 = browser.get(f"/sandbox/phone/{phone.id}/state").json()
    assert list(state3["otps"]) == [pairing["id"]]
    browser.post(f"/sandbox/phone/{phone.id}/pairings/{pairing['id']}/remove",
                 {"csrfmiddlewaretoken": token})
    assert Pairing.objects.get(id=pairing["id"]).deactivated is True


def test_phone_cannot_answer_another_phones_requests(creds):
    browser = Client()
    phone, phrase = new_phone_with_phrase()
    other = phones.create_phone("Other")
    _, auth = pending_auth(Client(), creds, phone, phrase)
    response = browser.post(f"/sandbox/phone/{other.id}/requests/{auth['id']}/respond",
                            {"answer": "allow"})
    assert response.status_code == 404
    assert AuthenticationRequest.objects.get(id=auth["id"]).pending is True


def test_qr_deep_link_page_claims_pairing_for_a_phone(client, creds):
    phone = phones.create_phone("Scanner")
    pairing = signed(client, "POST", "/sandbox/v1/pairings/create/qr", creds,
                     {"user_name": "qr"}).json()
    assert b"Scanner" not in client.get(f"/sandbox/r/pairings/{pairing['id']}").content
    client.get(f"/sandbox/phone/{phone.id}/")  # this browser opens the phone once
    page = client.get(f"/sandbox/r/pairings/{pairing['id']}")
    assert page.status_code == 200 and b"Scanner" in page.content
    done = client.post(f"/sandbox/r/pairings/{pairing['id']}", {"phone_id": str(phone.id)})
    assert done.status_code == 302
    assert [str(p.id) for p in phones.pending_pairings(phone)] == [pairing["id"]]
    assert client.post(f"/sandbox/r/pairings/{pairing['id']}",
                       {"phone_id": "junk"}).status_code == 400
    assert client.get("/sandbox/r/pairings/not-an-id").status_code == 404


def test_phone_scan_form_claims_pairing(client, creds):
    phone = phones.create_phone("Scanner")
    pairing = signed(client, "POST", "/sandbox/v1/pairings/create/qr", creds,
                     {"user_name": "qr2"}).json()
    client.post(f"/sandbox/phone/{phone.id}/scan",
                {"link": f"http://testserver/sandbox/r/pairings/{pairing['id']}"})
    assert Pairing.objects.get(id=pairing["id"]).phone_id == phone.id
    response = client.post(f"/sandbox/phone/{phone.id}/scan", {"link": "nonsense"})
    assert response.status_code == 302 and "notice=" in response["Location"]


def test_pages_render(client):
    phone = phones.create_phone("Listed")
    assert client.get("/sandbox/").status_code == 200
    listing = client.get("/sandbox/phone/")
    assert listing.status_code == 200 and b"Listed" not in listing.content  # not this browser's
    made = client.post("/sandbox/phone/", {"name": "Made here"})
    assert made.status_code == 302 and Phone.objects.filter(name="Made here").exists()
    assert client.get(f"/sandbox/phone/{phone.id}/").status_code == 200
    listing = client.get("/sandbox/phone/").content
    assert b"Listed" in listing and b"Made here" in listing
    assert b"Listed" not in Client().get("/sandbox/phone/").content  # another browser
    assert client.get("/sandbox/phone/00000000-0000-4000-8000-000000000000/").status_code == 404
    bad_reset = client.get("/sandbox/pairings/00000000-0000-4000-8000-000000000000/reset")
    assert bad_reset.status_code == 404


# --- boundaries -----------------------------------------------------------------------------


def test_sandbox_imports_neither_client_nor_integration():
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text()
        assert not re.search(r"^\s*(from|import)\s+(toopher|django_toopher)\b", source, re.M), path


def test_testing_module_does_not_import_django():
    code = "import sys, toopher_sandbox.testing; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_sms_pairing_shows_its_text_on_the_phone(client, creds):
    pairing = signed(client, "POST", "/sandbox/v1/pairings/create/sms", creds,
                     {"phone_number": "+15550009999", "user_name": "texted"}).json()
    phone = Phone.objects.get(phone_number="+15550009999")
    page = client.get(f"/sandbox/phone/{phone.id}/").content.decode()
    assert "wants to pair with Toopher as texted" in page
    assert [str(p.id) for p in phones.pending_pairings(phone)] == [pairing["id"]]


def test_control_api_needs_the_instance_token(client):
    url = "/sandbox/control/phones"
    with override_settings(TOOPHER_SANDBOX_CONTROL_TOKEN=""):
        off = client.post(url, "{}", content_type="application/json")
    assert off.status_code == 403 and "TOOPHER_SANDBOX_CONTROL_TOKEN" in off.json()["error_message"]
    with override_settings(TOOPHER_SANDBOX_CONTROL_TOKEN="the-right-token-123"):
        for given in ({}, {"X-Sandbox-Token": "the-wrong-token-123"}):
            refused = client.post(url, "{}", content_type="application/json", headers=given)
            assert refused.status_code == 401 and refused.json()["error_code"] == 401
        made = client.post(url, "{}", content_type="application/json",
                           headers={"X-Sandbox-Token": "the-right-token-123"})
    assert made.status_code == 200 and made.json()["phone_id"]
    assert Phone.objects.filter(id=made.json()["phone_id"]).count() == 1


def test_a_bug_is_still_answered_with_error_json(client, creds, monkeypatch, caplog):
    """Last resort: an exception no rule expected is a logged JSON 500, never HTML."""
    from toopher_server import service

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "create_user", broken)
    response = signed(client, "POST", "/sandbox/v1/users/create", creds, {"name": "x"})
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error_code", "error_message"}
    assert "unexpected error in /sandbox/v1/users/create" in caplog.text


def test_the_sandbox_reads_and_writes_only_its_own_database(settings):
    """Mounted beside a site with a router (the example keeps the sandbox's tables in
    a database of its own), every read and transaction of the sandbox uses that alias."""
    from toopher_server import db

    class Router:
        def db_for_write(self, model, **hints):
            service = model._meta.app_label in {"toopher_server", "toopher_sandbox"}
            return "sandbox" if service else None

        db_for_read = db_for_write

    settings.DATABASE_ROUTERS = [Router()]
    from django.db import router as django_router

    django_router.routers = [Router()]
    try:
        assert db.alias() == "sandbox"
    finally:
        django_router.routers = []
    assert db.alias() == "default"


def test_no_api_answer_may_be_cached(creds):
    """A 200, a 400, a 401, a 405, a 404 and an injected fault: all no-store."""
    from toopher_sandbox.models import Fault

    client = Client()
    answers = [
        signed(client, "GET", "/sandbox/v1/users", creds, {"name": "nobody"}),
        signed(client, "GET", "/sandbox/v1/users", creds),
        client.get("/sandbox/v1/users"),
        signed(client, "GET", "/sandbox/v1/users/create", creds),
        signed(client, "GET", "/sandbox/v1/authentication_requests/" + "0" * 32, creds),
    ]
    Fault.objects.create(key=creds[0], status=503)
    answers.append(signed(client, "GET", "/sandbox/v1/users", creds))
    assert [a.status_code for a in answers] == [200, 400, 401, 405, 404, 503]
    for answer in answers:
        assert "no-store" in answer["Cache-Control"]
        assert "max-age=0" in answer["Cache-Control"]
        assert answer.has_header("Expires")


def test_a_status_poll_of_the_mounted_sandbox_on_the_sites_database(creds):
    """The prepared status query (toopher_sandbox.speedups.rowfetch) on whatever database the
    site runs (SQLite here, PostgreSQL under `make test-postgres`): the request with its
    user, terminal, action and pairing, as initiated, then as answered."""
    client = Client()
    phone, phrase = new_phone_with_phrase()
    pairing, auth = pending_auth(client, creds, phone, phrase)
    polled = signed(client, "GET", f"/sandbox/v1/authentication_requests/{auth['id']}", creds)
    assert polled.status_code == 200
    data = polled.json()
    assert data["id"] == auth["id"] and data["pending"] is True
    assert data["pairing"]["id"] == pairing["id"]
    assert data["terminal"]["name"] == "Kitchen PC"
    assert data["action"]["name"] == "Change email"
    assert data["user"]["name"] == data["terminal"]["user"]["name"] == "pat@example.com"
    phones.respond_authentication(auth["id"], True)
    answered = signed(client, "GET", f"/sandbox/v1/authentication_requests/{auth['id']}",
                      creds).json()
    assert answered["pending"] is False and answered["granted"] is True


def test_the_prepared_status_query_builds_the_rows_the_orm_would(creds):
    """rowfetch builds its five instances without ``Model.__init__``: each has the
    values, the loaded state and the related rows ``select_related`` would give, and
    saves as an UPDATE of its row (not a new one)."""
    from toopher_sandbox.speedups import rowfetch

    client = Client()
    phone, phrase = new_phone_with_phrase()
    _, auth = pending_auth(client, creds, phone, phrase)
    fetched = rowfetch.authentication_request(auth["id"])
    expected = AuthenticationRequest.objects.select_related(
        "user", "terminal", "action", "pairing"
    ).get(id=auth["id"])
    assert fetched is not None
    for mine, theirs in [(fetched, expected)] + [
        (getattr(fetched, name), getattr(expected, name)) for name, _ in rowfetch.RELATED
    ]:
        assert type(mine) is type(theirs)
        for field in type(theirs)._meta.concrete_fields:
            assert getattr(mine, field.attname) == getattr(theirs, field.attname), field
        assert (mine._state.adding, mine._state.db) == (False, theirs._state.db)
    fetched.reason = "saved through the fetched row"
    fetched.save()
    assert AuthenticationRequest.objects.count() == 1
    assert AuthenticationRequest.objects.get(id=auth["id"]).reason == fetched.reason


@pytest.fixture
def nonces_in_memory():
    """The record kept in memory, as the standalone server keeps it, for one test."""
    from toopher_sandbox.speedups import nonces

    nonces.keep_in_memory()
    yield nonces
    nonces.stop_keeping()


def test_nonces_kept_in_memory_refuse_a_replay_before_they_are_written(nonces_in_memory):
    from toopher_server.models import Nonce

    nonces = nonces_in_memory
    service_nonces.record("k", "n1", "1700000000")
    with pytest.raises(nonces.Replayed):
        service_nonces.record("k", "n1", "1700000000")
    service_nonces.record("other key", "n1", "1700000000")  # per consumer key
    assert Nonce.objects.count() == 0
    assert nonces.write_pending() == 2
    assert sorted(Nonce.objects.values_list("key", "nonce")) == [("k", "n1"), ("other key", "n1")]
    with pytest.raises(nonces.Replayed):  # still refused once written
        service_nonces.record("k", "n1", "1700000000")
    assert nonces.write_pending() == 0


def test_a_kept_record_starts_with_the_recent_nonces_of_the_database(creds):
    """A restarted standalone server refuses the nonces its file saw lately, and only
    those: one older than the keeping time is forgotten (oauthlib refuses its
    timestamp anyway)."""
    from datetime import timedelta

    from django.utils import timezone

    from toopher_sandbox.speedups import nonces
    from toopher_server.models import Nonce

    Nonce.objects.create(key="k", nonce="recent", timestamp=1)
    Nonce.objects.create(key="k", nonce="old", timestamp=1)
    Nonce.objects.filter(nonce="old").update(
        created=timezone.now() - timedelta(seconds=nonces.keep_seconds() + 5)
    )
    nonces.keep_in_memory()
    try:
        with pytest.raises(nonces.Replayed):
            service_nonces.record("k", "recent", "1")
        service_nonces.record("k", "old", "1")
    finally:
        nonces.stop_keeping()


def test_a_failed_nonce_write_keeps_them_for_the_next(nonces_in_memory, monkeypatch):
    from django.db import OperationalError
    from django.db.models import QuerySet

    from toopher_server.models import Nonce

    nonces = nonces_in_memory
    service_nonces.record("k", "a", "1")
    real = QuerySet.bulk_create

    def failing(self, *args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(QuerySet, "bulk_create", failing)
    assert nonces.write_pending() == 0
    with pytest.raises(nonces.Replayed):
        service_nonces.record("k", "a", "1")
    service_nonces.record("k", "b", "1")
    monkeypatch.setattr(QuerySet, "bulk_create", real)
    assert nonces.write_pending() == 2
    assert sorted(Nonce.objects.values_list("nonce", flat=True)) == ["a", "b"]


def test_a_mounted_sandbox_records_each_nonce_in_the_database_at_once(creds):
    """Mounted (maybe in several processes), the database is the one record."""
    from toopher_sandbox.speedups import nonces
    from toopher_server.models import Nonce

    service_nonces.record("k", "m", "1")
    assert Nonce.objects.filter(key="k", nonce="m").count() == 1
    with pytest.raises(nonces.Replayed):
        service_nonces.record("k", "m", "1")
    assert nonces.write_pending() == 0


def test_the_memory_forgets_nonces_older_than_the_keeping_time(nonces_in_memory):
    from datetime import timedelta

    nonces = nonces_in_memory
    service_nonces.record("k", "kept", "1")
    service_nonces.record("k", "gone", "1")
    book = nonces._book
    when, entry = book.arrivals[1]
    book.arrivals[1] = (when - timedelta(seconds=nonces.keep_seconds() + 1), entry)
    book.arrivals.rotate(-1)  # oldest first, as they arrive
    book.forget_old()
    service_nonces.record("k", "gone", "1")
    with pytest.raises(nonces.Replayed):
        service_nonces.record("k", "kept", "1")


@pytest.fixture
def copies_on_this_connection():
    """memo's copies on, and this test's connection watched, as in the standalone
    server (one connection, every write through it)."""
    from django.db import connection

    from toopher_sandbox.speedups import memo

    memo.enable(connection)
    yield memo
    memo.disable()


@pytest.mark.django_db(transaction=True)  # autocommit, as the server runs
def test_a_status_row_copy_is_dropped_by_any_write_even_without_signals(
    creds, copies_on_this_connection, django_assert_num_queries
):
    """The standalone server keeps a status poll's row until its connection writes:
    an ``update()`` (no signal) or raw SQL drops it as a save does, so no poll answers
    from a row the database no longer holds."""
    from django.db import connection

    from toopher_sandbox.speedups import rowfetch

    client = Client()
    phone, phrase = new_phone_with_phrase()
    _, auth = pending_auth(client, creds, phone, phrase)
    rowfetch.authentication_request(auth["id"])
    with django_assert_num_queries(0):
        assert rowfetch.authentication_request(auth["id"]).pending is True
    AuthenticationRequest.objects.filter(id=auth["id"]).update(pending=False, granted=True)
    fetched = rowfetch.authentication_request(auth["id"])
    assert (fetched.pending, fetched.granted) == (False, True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuthenticationRequest._meta.db_table} SET reason = %s",  # noqa: S608
            ["raw"],
        )
    assert rowfetch.authentication_request(auth["id"]).reason == "raw"


@pytest.mark.django_db(transaction=True)  # autocommit, as the server runs
def test_a_status_row_read_inside_a_transaction_is_not_kept(creds, copies_on_this_connection):
    """A row read in a transaction may hold what a rollback undoes: it is not kept."""
    from django.db import transaction

    from toopher_sandbox.speedups import rowfetch

    client = Client()
    phone, phrase = new_phone_with_phrase()
    _, auth = pending_auth(client, creds, phone, phrase)
    with pytest.raises(RuntimeError), transaction.atomic():
        AuthenticationRequest.objects.filter(id=auth["id"]).update(reason="rolled back")
        assert rowfetch.authentication_request(auth["id"]).reason == "rolled back"
        raise RuntimeError("roll back")
    assert rowfetch.authentication_request(auth["id"]).reason != "rolled back"
