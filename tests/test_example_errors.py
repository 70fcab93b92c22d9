"""The example site's handler500 (example_project/errors.py): a database or cache
outage outside the Toopher pages is a 503 with a retry path; anything else a 500."""

from __future__ import annotations

import json
import sys

import pytest
import redis
from django.db import OperationalError
from django.test import RequestFactory

from tests.browser.server import PROJECT

sys.path.insert(0, str(PROJECT))
from example_project.errors import bad_request, is_outage, server_error  # noqa: E402

sys.path.remove(str(PROJECT))


def answer(exc: BaseException, path: str = "/accounts/login/"):
    request = RequestFactory().get(path)
    try:
        raise exc
    except BaseException:  # noqa: BLE001 (handler500 reads sys.exc_info())
        return server_error(request)


@pytest.mark.parametrize(
    "exc", [OperationalError("server closed the connection"), redis.ConnectionError("refused")]
)
def test_an_outage_is_a_503_page_with_a_retry_link(exc):
    response = answer(exc)
    assert response.status_code == 503
    assert response["Retry-After"]
    assert b"href=" in response.content
    assert b"Traceback" not in response.content


def test_a_status_poll_gets_json():
    response = answer(redis.TimeoutError("timed out"), "/toopher/pending/status/")
    assert response.status_code == 503
    data = json.loads(response.content)
    assert data["final"] is False and data["message"]


def test_an_outage_behind_another_exception_is_one_too():
    try:
        try:
            raise OperationalError("gone")
        except OperationalError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert is_outage(outer)


def test_any_other_error_stays_a_500():
    response = answer(ZeroDivisionError())
    assert response.status_code == 500
    assert b"Traceback" not in response.content


def interrupted_session_save():
    """What Django's session middleware raises when the database fails as it saves a
    session (the real middleware and session store; the database error is injected)."""
    from unittest import mock

    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.contrib.sessions.models import Session
    from django.core.exceptions import BadRequest
    from django.http import HttpResponse

    request = RequestFactory().post("/accounts/login/")
    middleware = SessionMiddleware(lambda r: HttpResponse())
    request.session = SessionStore()
    request.session.create()
    request.session["step"] = "password"
    with mock.patch.object(Session, "save", side_effect=OperationalError("terminating")):
        try:
            middleware.process_response(request, HttpResponse())
        except BadRequest as exc:
            return request, exc
    raise AssertionError("the session middleware did not refuse the save")


@pytest.mark.django_db
def test_a_session_lost_to_an_outage_is_a_503_not_a_bare_400():
    request, exc = interrupted_session_save()
    response = bad_request(request, exc)
    assert response.status_code == 503
    assert response["Retry-After"]
    assert b"href=" in response.content


def test_any_other_bad_request_stays_djangos_400():
    from django.core.exceptions import BadRequest

    response = bad_request(RequestFactory().get("/"), BadRequest("nonsense"))
    assert response.status_code == 400
