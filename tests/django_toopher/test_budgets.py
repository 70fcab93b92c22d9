"""Performance budgets of design.md: a request from a session that is not pending
adds 0 queries and 0 API calls."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_toopher.internal.cookies import HINT_COOKIE
from django_toopher.testing import force_login_verified

pytestmark = pytest.mark.django_db

MIDDLEWARE = "django_toopher.middleware.ToopherMiddleware"


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/plain/", "/", "/private/"])
def test_verified_session_adds_no_query_and_no_api_call(
    client, toopher_paired_user, settings, api_calls, url
):
    force_login_verified(client, toopher_paired_user)
    with_middleware = count_queries(client, url)
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    without = count_queries(client, url)
    assert with_middleware == without
    assert len(api_calls) == 0


def test_plain_page_costs_nothing_at_all(client, toopher_paired_user, api_calls,
                                         django_assert_num_queries):
    force_login_verified(client, toopher_paired_user)
    with django_assert_num_queries(0):
        assert client.get("/plain/").status_code == 200
    assert len(api_calls) == 0


def test_anonymous_request_adds_nothing(client, toopher_settings, api_calls,
                                        django_assert_num_queries):
    with django_assert_num_queries(0):
        client.get("/")
    assert len(api_calls) == 0


def test_stale_hint_cookie_is_removed_after_one_look(client, toopher_paired_user, api_calls):
    force_login_verified(client, toopher_paired_user)
    client.cookies[HINT_COOKIE] = "1"
    response = client.get("/plain/")
    assert response.status_code == 200
    assert response.cookies[HINT_COOKIE].value == ""  # deleted
    assert len(api_calls) == 0
