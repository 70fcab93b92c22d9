"""Requester secrets at rest: sealed, bound to their row, rotated with an overlap, never
shown again (dumps, repr, logs, error pages), and the key ring's deploy check."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.core.checks import run_checks
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.test.client import RequestFactory
from django.utils import timezone
from django.views.debug import ExceptionReporter
from oauthlib.oauth1 import Client as OAuthClient

from toopher_server import keys
from toopher_server.models import Requester
from toopher_server.requesters import (
    create_requester,
    ensure_requester,
    parse_duration,
    reencrypt_all,
    rotate_secret,
)
from toopher_server.secretbox import DecryptError, generate_key

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.server.urls")]


def _signed_request(key: str, secret: str, name: str = "x") -> HttpRequest:
    """A ``GET /v1/users?name=...`` signed with this key and secret."""
    query = urlencode({"name": name})
    _, headers, _ = OAuthClient(key, client_secret=secret).sign(
        f"http://testserver/v1/users?{query}", http_method="GET"
    )
    return RequestFactory().get(
        "/v1/users", {"name": name}, HTTP_AUTHORIZATION=headers["Authorization"]
    )


def signed_get(key: str, secret: str, name: str = "nobody") -> HttpResponse:
    """The service's answer to a signed ``GET /v1/users?name=...``."""
    request = _signed_request(key, secret, name)
    return Client().get("/v1/users", {"name": name},
                        HTTP_AUTHORIZATION=request.META["HTTP_AUTHORIZATION"])


def call(key: str, secret: str, name: str = "nobody") -> int:
    """The status of a signed ``GET /v1/users?name=...`` (200 when the signature holds)."""
    return signed_get(key, secret, name).status_code

def test_a_new_secret_is_sealed_bound_to_its_row_and_verifies() -> None:
    requester = create_requester("Site")
    secret = requester.current_secret()
    assert len(secret) == 40 and secret not in requester.secret_sealed
    assert requester.secret_sealed.startswith("tsb1.")
    assert secret not in repr(requester) and secret not in str(requester)
    assert call(requester.key, secret) == 200
    assert call(requester.key, secret + "x") == 401

    other = create_requester("Other")
    other.secret_sealed = requester.secret_sealed  # moved to another row: refused
    with pytest.raises(DecryptError):
        other.current_secret()


def test_ensure_requester_sets_exactly_that_secret_and_ends_any_overlap() -> None:
    first = ensure_requester("site-key", "one", "Site")
    rotate_secret("site-key", timedelta(hours=1))
    again = ensure_requester("site-key", "two", "Site")
    assert again.pk == first.pk
    assert Requester.objects.get(pk=first.pk).secrets_valid_now() == ["two"]
    assert call("site-key", "two") == 200 and call("site-key", "one") == 401


def test_during_the_overlap_both_secrets_verify() -> None:
    requester = create_requester()
    old = requester.current_secret()
    _, new = rotate_secret(requester.key, timedelta(hours=1))
    assert new != old
    assert call(requester.key, old) == 200
    assert call(requester.key, new) == 200
    assert call(requester.key, "neither") == 401


def test_after_the_overlap_only_the_new_secret_verifies() -> None:
    requester = create_requester()
    old = requester.current_secret()
    two_hours_ago = timezone.now() - timedelta(hours=2)
    _, new = rotate_secret(requester.key, timedelta(hours=1), now=two_hours_ago)
    assert call(requester.key, old) == 401
    assert call(requester.key, new) == 200


def test_a_rotation_without_overlap_ends_the_old_secret_at_once() -> None:
    requester = create_requester()
    old = requester.current_secret()
    _, new = rotate_secret(requester.key, timedelta(0))
    assert call(requester.key, old) == 401 and call(requester.key, new) == 200


def test_a_second_rotation_keeps_only_the_secret_before_it() -> None:
    requester = create_requester()
    first = requester.current_secret()
    _, second = rotate_secret(requester.key, timedelta(hours=1))
    _, third = rotate_secret(requester.key, timedelta(hours=1))
    assert Requester.objects.get(pk=requester.pk).secrets_valid_now() == [third, second]
    assert call(requester.key, first) == 401


