"""What ``toopher_server`` is not: it imports neither the sandbox nor the app, and its
URLs hold no control API, phone simulator or fault injection."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

import toopher_server

PACKAGE = Path(toopher_server.__file__).resolve().parent
IMPORT = re.compile(r"^\s*(?:from|import)\s+(toopher_sandbox|django_toopher|toopher)\b", re.M)

#: Every path the sandbox adds around the service: none may answer in the service.
SANDBOX_ONLY = [
    "/control/requesters",
    "/control/phones",
    "/control/phones/00000000-0000-4000-8000-000000000000/requests",
    "/control/pairings/00000000-0000-4000-8000-000000000000/respond",
    "/control/authentication_requests/00000000-0000-4000-8000-000000000000/respond",
    "/control/automations",
    "/control/faults",
    "/control/messages",
    "/phone/",
    "/phone/00000000-0000-4000-8000-000000000000/",
    "/phone/00000000-0000-4000-8000-000000000000/state",
    "/phone/00000000-0000-4000-8000-000000000000/requests/"
    "00000000-0000-4000-8000-000000000000/respond",
    "/",
]


def test_the_service_imports_neither_the_sandbox_nor_the_app_nor_the_client() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}: {match.group(0).strip()}"
        for path in PACKAGE.rglob("*.py")
        for match in IMPORT.finditer(path.read_text("utf-8"))
    ]
    assert not offenders, offenders


def test_loading_the_service_loads_no_sandbox_module() -> None:
    code = (
        "import sys, django; from django.conf import settings; "
        "settings.configure(INSTALLED_APPS=['toopher_server'], ROOT_URLCONF='toopher_server.urls',"
        " DATABASES={'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}}); "
        "django.setup(); import toopher_server.urls; from django.urls import get_resolver; "
        "get_resolver().url_patterns; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'toopher_sandbox', 'django_toopher'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _callbacks(patterns: list) -> list:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _callbacks(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            found.append(pattern.callback)
    return found


def test_every_view_of_the_service_is_the_service_s_own() -> None:
    callbacks = _callbacks(get_resolver("toopher_server.urls").url_patterns)
    assert len(callbacks) > 25
    modules = {getattr(cb, "__module__", "") for cb in callbacks}
    assert all(m.startswith("toopher_server.") for m in modules), modules


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.server.urls")
@pytest.mark.parametrize("path", SANDBOX_ONLY)
@pytest.mark.parametrize("method", ["get", "post"])
def test_no_path_of_the_sandbox_answers_in_the_service(path: str, method: str) -> None:
    response = getattr(Client(), method)(path)
    assert response.status_code == 404


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.server.urls")
def test_the_service_answers_its_api_and_names_itself() -> None:
    response = Client().get("/v1")
    assert response.status_code == 200
    assert response.json()["service"] == "toopher_server"
    assert "phone_url" not in response.json()
    unknown = Client().get("/v1/control/faults")
    assert unknown.status_code == 404 and unknown.json()["error_code"] == 404
