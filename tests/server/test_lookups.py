"""The rows every call reads (toopher_server.lookups, toopher_server.rowfetch): the
prepared queries build what the ORM builds, and a requester kept in the process for
``TOOPHER_SERVER_REQUESTER_CACHE_SECONDS`` stops being used when that time is up (a
secret rotated or a requester deleted on another instance), at once when this process
changed it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauthlib.oauth1 import Client as OAuthClient

from toopher_server import lookups, nonces
from toopher_server.models import (
    Action,
    AuthenticationRequest,
    Pairing,
    Phone,
    Requester,
    Terminal,
    User,
)
from toopher_server.requesters import create_requester, rotate_secret

pytestmark = pytest.mark.urls("tests.server.urls")


def _status(key: str, secret: str) -> int:
    """The status of a signed ``GET /v1/users?name=nobody`` (200: the signature holds)."""
    query = urlencode({"name": "nobody"})
    _, headers, _ = OAuthClient(key, client_secret=secret).sign(
        f"http://testserver/v1/users?{query}", http_method="GET")
    return Client().get("/v1/users", {"name": "nobody"},
                        HTTP_AUTHORIZATION=headers["Authorization"]).status_code


def _request_of(requester: Requester) -> AuthenticationRequest:
    user = User.objects.create(requester=requester, name="pat")
    pairing = Pairing.objects.create(requester=requester, user=user, phone=Phone.objects.create(),
                                     state=Pairing.ENABLED, otp_secret="A" * 32)
    terminal = Terminal.objects.create(user=user, name="Kitchen PC")
    action = Action.objects.create(requester=requester, name="Log in")
    return AuthenticationRequest.objects.create(requester=requester, user=user, pairing=pairing,
                                                terminal=terminal, action=action)


def _same_rows(mine: object, theirs: object) -> None:
    assert type(mine) is type(theirs)
    for field in type(theirs)._meta.concrete_fields:  # type: ignore[attr-defined]
        assert getattr(mine, field.attname) == getattr(theirs, field.attname), field
    assert (mine._state.adding, mine._state.db) == (False, theirs._state.db)  # type: ignore[attr-defined]


@pytest.fixture
def clock(monkeypatch):
    """The requesters' clock, moved by hand; the kept requesters dropped before and after."""
    now = [1000.0]
    monkeypatch.setattr(lookups, "_clock", lambda: now[0])
    lookups.requesters.forget()
    yield now
    lookups.requesters.forget()


@pytest.mark.django_db
def test_the_prepared_queries_build_the_rows_the_orm_would() -> None:
    auth = _request_of(create_requester("Site"))
    fetched = lookups.authentication_request(str(auth.id))
    expected = AuthenticationRequest.objects.select_related(*lookups.REQUEST_RELATED).get(
        id=auth.id)
    _same_rows(fetched, expected)
    for name in lookups.REQUEST_RELATED:
        _same_rows(getattr(fetched, name), getattr(expected, name))
    pairing = lookups.pairing(str(auth.pairing_id))
    _same_rows(pairing, Pairing.objects.get(id=auth.pairing_id))
    _same_rows(pairing.user, auth.user)  # type: ignore[union-attr]
    _same_rows(pairing.requester, auth.requester)  # type: ignore[union-attr]
    assert pairing.user.requester is pairing.requester  # type: ignore[union-attr]
    _same_rows(lookups.Lookups().requester_from_database(auth.requester.key), auth.requester)

    fetched.reason = "saved through the fetched row"  # type: ignore[union-attr]
    fetched.save()  # type: ignore[union-attr]
    assert AuthenticationRequest.objects.count() == 1
    assert AuthenticationRequest.objects.get(id=auth.id).reason == fetched.reason  # type: ignore[union-attr]


@pytest.mark.django_db
def test_the_lookups_of_an_initiate_find_what_the_orm_finds() -> None:
    """By several columns: the action by requester and name, the oldest unkeyed terminal
    of a name (as ``first()`` with the model's ordering), each only the owner's."""
    auth = _request_of(create_requester("Site"))
    other = _request_of(create_requester("Other"))
    _same_rows(lookups.action(auth.requester_id, "Log in"), auth.action)
    assert lookups.action(auth.requester_id, "Wire money") is None
    assert lookups.action(other.requester_id, "Log in").pk == other.action_id  # type: ignore[union-attr]

    newer = Terminal.objects.create(user=auth.user, name="Kitchen PC")
    Terminal.objects.create(user=auth.user, name="Kitchen PC", requester_specified_id="k1")
    expected = Terminal.objects.filter(user=auth.user, name="Kitchen PC",
                                       requester_specified_id="").first()
    found = lookups.unkeyed_terminal(auth.user_id, "Kitchen PC")
    _same_rows(found, expected)
    assert found.pk == auth.terminal_id != newer.pk  # type: ignore[union-attr]
    assert lookups.unkeyed_terminal(other.user_id, "Kitchen PC").pk == other.terminal_id  # type: ignore[union-attr]
    assert lookups.unkeyed_terminal(auth.user_id, "Garage PC") is None



