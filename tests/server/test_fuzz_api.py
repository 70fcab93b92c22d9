"""Fuzz every API v1 endpoint of ``toopher_server`` mounted alone (``tests/server/urls.py``):
odd ids (and real ones), odd parameters, signed right and wrong, the other method. Every
answer is a Toopher answer: never a 500, and every error a JSON ``error_code`` and
``error_message``. The endpoints and the strategies are the sandbox fuzz's
(``tests/sandbox/test_fuzz.py``), so that both builds are fuzzed alike."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauthlib.oauth1 import Client as OAuthClient

from tests.sandbox.test_fuzz import ENDPOINTS, assert_toopher_answer, ids, params
from toopher_server import phones

from .calls import FORM, URLCONF, Site

pytestmark = [pytest.mark.django_db, pytest.mark.urls(URLCONF)]

SIGNINGS = ["header", "header", "header", "wrong_secret", "unsigned"]
#: Which real id a path's ``{id}`` takes when the fuzz picks a real one.
REAL = {"pairings": "pairing", "qr": "pairing", "authentication_requests": "request",
        "users": "user", "user_terminals": "terminal"}


@pytest.fixture
def world(client: Client) -> tuple[Site, dict[str, str]]:
    """A requester with a user, an allowed pairing, a pending request and a terminal."""
    site = Site(client)
    _, pairing_id = site.paired("fuzzy")
    auth = site.post("authentication_requests/initiate", pairing_id=pairing_id,
                     terminal_name="fuzz terminal").json()
    return site, {"pairing": pairing_id, "request": auth["id"], "user": auth["user"]["id"],
                  "terminal": auth["terminal"]["id"]}


def send(site: Site, method: str, path: str, pairs: list[tuple[str, str]], signing: str):
    """One request through the test client, signed as ``signing`` says."""
    url = f"http://testserver{path}"
    query, body = (pairs, []) if method == "GET" else ([], pairs)
    full = f"{url}?{urlencode(query)}" if query else url
    headers: dict[str, str] = {}
    if signing != "unsigned":
        secret = "wrong" if signing == "wrong_secret" else site.secret
        oauth = OAuthClient(site.key, client_secret=secret)
        form = {"Content-Type": FORM} if body else {}
        _, signed, _ = oauth.sign(full, http_method=method, body=urlencode(body) or None,
                                  headers=form)
        headers["HTTP_AUTHORIZATION"] = signed["Authorization"]
    target = f"{path}?{urlencode(query)}" if query else path
    if method == "GET":
        return site.client.get(target, **headers)
    return site.client.post(target, urlencode(body), content_type=FORM, **headers)


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ident=ids | st.just("real"), pairs=params, signing=st.sampled_from(SIGNINGS),
       other_method=st.booleans())
def test_fuzz_endpoint(world: tuple[Site, dict[str, str]], method: str, path: str, ident: str,
                       pairs: list[tuple[str, str]], signing: str, other_method: bool) -> None:
    site, real = world
    if other_method:
        method = {"GET": "POST", "POST": "GET"}[method]
    if ident == "real":
        ident = real[REAL[path.split("/")[0]]]
    escaped = quote(ident, safe="").replace(".", "%2E")
    response = send(site, method, "/v1/" + path.format(id=escaped), pairs, signing)
    assert_toopher_answer(response)
    if signing != "header":
        assert response.status_code in {401, 404, 405}, response.content


def test_the_service_still_answers_after_the_fuzz(world: tuple[Site, dict[str, str]]) -> None:
    site, real = world
    phone = phones.create_phone("after")
    answer = site.post("pairings/create", pairing_phrase=phones.new_phrase(phone).phrase,
                       user_name="after the fuzz")
    assert answer.status_code == 200, answer.content
    assert site.call("GET", f"authentication_requests/{real['request']}").status_code == 200


def test_every_api_view_reads_its_parameters_through_api_view() -> None:
    """Each v1 view is wrapped by ``api_view`` (OAuth, then ``Params.from_request``: the
    strict parsing of params.py, then JSON errors), so none reads ``request.GET``/``POST``
    by itself."""
    from toopher_server import api_views, urls

    probe = api_views.api_view("GET")(lambda request, requester, params: {})
    wrapped = [getattr(p.callback, "__wrapped__", None) for p in urls.v1]
    assert len(wrapped) == len(ENDPOINTS) - 3  # three paths serve two methods each
    assert all(w is not None and w.__code__ is probe.__wrapped__.__code__ for w in wrapped)
