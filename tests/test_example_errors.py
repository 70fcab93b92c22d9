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
from example_project.errors import is_outage, server_error  # noqa: E402

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