@pytest.mark.django_db
def test_unknown_ids_and_keys_find_nothing() -> None:
    create_requester("Site")
    missing = "00000000-0000-4000-8000-000000000000"
    assert lookups.authentication_request(missing) is None
    assert lookups.pairing(missing) is None
    assert lookups.requester("no-such-key") is None


@pytest.mark.django_db(transaction=True)  # autocommit, as the service runs
def test_a_status_poll_makes_two_queries_once_its_requester_is_kept(
    clock, django_assert_num_queries, monkeypatch
) -> None:
    """The request with its four relations in one query, and the nonce: no query per
    relation, none for the requester read by the call before."""
    monkeypatch.setattr(nonces.random, "random", lambda: 0.5)  # no housekeeping DELETE now
    auth = _request_of(create_requester("Site"))
    requester = auth.requester
    signer = OAuthClient(requester.key, client_secret=requester.current_secret())
    path = f"/v1/authentication_requests/{auth.id}"

    def poll() -> dict:
        _, headers, _ = signer.sign(f"http://testserver{path}", http_method="GET")
        answer = Client().get(path, HTTP_AUTHORIZATION=headers["Authorization"])
        assert answer.status_code == 200
        return answer.json()

    with django_assert_num_queries(3):
        poll()
    with django_assert_num_queries(2):
        assert poll()["terminal"]["name"] == "Kitchen PC"
    path = f"/v1/pairings/{auth.pairing_id}"
    with django_assert_num_queries(2):  # the pairing with its user and requester, the nonce
        assert poll()["user"]["requester"]["consumer"]["key"] == requester.key


@pytest.mark.django_db(transaction=True)  # autocommit, as the service runs
def test_a_secret_rotated_elsewhere_takes_effect_when_the_kept_row_expires(clock) -> None:
    """Another instance rotated the secret with no overlap (here: an UPDATE, which sends
    no signal to this process): the old secret works until the kept row is
    ``REQUESTER_CACHE_SECONDS`` old, then only the new one."""
    requester = create_requester("Site")
    old = requester.current_secret()
    assert _status(requester.key, old) == 200  # kept from now
    elsewhere = Requester.objects.get(pk=requester.pk)
    new = "a-new-secret-set-by-another-instance"  # noqa: S105 (a test value)
    elsewhere.set_secret(new)
    Requester.objects.filter(pk=requester.pk).update(secret_sealed=elsewhere.secret_sealed)
    clock[0] += lookups.DEFAULT_REQUESTER_CACHE_SECONDS - 0.5
    assert _status(requester.key, old) == 200  # still the kept row: within the window
    assert _status(requester.key, new) == 401
    clock[0] += 1
    assert _status(requester.key, old) == 401
    assert _status(requester.key, new) == 200


@pytest.mark.django_db(transaction=True)
def test_a_requester_deleted_elsewhere_is_refused_when_the_kept_row_expires(clock) -> None:
    requester = create_requester("Site")
    secret = requester.current_secret()
    assert _status(requester.key, secret) == 200
    Requester.objects.filter(pk=requester.pk)._raw_delete(  # no signal: another process
        Requester.objects.db)
    assert _status(requester.key, secret) == 200
    clock[0] += lookups.DEFAULT_REQUESTER_CACHE_SECONDS + 0.5
    assert _status(requester.key, secret) == 401


@pytest.mark.django_db(transaction=True)
def test_a_rotation_or_deletion_in_this_process_takes_effect_at_once(clock) -> None:
    requester = create_requester("Site")
    old = requester.current_secret()
    assert _status(requester.key, old) == 200
    _, new = rotate_secret(requester.key, timedelta(0))  # saves: this process forgets
    assert _status(requester.key, old) == 401
    assert _status(requester.key, new) == 200
    Requester.objects.get(pk=requester.pk).delete()
    assert _status(requester.key, new) == 401


@pytest.mark.django_db(transaction=True)
def test_each_caller_gets_its_own_copy_and_nothing_is_kept_inside_a_transaction(clock) -> None:
    requester = create_requester("Site")
    first = lookups.requester(requester.key)
    assert first is not None and first.pk == requester.pk
    first.name = "changed by one caller"
    second = lookups.requester(requester.key)
    assert second is not None and second is not first and second.name == "Site"

    lookups.requesters.forget()
    with transaction.atomic():
        Requester.objects.filter(pk=requester.pk).update(name="rolled back")
        assert lookups.requester(requester.key).name == "rolled back"  # type: ignore[union-attr]
        transaction.set_rollback(True)
    assert lookups.requester(requester.key).name == "Site"  # type: ignore[union-attr]


@pytest.mark.django_db(transaction=True)
def test_zero_seconds_keeps_nothing(clock, django_assert_num_queries) -> None:
    requester = create_requester("Site")
    with override_settings(TOOPHER_SERVER_REQUESTER_CACHE_SECONDS=0):
        lookups.requester(requester.key)
        with django_assert_num_queries(1):
            lookups.requester(requester.key)
    with django_assert_num_queries(1):
        lookups.requester(requester.key)
    with django_assert_num_queries(0):
        lookups.requester(requester.key)


