"""The example site's Content-Security-Policy middleware, in a sync and an async chain."""

from __future__ import annotations

import asyncio
import sys

from asgiref.sync import iscoroutinefunction
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from tests.browser.server import PROJECT

sys.path.insert(0, str(PROJECT))
from demo_site.csp import HEADER, ContentSecurityPolicyMiddleware  # noqa: E402

sys.path.remove(str(PROJECT))

POLICY = "default-src 'self'"


def page(request):
    return HttpResponse("ok")


async def async_page(request):
    return HttpResponse("ok")


@override_settings(CONTENT_SECURITY_POLICY=POLICY)
def test_a_sync_chain_gets_the_policy():
    middleware = ContentSecurityPolicyMiddleware(page)
    assert not iscoroutinefunction(middleware)
    assert middleware(RequestFactory().get("/"))[HEADER] == POLICY


@override_settings(CONTENT_SECURITY_POLICY=POLICY)
def test_an_async_chain_stays_async_and_gets_the_policy():
    """Under uvicorn the middleware is awaited directly (no sync thread per request)."""
    middleware = ContentSecurityPolicyMiddleware(async_page)
    assert iscoroutinefunction(middleware)
    response = asyncio.run(middleware(RequestFactory().get("/")))
    assert response[HEADER] == POLICY


@override_settings(CONTENT_SECURITY_POLICY=POLICY)
def test_a_page_with_its_own_policy_keeps_it():
    def own(request):
        response = HttpResponse("ok")
        response[HEADER] = "default-src 'none'"
        return response

    assert ContentSecurityPolicyMiddleware(own)(RequestFactory().get("/"))[HEADER] == (
        "default-src 'none'"
    )


@override_settings(CONTENT_SECURITY_POLICY="")
def test_an_empty_setting_sends_no_policy():
    assert HEADER not in ContentSecurityPolicyMiddleware(page)(RequestFactory().get("/"))
