"""The OpenAPI document: served, valid, complete, and the harness that checks every
exchange against it really refuses a wrong answer."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from django.http import JsonResponse
from django.test import Client, RequestFactory
from django.urls import get_resolver
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

import django_toopher.headless
from django_toopher.headless.openapi import ENDPOINTS, build
from django_toopher.headless.responses import ERRORS

from .conftest import PREFIX
from .endpoints import served


def test_the_document_is_served_and_valid(db):
    response = Client().get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": f"http://testserver{PREFIX}"}]
    OpenAPI.from_dict(document)  # raises on an invalid document


def test_every_endpoint_is_documented_and_every_documented_one_exists():
    """Methods too: the URL patterns' views say which methods they take."""
    documented = {(method, path) for method, path, *_rest in ENDPOINTS}
    assert served() == documented


def test_the_harness_refuses_an_answer_that_does_not_match(openapi, db):
    resolver = get_resolver()
    request = RequestFactory().get(f"{PREFIX}/app/v1/session")
    request.resolver_match = resolver.resolve(request.path)
    wrong = JsonResponse({"data": {"user": "alice"}})
    with pytest.raises(Exception, match="(?i)invalid|valid"):
        openapi.validate_response(DjangoOpenAPIRequest(request), DjangoOpenAPIResponse(wrong))
    right = JsonResponse({"data": {"user": None, "pending": None}})
    openapi.validate_response(DjangoOpenAPIRequest(request), DjangoOpenAPIResponse(right))


def test_a_browser_client_must_send_the_csrf_token(browser_api, toopher_user):
    browser_api.http.cookies.pop("csrftoken", None)
    response = browser_api.http.post(browser_api.url("login"),
                                     json.dumps({"username": "alice", "password": "x"}),
                                     content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


def test_an_app_client_ignores_cookies(
    app_api, browser_api, toopher_paired_user, toopher_sandbox, toopher_phone
):
    """An app request that also carries a browser's session cookie acts on the token's
    session only: the cookie session is neither read nor written."""
    from django_toopher.testing import PASSWORD

    browser_api.post("login", {"username": "alice", "password": PASSWORD})
    cookie = browser_api.http.cookies["sessionid"].value
    app_api.http.cookies["sessionid"] = cookie
    response = app_api.http.get(app_api.url("session"))
    assert response.json()["data"] == {"user": None, "pending": None}
    assert not response.cookies


def test_unknown_client_kinds_are_not_found(db):
    response = Client().get(f"{PREFIX}/robot/v1/session")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_documented_paths_cover_the_whole_api():
    paths = build()["paths"]
    assert len(paths) == len({path for _m, path, *_r in ENDPOINTS})


def test_the_api_imports_nothing_from_the_html_views():
    """The JSON API shares the flows with the pages, not the pages' views: no module of
    ``django_toopher.headless`` imports from ``django_toopher.views``."""
    root = Path(django_toopher.headless.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        package = ["django_toopher", *path.relative_to(root.parent).parent.parts]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
                names = [f"{module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found += [f"{path.name}: {name}" for name in names
                      if name.startswith("django_toopher.views")]
    assert found == []


def test_every_error_code_is_documented_with_its_status():
    """docs/headless.md's table of codes is the table of ``responses.ERRORS``."""
    text = (Path(__file__).parents[2] / "docs" / "headless.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", text, re.MULTILINE))
    assert rows == {code: str(status) for code, (status, _message) in ERRORS.items()}
