"""Signed API v1 calls and iframe pages through Django's test client, in this process.

The service is mounted alone at the root (``tests/server/urls.py``): tests that use these
helpers run under ``override_settings(ROOT_URLCONF="tests.server.urls")``.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlencode

from django.test import Client
from oauthlib.oauth1 import Client as OAuthClient

import toopher
from toopher_server import phones
from toopher_server.models import Phone
from toopher_server.requesters import ensure_requester

URLCONF = "tests.server.urls"
API = "http://testserver/v1"
FORM = "application/x-www-form-urlencoded"


class Site:
    """A requester of the in-process service and its signed calls."""

    def __init__(self, client: Client, key: str = "site-key", secret: str = "site-secret") -> None:
        self.client = client
        self.key, self.secret = key, secret
        self.requester = ensure_requester(key, secret, f"Site {key}")

    def call(self, method: str, path: str, data: dict[str, str] | None = None) -> Any:
        """A signed call of ``/v1/<path>``; returns the test client's response."""
        oauth = OAuthClient(self.key, client_secret=self.secret)
        full = f"/v1/{path}"
        url = f"http://testserver{full}"
        if method == "GET":
            query = f"?{urlencode(data)}" if data else ""
            _, headers, _ = oauth.sign(url + query, http_method="GET")
            return self.client.get(full, data or {}, HTTP_AUTHORIZATION=headers["Authorization"])
        body = urlencode(data or {})
        _, headers, body = oauth.sign(
            url, http_method="POST", body=body, headers={"Content-Type": FORM}
        )
        return self.client.post(
            full, body, content_type=FORM, HTTP_AUTHORIZATION=headers["Authorization"]
        )

    def post(self, path: str, **data: str) -> Any:
        return self.call("POST", path, data)

    def paired(self, user_name: str, phone: Phone | None = None) -> tuple[Phone, str]:
        """A phone with an allowed pairing for ``user_name``: ``(phone, pairing id)``."""
        phone = phone or phones.create_phone("P")
        phrase = phones.new_phrase(phone).phrase
        answer = self.post("pairings/create", pairing_phrase=phrase, user_name=user_name)
        assert answer.status_code == 200, answer.content
        pairing_id = answer.json()["id"]
        phones.respond_pairing(pairing_id, True)
        return phone, pairing_id

    def iframe(self) -> toopher.ToopherIframe:
        return toopher.ToopherIframe(self.key, self.secret, api_url=API, allow_insecure_http=True)


class Frame:
    """A browser session inside the iframe (the test client keeps the cookies)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.page = ""
        self.status = 0

    def open(self, url: str) -> str:
        return self._keep(self.client.get(url))

    def _keep(self, response: Any) -> str:
        self.status = response.status_code
        self.page = response.content.decode()
        return self.mode

    @property
    def mode(self) -> str:
        found = re.search(r'data-mode="([a-z_]+)"', self.page)
        return found[1] if found else ""

    def post(self, action: str, **fields: str) -> str:
        action_url = html.unescape(re.search(r'<form method="post" action="([^"]+)"', self.page)[1])
        state = html.unescape(re.search(r'name="state" value="([^"]+)"', self.page)[1])
        return self._keep(
            self.client.post(action_url, {"state": state, "action": action, **fields})
        )
