"""Fixtures for the JSON API: a client of either kind that checks every exchange
against the OpenAPI document the API serves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from django_toopher.headless.openapi import build

from ..django_toopher.conftest import (  # noqa: F401 - fixtures
    _fresh_cache,
    api_calls,
    toopher_user_fields,
    zero_conf,
)

PREFIX = "/_toopher"


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    document = dict(build())
    document["servers"] = [{"url": f"http://testserver{PREFIX}"}]
    return OpenAPI.from_dict(document)


class ApiClient:
    """Calls the API as a browser (cookies, CSRF) or an app (tokens, no cookies), and
    validates each request and answer against the OpenAPI document."""

    def __init__(self, kind: str, openapi: OpenAPI) -> None:
        self.kind = kind
        self.openapi = openapi
        self.http = Client(enforce_csrf_checks=True)
        self.session_token: str | None = None
        self.terminal_token: str | None = None
        self.exchanges = 0

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.kind == "app":
            if self.session_token:
                headers["X-Session-Token"] = self.session_token
            if self.terminal_token:
                headers["X-Toopher-Terminal"] = self.terminal_token
        else:
            token = self.http.cookies.get("csrftoken")
            if token is not None:
                headers["X-CSRFToken"] = token.value
        return headers

    def url(self, path: str) -> str:
        return f"{PREFIX}/{self.kind}/v1/{path}"

    def call(self, method: str, path: str, data: Any = None, *, raw: bytes | None = None,
             query: dict[str, str] | None = None, documented: bool = True) -> Any:
        """``documented=False`` only for a method the document rightly does not list."""
        kwargs: dict[str, Any] = {"headers": self._headers()}
        if self.kind == "app":
            self.http.cookies.clear()
        if method == "get":
            response = self.http.get(self.url(path), query or {}, **kwargs)
        else:
            content = raw if raw is not None else json.dumps(data or {}).encode()
            response = self.http.post(self.url(path), content,
                                      content_type="application/json", **kwargs)
        if documented:
            self._validate(response)
        if self.kind == "app":
            assert not response.cookies, f"an app client got cookies: {response.cookies}"
            meta = response.json().get("meta", {}) if _is_json(response) else {}
            if "session_token" in meta:
                self.session_token = meta["session_token"]
            if meta.get("terminal_token"):
                self.terminal_token = meta["terminal_token"]
        return response

    def get(self, path: str, documented: bool = True, **query: str) -> Any:
        return self.call("get", path, query=query, documented=documented)

    def post(self, path: str, data: Any = None, **kwargs: Any) -> Any:
        return self.call("post", path, data, **kwargs)

    def _validate(self, response: Any) -> None:
        request = DjangoOpenAPIRequest(response.wsgi_request)
        self.openapi.validate_response(request, DjangoOpenAPIResponse(response))
        self.exchanges += 1

    def prime_csrf(self) -> None:
        """Browser clients: get the CSRF cookie (any GET of the app's pages sets it)."""
        if self.kind == "browser":
            self.get("session")


def _is_json(response: Any) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


@pytest.fixture(params=["browser", "app"])
def api(request: Any, openapi: OpenAPI, db: Any) -> Iterator[ApiClient]:
    client = ApiClient(request.param, openapi)
    client.prime_csrf()
    yield client
    assert client.exchanges > 0


@pytest.fixture
def app_api(openapi: OpenAPI, db: Any) -> ApiClient:
    return ApiClient("app", openapi)


@pytest.fixture
def browser_api(openapi: OpenAPI, db: Any) -> ApiClient:
    client = ApiClient("browser", openapi)
    client.prime_csrf()
    return client
