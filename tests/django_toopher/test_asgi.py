"""The middleware under ASGI: Django's async handler serves pages with
``ToopherMiddleware`` in place, in async mode (issue 10)."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.http import HttpResponse
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext

from django_toopher.middleware import ToopherMiddleware
from django_toopher.testing import force_login_verified

from .conftest import password_login


async def _async_view(request):
    return HttpResponse("ok")


def test_the_middleware_is_async_capable():
    middleware = ToopherMiddleware(_async_view)
    assert ToopherMiddleware.async_capable and ToopherMiddleware.sync_capable
    assert asyncio.iscoroutinefunction(middleware)


def _async_client_like(client) -> AsyncClient:
    """An AsyncClient carrying the cookies of a sync test client."""
    async_client = AsyncClient()
    async_client.cookies = client.cookies
    return async_client


def test_a_pending_session_is_redirected_under_asgi(client, toopher_paired_user, toopher_settings):
    password_login(client, toopher_paired_user)
    async_client = _async_client_like(client)
    response = async_to_sync(async_client.get)("/private/")
    assert response.status_code == 302
    assert response["Location"] == "/toopher/pending/"


@pytest.mark.django_db
def test_a_verified_session_passes_with_no_added_queries_under_asgi(
    client, toopher_paired_user, toopher_settings, settings
):
    force_login_verified(client, toopher_paired_user)
    async_client = _async_client_like(client)
    counts = {}
    for with_toopher in (True, False):
        settings.MIDDLEWARE = [
            m for m in settings.MIDDLEWARE if with_toopher or "ToopherMiddleware" not in m
        ]
        with CaptureQueriesContext(connection) as queries:
            response = async_to_sync(async_client.get)("/private/")
        assert response.status_code == 200
        counts[with_toopher] = len(queries)
    assert counts[False] > 0  # the session and the user were read in this thread
    assert counts[True] == counts[False]
