"""Whatever comes in under the API's prefix, the answer is JSON with a documented error
code, and nothing changes: each bad input below goes to every endpoint of both client
kinds (the endpoints read from the URL patterns), from a logged-in session with a
recent authentication (the state where a request reaches furthest)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from django_toopher.headless.body import parse
from django_toopher.headless.responses import ERRORS
from django_toopher.models import AuditEvent, Terminal, ToopherProfile
from django_toopher.testing import PASSWORD

from .conftest import PREFIX
from .endpoints import served

URLENCODED = "application/x-www-form-urlencoded"
DEPTH = 100_000

#: name -> (body, content type): bodies every endpoint must refuse as invalid_request.
BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "nested arrays": (b"[" * DEPTH + b"]" * DEPTH, "application/json"),
    "nested objects": (b'{"a":' * DEPTH + b"1" + b"}" * DEPTH, "application/json"),
    "multipart": (encode_multipart(BOUNDARY, {"otp": "123456", "name": "x"}), MULTIPART_CONTENT),
    "broken multipart": (b"--nope\r\nContent-Disposition: form-data\r\n\r\nx",
                         "multipart/form-data; boundary=other"),
    "multipart without a boundary": (b"x", "multipart/form-data"),
    "1,500 form fields": ("&".join(f"f{i}=1" for i in range(1500)).encode(), URLENCODED),
    "a 3 MB form": (b"a=" + b"x" * 3_000_000, URLENCODED),
    "a 3 MB JSON object": (b'{"a": "' + b"x" * 3_000_000 + b'"}', "application/json"),
    "not UTF-8": (b"\xff\xfe{}", "application/json"),
    "not an object": (b"[1, 2]", "application/json"),
    "JSON sent as a form": (b'{"otp": "123456"}', URLENCODED),
}
#: Ids that are no terminal id; the route only takes digits.
BAD_IDS = ("abc", "-1", "1.5", "1e3", "%C2%B2", "")


def _routes() -> list[tuple[str, str]]:
    return sorted(served())


class Session:
    """One logged-in client of ``kind``, and everything a request could change."""

    def __init__(self, kind: str, user: Any) -> None:
        self.kind = kind
        self.http = Client(enforce_csrf_checks=True)
        self.token = ""
        self.user = user
        if kind == "browser":
            self.http.get(f"{PREFIX}/browser/v1/session")
        answer = self.send("post", "login",
                           json.dumps({"username": "alice", "password": PASSWORD}).encode())
        assert answer.status_code == 200, answer.content
        assert answer.json()["data"]["user"]["username"] == "alice"
        if kind == "app":
            self.token = answer.json()["meta"]["session_token"]

    def headers(self) -> dict[str, str]:
        if self.kind == "app":
            self.http.cookies.clear()
            return {"X-Session-Token": self.token}
        return {"X-CSRFToken": self.http.cookies["csrftoken"].value}

    def send(self, method: str, path: str, body: bytes = b"",
             content_type: str = "application/json", query: str = "") -> Any:
        url = f"{PREFIX}/{self.kind}/v1/{path}" + (f"?{query}" if query else "")
        return self.http.generic(method.upper(), url, body, content_type,
                                 headers=self.headers())

    def snapshot(self) -> dict[str, Any]:
        key = self.token if self.kind == "app" else self.http.cookies["sessionid"].value
        return {
            "session": dict(SessionStore(key).load()),
            "audit": list(AuditEvent.objects.values_list("kind", "user_id")),
            "terminals": list(Terminal.objects.values_list("pk", "name", "user_id")),
            "profiles": list(ToopherProfile.objects.values()),
        }


def assert_json_error(response: Any, code: str | None, what: str) -> dict[str, Any]:
    """A JSON answer; an error with a documented code and its documented status (and
    ``code`` itself when given)."""
    assert response["Content-Type"].startswith("application/json"), (what, response.content[:300])
    body = response.json()
    if code is None and response.status_code == 200:
        return body
    found = body["error"]["code"]
    assert found in ERRORS, what
    assert response.status_code == ERRORS[found][0], what
    if code is not None:
        assert found == code, (what, body)
    return body


@pytest.fixture(params=["browser", "app"])
def session(request: Any, toopher_user: Any) -> Session:
    """A logged-in session (no pairing: a plain login, so no call to Toopher)."""
    return Session(request.param, toopher_user)


@pytest.fixture
def terminal(toopher_user: Any) -> Terminal:
    return Terminal.objects.create(user=toopher_user, requester_terminal_id="t" * 32, name="Desk")


def _path(route: str, terminal: Terminal) -> str:
    return route.replace("{pk}", str(terminal.pk))


def test_the_endpoints_are_read_from_the_url_patterns():
    routes = _routes()
    assert ("post", "account/terminals/{pk}/rename") in routes
    assert ("get", "session") in routes
    assert len(routes) >= 23


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_every_endpoint_refuses_a_bad_body_as_json(session, terminal, name):
    body, content_type = BAD_BODIES[name]
    before = session.snapshot()
    for method, route in _routes():
        response = session.send(method, _path(route, terminal), body, content_type)
        assert_json_error(response, "invalid_request", f"{name}: {method} {route}")
    assert session.snapshot() == before


def test_a_valid_csrf_token_does_not_make_a_form_body_readable(session, terminal):
    """The browser kind with its CSRF token in the form too: still invalid_request."""
    token = session.http.cookies.get("csrftoken")
    fields = {"otp": "123456", "csrfmiddlewaretoken": token.value if token else ""}
    before = session.snapshot()
    for method, route in _routes():
        if method != "post":
            continue
        response = session.send(method, _path(route, terminal),
                                encode_multipart(BOUNDARY, fields), MULTIPART_CONTENT)
        assert_json_error(response, "invalid_request", f"{method} {route}")
    assert session.snapshot() == before


def test_ids_that_are_not_terminal_ids_are_json_not_found(session, terminal):
    before = session.snapshot()
    pk_routes = [(m, r) for m, r in _routes() if "{pk}" in r]
    assert pk_routes
    for method, route in pk_routes:
        for bad in (*BAD_IDS, "9" * 30, str(terminal.pk + 1000)):
            path = route.replace("{pk}", bad)
            response = session.send(method, path, b"{}")
            assert_json_error(response, "not_found", f"{method} {path}")
    assert session.snapshot() == before
    assert Terminal.objects.get(pk=terminal.pk).name == "Desk"


def test_unknown_paths_under_the_prefix_are_json_not_found(session, terminal):
    before = session.snapshot()
    for method, route in _routes():
        response = session.send(method, _path(route, terminal) + "/nope", b"{}")
        assert_json_error(response, "not_found", f"{method} {route}/nope")
    for method in ("get", "post", "put", "delete"):
        for path in ("nope", "", "v1/session", f"{session.kind}/v2/session",
                     f"{session.kind}/v1/", f"{session.kind}/v1/session/"):
            response = session.http.generic(method.upper(), f"{PREFIX}/{path}", b"{}",
                                            "application/json", headers=session.headers())
            assert_json_error(response, "not_found", f"{method} {path}")
    assert session.snapshot() == before


def test_wrong_methods_are_json_on_every_endpoint(session, terminal):
    before = session.snapshot()
    methods = {"get", "post", "put", "patch", "delete"}
    served_routes = _routes()
    for route in sorted({r for _m, r in served_routes}):
        allowed = {m for m, r in served_routes if r == route}
        for wrong in sorted(methods - allowed):
            response = session.send(wrong, _path(route, terminal), b"{}")
            assert_json_error(response, "method_not_allowed", f"{wrong} {route}")
    response = session.http.post(f"{PREFIX}/openapi.json", b"{}", "application/json")
    assert_json_error(response, "method_not_allowed", "POST openapi.json")
    assert session.snapshot() == before


def test_a_query_that_is_no_number_is_json_everywhere(session, terminal):
    """``max_age=²``: ``"²".isdigit()`` is true and ``int("²")`` fails."""
    before = session.snapshot()
    query = "action=Change+email&max_age=%C2%B2"
    for method, route in _routes():
        if method != "get":
            continue  # only GET endpoints read the query string
        response = session.send(method, _path(route, terminal), query=query)
        if response.get("Content-Type") == "image/png":
            continue  # a QR image: no query read
        code = "invalid_input" if route == "actions/result" else None
        assert_json_error(response, code, f"{method} {route}?{query}")
    assert session.snapshot() == before


def test_a_browser_post_without_its_csrf_token_is_json_everywhere(toopher_user, terminal):
    browser = Session("browser", toopher_user)
    before = browser.snapshot()
    for method, route in _routes():
        if method == "post":
            response = browser.http.post(f"{PREFIX}/browser/v1/{_path(route, terminal)}",
                                         b"{}", "application/json")
            assert_json_error(response, "csrf_failed", f"{method} {route}")
    assert browser.snapshot() == before


def test_even_a_bug_is_answered_as_json(session, monkeypatch, caplog):
    """The last resort: an unexpected exception in a view is logged with its traceback
    and answered ``500 server_error`` as JSON, not Django's HTML page."""

    def broken(request):
        raise RuntimeError("a bug")

    monkeypatch.setattr("django_toopher.headless.views.login.session_data", broken)
    response = session.send("get", "session")
    assert_json_error(response, "server_error", "GET session with a bug")
    assert "a bug" in caplog.text


