"""Each endpoint of the JSON API, for both client kinds, as its URL patterns serve it:
one request from a logged-in user (no pairing, so no call to Toopher), and one from
an anonymous client, each answer checked and validated against the OpenAPI document.

The table below must name every endpoint the URL patterns serve: a new endpoint
fails :func:`test_the_table_names_every_served_endpoint` until it is exercised here.
Each test stands alone (a user and a session of its own), so the order of the tests
and how they are spread over processes do not matter.
"""

from __future__ import annotations

from typing import Any

import pytest

from django_toopher.headless.openapi import ENDPOINTS
from django_toopher.models import AuditEvent, Terminal
from django_toopher.testing import PASSWORD

from .conftest import ApiClient
from .endpoints import served

PNG = "image/png"

#: (method, route) -> (JSON body or query, status, error code or None) for a logged-in
#: user who is not paired, authenticated just now, with no pending login.
LOGGED_IN: dict[tuple[str, str], tuple[dict[str, Any] | None, int, str | None]] = {
    ("get", "session"): (None, 200, None),
    ("post", "login"): ({"username": "alice", "password": "wrong"}, 400,
                        "invalid_credentials"),
    ("post", "logout"): (None, 200, None),
    ("post", "pending/start"): (None, 404, "no_pending_login"),
    ("get", "pending/status"): (None, 404, "no_pending_login"),
    ("post", "pending/cancel"): (None, 404, "no_pending_login"),
    ("post", "pending/retry"): (None, 404, "no_pending_login"),
    ("post", "pending/otp"): ({"otp": "123456"}, 404, "no_pending_login"),
    ("post", "pending/terminal"): ({"name": "Desk"}, 404, "no_pending_login"),
    ("post", "pending/pair"): ({"use_qr": True}, 404, "no_pending_login"),
    ("post", "pending/recovery-code"): ({"code": "ABCD-EFGH-IJKL-MNOP-QRST"}, 404,
                                        "no_pending_login"),
    ("post", "pending/reset-email"): (None, 404, "no_pending_login"),
    ("post", "pending/reset"): ({"token": "not-a-link"}, 404, "no_pending_login"),
    ("get", "pending/pair/qr"): (None, 404, "not_found"),
    ("post", "actions/begin"): ({"action": "Change email"}, 403, "unavailable"),
    ("get", "actions/result"): ({"action": "Change email", "max_age": "60"}, 200, None),
    ("get", "account"): (None, 200, None),
    ("post", "account/reauthenticate"): ({"password": PASSWORD}, 200, None),
    ("post", "account/pair"): ({"pairing_phrase": "awkward turtle"}, 503,
                               "toopher_unavailable"),
    ("get", "account/pair/status"): (None, 200, None),
    ("get", "account/pair/qr"): (None, 404, "not_found"),
    ("post", "account/pair/cancel"): (None, 200, None),
    ("post", "account/unpair"): ({"end_other_sessions": False}, 409, "conflict"),
    ("get", "account/terminals"): (None, 200, None),
    ("get", "account/recovery-codes"): (None, 200, None),
    ("post", "account/recovery-codes/new"): (None, 403, "unavailable"),
    ("post", "account/terminals/{pk}/rename"): ({"name": "Kitchen"}, 200, None),
    ("post", "account/terminals/{pk}/forget"): (None, 200, None),
}
#: What an anonymous client may do without logging in (anything else: 401).
ANONYMOUS_OPEN = {("get", "session"), ("post", "login"), ("post", "logout")}
PENDING_ROUTES = {route for _m, route in LOGGED_IN if route.startswith("pending/")}


def _kinds_and_endpoints() -> list[tuple[str, str, str]]:
    return [(kind, method, route) for kind in ("browser", "app")
            for method, route in sorted(LOGGED_IN)]


def test_the_table_names_every_served_endpoint():
    assert set(LOGGED_IN) == served()
    assert {(method, path) for method, path, *_rest in ENDPOINTS} == served()


def _client(kind: str, openapi: Any) -> ApiClient:
    client = ApiClient(kind, openapi)
    client.prime_csrf()
    return client


def _call(client: ApiClient, method: str, route: str, payload: dict[str, Any] | None,
          terminal: Terminal) -> Any:
    path = route.replace("{pk}", str(terminal.pk))
    if method == "get":
        return client.get(path, **{k: str(v) for k, v in (payload or {}).items()})
    return client.post(path, payload)


def _check(response: Any, status: int, code: str | None, what: str) -> None:
    assert response.status_code == status, (what, response.content[:300])
    if response["Content-Type"] == PNG:
        return
    body = response.json()
    if code is None:
        assert "data" in body and "error" not in body, what
    else:
        assert body["error"]["code"] == code, (what, body)


@pytest.fixture
def toopher_unreachable(settings: Any) -> None:
    """The test settings' Toopher (a closed port), answering at once: a pairing fails."""
    settings.TOOPHER = {**settings.TOOPHER, "TIMEOUT": (1, 1)}


@pytest.fixture
def terminal(toopher_user: Any) -> Terminal:
    return Terminal.objects.create(user=toopher_user, requester_terminal_id="t" * 32, name="Desk")


@pytest.mark.parametrize(("kind", "method", "route"), _kinds_and_endpoints())
def test_each_endpoint_for_a_logged_in_user(kind, method, route, openapi, toopher_user, terminal,
                                            toopher_unreachable):
    client = _client(kind, openapi)
    login = client.post("login", {"username": "alice", "password": PASSWORD})
    assert login.json()["data"]["user"]["username"] == "alice"
    payload, status, code = LOGGED_IN[(method, route)]
    response = _call(client, method, route, payload, terminal)
    _check(response, status, code, f"{kind} {method} {route}")
    after = client.get("session").json()["data"]
    if route == "logout":
        assert after == {"user": None, "pending": None}
    else:
        assert after["user"]["username"] == "alice"
    if route.endswith("/rename"):
        assert Terminal.objects.get(pk=terminal.pk).name == "Kitchen"
    elif route.endswith("/forget"):
        assert not Terminal.objects.filter(pk=terminal.pk).exists()
        assert response.json()["data"]["terminals"] == []
    else:
        assert Terminal.objects.get(pk=terminal.pk).name == "Desk"


@pytest.mark.parametrize(("kind", "method", "route"), _kinds_and_endpoints())
def test_each_endpoint_for_an_anonymous_client(
    kind, method, route, openapi, toopher_user, terminal
):
    """Nothing but the session, the password step and logout without a login: the
    pending steps answer that nothing waits, every user endpoint ``not_authenticated``,
    and nothing is written."""
    client = _client(kind, openapi)
    payload, _status, _code = LOGGED_IN[(method, route)]
    events = AuditEvent.objects.count()
    response = _call(client, method, route, payload, terminal)
    what = f"{kind} {method} {route}"
    if (method, route) in ANONYMOUS_OPEN:
        assert response.status_code in (200, 400), what
    elif route in PENDING_ROUTES:
        expected = "not_found" if route == "pending/pair/qr" else "no_pending_login"
        _check(response, 404, expected, what)
    else:
        _check(response, 401, "not_authenticated", what)
    assert client.get("session").json()["data"] == {"user": None, "pending": None}
    assert Terminal.objects.get(pk=terminal.pk).name == "Desk"
    assert AuditEvent.objects.count() == events
