"""Small helpers shared by the django_toopher tests."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY
from django.test import Client

from django_toopher.session_keys import PENDING
from django_toopher.testing import Phone

from .conftest import password_login


def state(client: Client) -> dict[str, Any] | None:
    return client.session.get(PENDING)


def edit_state(client: Client, **changes: Any) -> None:
    session = client.session
    data = dict(session[PENDING])
    data.update(changes)
    session[PENDING] = data
    session.save()


def logged_in_pk(client: Client) -> Any:
    return client.session.get(SESSION_KEY)


def start_login(client: Client, user: Any, *, next_url: str | None = None,
                terminal_name: str | None = "Work laptop") -> Any:
    """Password step, then the pending page (naming the browser if asked). Returns the
    last response of the pending page."""
    password_login(client, user, next_url)
    response = client.get("/toopher/pending/")
    if terminal_name is not None and _template(response) == "django_toopher/name_terminal.html":
        client.post("/toopher/pending/terminal/", {"name": terminal_name})
        response = client.get("/toopher/pending/")
    return response


def _template(response: Any) -> str | None:
    templates = getattr(response, "templates", None) or []
    return templates[0].name if templates else None


template_name = _template


def approve(client: Client, sandbox: Any, phone: Phone, *, grant: bool = True,
            reason: str = "", automate: bool = False) -> dict[str, Any]:
    """Answer the phone's pending request, then poll once; returns the poll JSON."""
    item = phone.wait_for_push(timeout=5)
    sandbox.respond_authentication(item["id"], grant=grant, reason=reason, automate=automate)
    return client.get("/toopher/pending/status/").json()


def login_fully(client: Client, user: Any, sandbox: Any, phone: Phone,
                next_url: str | None = None) -> dict[str, Any]:
    start_login(client, user, next_url=next_url)
    return approve(client, sandbox, phone)