def test_rotation_refuses_unknown_keys_and_bad_overlaps() -> None:
    with pytest.raises(Requester.DoesNotExist):
        rotate_secret("no-such-key", timedelta(hours=1))
    requester = create_requester()
    with pytest.raises(ValueError):
        rotate_secret(requester.key, timedelta(days=365))
    with pytest.raises(ValueError):
        rotate_secret(requester.key, timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3600", 3600), ("3600s", 3600), ("90m", 5400), ("1h", 3600), ("2d", 172800)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1w", "-1h", "1.5h", "h", "1 hour"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def _plaintexts() -> list[str]:
    requester = create_requester("Dumped")
    old = requester.current_secret()
    _, new = rotate_secret(requester.key, timedelta(hours=1))
    ensure_requester("given-key", "given-secret-0123456789", "Given")
    return [old, new, "given-secret-0123456789", *_reset_tokens()]


def _reset_tokens() -> list[str]:
    """The tokens of a generated (P6) and of a mailed (P7) reset link, the mail really
    sent (Django's locmem backend), not kept by the sandbox's outbox."""
    from django.core import mail

    from .calls import Site
    from .outgoing import delivered_by_the_service

    site = Site(Client(), "reset-key", "reset-secret-0123456789")
    _, pairing_id = site.paired("reset-me")
    generated = site.post(f"pairings/{pairing_id}/generate_reset_link").json()["url"]
    with delivered_by_the_service(), override_settings(
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
    ):
        answer = site.post(f"pairings/{pairing_id}/send_reset_link", reset_email="r@example.com")
        assert answer.status_code == 200, answer.content
    mailed = next(w for w in mail.outbox[-1].body.split() if "reset_authorization=" in w)
    return [url.rsplit("=", 1)[1] for url in (generated, mailed)]


def test_a_sqlite_dump_holds_no_secret_in_clear() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite dump; PostgreSQL is dumped with pg_dump below")
    secrets = _plaintexts()
    connection.ensure_connection()
    dump = "\n".join(connection.connection.iterdump())
    assert "given-key" in dump  # the dump is the real thing
    for secret in secrets:
        assert secret not in dump


@pytest.mark.django_db(transaction=True)  # committed rows: pg_dump is another session
def test_a_postgresql_dump_holds_no_secret_in_clear() -> None:
    if connection.vendor != "postgresql" or not shutil.which("pg_dump"):
        pytest.skip("needs the suite on PostgreSQL (make test-postgres) and pg_dump")
    secrets = _plaintexts()
    params = connection.get_connection_params()
    env = {**os.environ, "PGPASSWORD": str(params.get("password") or "")}
    args = ["pg_dump", "--data-only", "-d", str(params.get("dbname") or params.get("database"))]
    for flag, name in (("-h", "host"), ("-p", "port"), ("-U", "user")):
        if params.get(name):
            args += [flag, str(params[name])]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "given-key" in done.stdout  # the dump is the real thing
    for secret in secrets:
        assert secret not in done.stdout


def test_no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    requester = create_requester()
    secret = requester.current_secret()
    _, new = rotate_secret(requester.key, timedelta(hours=1))
    call(requester.key, secret)
    call(requester.key, "wrong")
    assert secret not in caplog.text and new not in caplog.text


@override_settings(DEBUG=False)
@pytest.mark.parametrize("path", ["fast", "oauthlib"])
def test_an_error_page_during_verification_shows_no_secret(path: str) -> None:
    """On either path of the signature check (toopher_server.oauth_fast, oauthlib's)."""
    requester = create_requester()
    secret = requester.current_secret()
    request = _signed_request(requester.key, secret)
    from toopher_server import oauth, oauth_fast

    boom = RuntimeError("failure inside the signature check")
    if path == "fast":
        patches = [mock.patch.object(oauth_fast, "hmac", mock.Mock(new=mock.Mock(side_effect=boom),
                                                                   compare_digest=None))]
        inside = "oauth_fast.py"
    else:
        patches = [mock.patch.object(oauth_fast, "verify", return_value=None),
                   mock.patch("oauthlib.oauth1.rfc5849.signature.verify_hmac_sha1",
                              side_effect=boom)]
        inside = "_check_signature"
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        try:
            oauth.authenticate(request)
        except RuntimeError:
            kind, error, trace = sys.exc_info()
            assert trace is not None
            below_this_test = trace.tb_next  # this test's own frame holds the secret
            html = ExceptionReporter(request, kind, error, below_this_test).get_traceback_html()
            text = ExceptionReporter(request, kind, error, below_this_test).get_traceback_text()
    assert "failure inside the signature check" in html and inside in html
    assert secret not in html and secret not in text


def test_reencrypt_moves_every_secret_to_the_first_key() -> None:
    old_key, new_key = generate_key(), generate_key()
    with override_settings(TOOPHER_SERVER_SECRET_KEYS=old_key):
        requester = create_requester()
        secret = requester.current_secret()
        _, new = rotate_secret(requester.key, timedelta(hours=1))
    with override_settings(TOOPHER_SERVER_SECRET_KEYS=f"{new_key},{old_key}"):
        assert reencrypt_all() >= 1
        assert reencrypt_all() == 0
    with override_settings(TOOPHER_SERVER_SECRET_KEYS=new_key):  # the old key dropped
        assert Requester.objects.get(pk=requester.pk).secrets_valid_now() == [new, secret]


def _ids(**settings_and_env: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "TOOPHER_SECRET_KEYS"}
    env.update(settings_and_env.pop("env", {}))  # type: ignore[arg-type]
    with mock.patch.dict(os.environ, env, clear=True), override_settings(**settings_and_env):
        return [m.id for m in run_checks(include_deployment_checks=True) if m.id]


def test_deploy_check_errs_without_a_key_ring_of_its_own() -> None:
    assert keys.key_source() == "derived"
    assert "toopher_server.E001" in _ids(TOOPHER_SERVER_SECRET_KEYS=None)
    assert "toopher_server.E001" not in _ids(TOOPHER_SERVER_SECRET_KEYS=generate_key())
    assert "toopher_server.E001" not in _ids(env={"TOOPHER_SECRET_KEYS": generate_key()})
    plain = [m.id for m in run_checks()]
    assert "toopher_server.E001" not in plain  # only under --deploy


def test_a_malformed_key_ring_is_an_error_that_shows_no_key() -> None:
    with override_settings(TOOPHER_SERVER_SECRET_KEYS="not-a-key"):
        messages = [m for m in run_checks() if m.id == "toopher_server.E002"]
    assert messages and "not-a-key" not in messages[0].msg


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_the_secrets_of_existing_rows() -> None:
    from django.db.migrations.executor import MigrationExecutor

    before = [("toopher_server", "0001_initial")]
    after = [("toopher_server", "0002_requester_secrets")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("toopher_server", "Requester")
    old.objects.create(name="Old", key="old-key", secret="old-plain-secret-0123")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("toopher_server", "Requester")
    sealed = new.objects.get(key="old-key").secret_sealed
    assert sealed.startswith("tsb1.") and "old-plain-secret" not in sealed
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert Requester.objects.get(key="old-key").secrets_valid_now() == ["old-plain-secret-0123"]


def test_the_iframe_signs_its_result_with_the_secret_the_site_used() -> None:
    from toopher_server import iframe, oauth

    requester = create_requester()
    old = requester.current_secret()
    _, new = rotate_secret(requester.key, timedelta(hours=1))
    assert oauth.authenticate_with_secret(_signed_request(requester.key, old))[1] is True
    assert oauth.authenticate_with_secret(_signed_request(requester.key, new))[1] is False
    requester = Requester.objects.get(pk=requester.pk)
    with_old = iframe.signed_result(requester, {"previous_secret": True}, {"id": "x"})
    assert with_old["toopher_sig"] == iframe.signature(with_old, old)
    with_new = iframe.signed_result(requester, {"previous_secret": False}, {"id": "x"})
    assert with_new["toopher_sig"] == iframe.signature(with_new, new)


def test_a_secret_under_a_key_no_longer_in_the_ring_is_a_503_not_a_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with override_settings(TOOPHER_SERVER_SECRET_KEYS=generate_key()):
        requester = create_requester()
        secret = requester.current_secret()
    with override_settings(TOOPHER_SERVER_SECRET_KEYS=generate_key()):
        response = signed_get(requester.key, secret)
    assert response.status_code == 503
    assert response.json()["error_code"] == 503
    assert "TOOPHER_SECRET_KEYS" in caplog.text and secret not in caplog.text


def test_ensure_requester_reseals_a_secret_whose_key_changed() -> None:
    """The example project's SECRET_KEY (and so its derived key) changed: the requester
    it ensures at start gets its secret again instead of failing."""
    with override_settings(TOOPHER_SERVER_SECRET_KEYS=generate_key()):
        ensure_requester("example-key", "example-secret", "Example")
    again = ensure_requester("example-key", "example-secret", "Example")
    assert again.secrets_valid_now() == ["example-secret"]
    assert call("example-key", "example-secret") == 200


@pytest.mark.urls("tests.urls")
def test_the_admin_shows_no_secret_and_makes_no_requester(admin_client: Client) -> None:
    requester = create_requester("Admin site")
    secret = requester.current_secret()
    _, new = rotate_secret(requester.key, timedelta(hours=1))
    requester.refresh_from_db()
    pages = [
        admin_client.get("/admin/toopher_server/requester/"),
        admin_client.get(f"/admin/toopher_server/requester/{requester.pk}/change/"),
    ]
    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert requester.key in text
        for hidden in (secret, new, requester.secret_sealed, requester.previous_secret_sealed):
            assert hidden not in text
    assert admin_client.get("/admin/toopher_server/requester/add/").status_code == 403


def test_deploy_check_errs_without_an_audit_key_of_its_own() -> None:
    from toopher_server.auditchain import generate_key as audit_key

    assert "toopher_server.E003" in _ids(TOOPHER_SERVER_AUDIT_KEY=None)
    assert "toopher_server.E003" not in _ids(TOOPHER_SERVER_AUDIT_KEY=audit_key())
    assert "toopher_server.E003" not in [m.id for m in run_checks()]  # only under --deploy


def test_a_malformed_audit_key_or_rate_limit_setting_is_an_error() -> None:
    with override_settings(TOOPHER_SERVER_AUDIT_KEY="not-a-key"):
        messages = [m for m in run_checks() if m.id == "toopher_server.E004"]
    assert messages and "not-a-key" not in messages[0].msg
    with override_settings(TOOPHER_SERVER_RATE_LIMITS={"no such kind": {}}):
        assert "toopher_server.E005" in [m.id for m in run_checks()]