@pytest.mark.django_db(transaction=True)
def test_unknown_keys_are_not_kept_and_cannot_grow_the_cache(clock, monkeypatch) -> None:
    monkeypatch.setattr(lookups.RequesterCache, "MAX_ENTRIES", 3)
    keys = [create_requester(f"Site {i}").key for i in range(5)]
    for key in keys:
        assert lookups.requester(key) is not None
        assert lookups.requester(key + "-unknown") is None
    assert len(lookups.requesters._rows) <= 3


@pytest.mark.django_db(transaction=True)  # autocommit, as the service runs
def test_an_initiate_makes_ten_queries_and_answers_without_reading_back(
    clock, monkeypatch
) -> None:
    """A1 once its requester, terminal and action exist: the nonce, the pairing, the
    terminal, the action, the automation rule, the request's INSERT, the audit chain's
    head (locked), its record and its move, and the phone's push subscriptions; the
    answer is built from the rows in hand (no read of the new request)."""
    monkeypatch.setattr(nonces.random, "random", lambda: 0.5)  # no housekeeping DELETE now
    auth = _request_of(create_requester("Site"))
    requester = auth.requester
    signer = OAuthClient(requester.key, client_secret=requester.current_secret())
    body = urlencode({"pairing_id": str(auth.pairing_id), "terminal_name": "Kitchen PC"})

    def initiate() -> dict:
        _, headers, _ = signer.sign(
            "http://testserver/v1/authentication_requests/initiate", http_method="POST",
            body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        answer = Client().post("/v1/authentication_requests/initiate", body,
                               content_type="application/x-www-form-urlencoded",
                               HTTP_AUTHORIZATION=headers["Authorization"])
        assert answer.status_code == 200, answer.content
        return answer.json()

    first = initiate()  # the requester is kept from now
    with CaptureQueriesContext(connection) as queries:
        made = initiate()
    statements = [query["sql"] for query in queries.captured_queries
                  if query["sql"] not in ("BEGIN", "COMMIT") and "SAVEPOINT" not in query["sql"]]
    # SQLite takes its write lock with an UPDATE of the head before reading it.
    locking = 0 if connection.features.has_select_for_update else 1
    assert len(statements) == 10 + locking, "\n".join(statements)
    assert not any("toopher_server_authenticationrequest" in sql and sql.startswith("SELECT")
                   for sql in statements)
    stored = AuthenticationRequest.objects.get(pk=made["id"])
    assert made["id"] != first["id"] and made["pending"] and stored.pending
    assert (made["terminal"]["name"], made["user"]["name"]) == ("Kitchen PC", "pat")
    assert made["terminal"]["id"] == str(auth.terminal_id)


@pytest.mark.django_db
def test_a_row_inserted_without_the_orm_is_the_row_save_would_store() -> None:
    """RowInsert: auto_now fields set, JSON stored, the auto id read back, a saved state."""
    from toopher_server.audit_models import AuditRecord
    from toopher_server.rowfetch import RowInsert

    row = AuditRecord(seq=7, time=timezone.now(), event="e", outcome="o", requester=None,
                      user="u", device=None, details={"n": [1, "two"]}, hash="0" * 64)
    RowInsert(AuditRecord).insert(row)
    assert row.pk is not None and not row._state.adding and row._state.db == "default"
    _same_rows(row, AuditRecord.objects.get(pk=row.pk))
    auth = _request_of(create_requester("Site"))
    copy = AuthenticationRequest(requester=auth.requester, user=auth.user, pairing=auth.pairing,
                                 terminal=auth.terminal, action=auth.action,
                                 verification_code="42")
    RowInsert(AuthenticationRequest).insert(copy)
    assert copy.created is not None and copy.modified is not None
    _same_rows(copy, AuthenticationRequest.objects.get(pk=copy.pk))


@pytest.mark.django_db(transaction=True)  # autocommit, as the service runs
def test_a_kept_requester_decrypts_its_secret_once_and_a_new_one_again(clock, monkeypatch) -> None:
    """The kept row's copies share what was decrypted; a rotated secret (another sealed
    value) is decrypted, not taken from that memo."""
    from toopher_server import secretbox

    opened: list[str] = []
    decrypt = secretbox.SecretBox.decrypt_text

    def counting(self, sealed: str, aad: bytes) -> str:
        opened.append(sealed)
        return decrypt(self, sealed, aad)

    monkeypatch.setattr(secretbox.SecretBox, "decrypt_text", counting)
    requester = create_requester("Site")
    secret = requester.current_secret()
    opened.clear()
    for _ in range(3):
        assert _status(requester.key, secret) == 200
    assert len(opened) == 1
    _, new = rotate_secret(requester.key, timedelta(hours=1))  # saved here: forgotten at once
    opened.clear()
    assert _status(requester.key, new) == 200 and _status(requester.key, secret) == 200
    assert len(opened) == 2  # the new current secret and the previous one, once each