@pytest.mark.parametrize("token", ["x" * 5000, "\u00e9\u00ff", " ", "../../etc/passwd",
                                   "a" * 40, "\t"])
def test_app_tokens_that_name_no_session_are_json_everywhere(toopher_user, terminal, token):
    """Session and terminal tokens that are garbage: an anonymous session, and JSON."""
    client = Client()
    headers = {"X-Session-Token": token, "X-Toopher-Terminal": token}
    sessions = SessionStore.get_model_class().objects.count()
    for method, route in _routes():
        response = client.generic(method.upper(),
                                  f"{PREFIX}/app/v1/{_path(route, terminal)}", b"",
                                  "application/json", headers=headers)
        body = assert_json_error(response, None, f"{token[:10]!r}: {method} {route}")
        assert response.status_code < 500, body
        assert not response.cookies
    assert SessionStore.get_model_class().objects.count() == sessions
    assert Terminal.objects.get(pk=terminal.pk).name == "Desk"


class _GoneStream:
    """The body of a client that went away mid-request."""

    def read(self, *args: Any) -> bytes:
        raise OSError("connection reset")

    def close(self) -> None:
        pass


def test_a_body_that_cannot_be_read_is_invalid_request(rf):
    read_as_form = rf.post("/_toopher/browser/v1/login", {"username": "alice"})
    assert read_as_form.POST["username"] == "alice"  # a middleware read it first
    assert json.loads(parse(read_as_form).content)["error"]["code"] == "invalid_request"
    gone = rf.post("/_toopher/app/v1/login", b"{}", content_type="application/json")
    gone._stream = _GoneStream()
    assert json.loads(parse(gone).content)["error"]["code"] == "invalid_request"
