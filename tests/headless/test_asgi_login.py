"""A whole login through the ASGI application (Django's async handler), by an app
client of the JSON API, against the live sandbox."""

from __future__ import annotations

import json

from asgiref.sync import async_to_sync
from django.test import AsyncClient

from django_toopher.testing import PASSWORD

from .conftest import PREFIX


def test_a_login_through_the_asgi_application(
    toopher_paired_user, toopher_sandbox, toopher_phone, transactional_db
):
    client = AsyncClient()
    headers: dict[str, str] = {}

    def call(method: str, path: str, data: dict | None = None) -> dict:
        url = f"{PREFIX}/app/v1/{path}"
        if method == "get":
            response = async_to_sync(client.get)(url, headers=headers)
        else:
            response = async_to_sync(client.post)(
                url, json.dumps(data or {}), content_type="application/json", headers=headers)
        body = response.json()
        meta = body.get("meta", {})
        if meta.get("session_token"):
            headers["X-Session-Token"] = meta["session_token"]
        if meta.get("terminal_token"):
            headers["X-Toopher-Terminal"] = meta["terminal_token"]
        assert not response.cookies
        return body

    assert call("post", "login", {"username": "alice", "password": PASSWORD})["data"][
        "pending"]["step"] == "start"
    assert call("post", "pending/start")["data"]["pending"]["step"] == "name_terminal"
    call("post", "pending/terminal", {"name": "ASGI device"})
    assert call("post", "pending/start")["data"]["pending"]["step"] == "pushed"
    toopher_sandbox.respond_authentication(toopher_phone.wait_for_push(timeout=5)["id"], grant=True)
    body = call("get", "pending/status")
    assert body["data"]["pending"]["status"] == "granted"
    assert call("get", "session")["data"]["user"]["username"] == "alice"
