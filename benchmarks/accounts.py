"""Users, pairings and real logins against the benchmark site.

A *paired user* is a Django user whose phone was paired in the sandbox through
the client and the control API (the phone "accepts" the pairing), with the pairing
id stored as django_toopher's stored-ID mode keeps it. A *pending login* is made
the way a browser makes it: the login form with the password, then the pending
page, which sends the one push.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import requests

import toopher

from .servers import Environment, Site

PASSWORD = "bench-password-1"  # noqa: S105 (throwaway users on loopback)
_CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TIMEOUT = 10.0


@dataclass
class PairedUser:
    username: str
    phone_id: str
    pairing_id: str


def create_user(username: str, password: str = PASSWORD) -> Any:
    from django.contrib.auth import get_user_model

    model = get_user_model()
    user = model.objects.filter(username=username).first()
    if user is None:
        user = model.objects.create_user(username, f"{username}@example.com", password)
    return user


def paired_user(env: Environment, username: str) -> PairedUser:
    """A user paired with a new simulated phone (pairing accepted on the phone)."""
    from django.utils import timezone

    from django_toopher.models import ToopherProfile

    assert env.control is not None
    user = create_user(username)
    phone = env.control.new_phone(f"{username}'s phone")
    creds = env.requester
    with toopher.ToopherApi(creds["key"], creds["secret"], creds["api_url"]) as api:
        pairing = api.pair(phone["pairing_phrase"], username)
        env.control.respond_pairing(pairing.id, allow=True)
        assert api.get_pairing_status(pairing.id).enabled
    ToopherProfile.objects.update_or_create(
        user=user, defaults={"pairing_id": pairing.id, "enabled": True, "paired_at": timezone.now()}
    )
    return PairedUser(username, phone["phone_id"], pairing.id)


def pending_request_ids(env: Environment, user: PairedUser) -> set[str]:
    """Ids of the authentication requests waiting on the user's phone."""
    assert env.control is not None
    return {item["id"] for item in env.control.pending(user.phone_id)["authentication_requests"]}


def wait_for_new_request(
    env: Environment, user: PairedUser, before: set[str], timeout: float = 10.0
) -> str:
    """The id of the one request that reached the phone since ``before`` was taken."""
    deadline = time.monotonic() + timeout
    while True:
        fresh = pending_request_ids(env, user) - before
        if len(fresh) == 1:
            return fresh.pop()
        if len(fresh) > 1:
            raise RuntimeError(f"{len(fresh)} pushes reached the phone for one login")
        if time.monotonic() > deadline:
            raise RuntimeError("no push reached the phone")
        time.sleep(0.02)


@dataclass
class Browser:
    """A scripted browser (``requests`` with a cookie jar) for the site's own pages."""

    site: Site
    http: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.http.trust_env = False  # loopback only: never a proxy

    def url(self, path: str) -> str:
        return self.site.base_url + path

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.url(path), allow_redirects=False, timeout=TIMEOUT)

    def post_form(self, path: str, page: str, data: dict[str, str]) -> requests.Response:
        match = _CSRF_RE.search(page)
        if not match:
            raise RuntimeError(f"no CSRF token on the page before POST {path}")
        body = dict(data, csrfmiddlewaretoken=match.group(1))
        return self.http.post(
            self.url(path),
            data=body,
            headers={"Referer": self.url(path)},
            allow_redirects=False,
            timeout=TIMEOUT,
        )

    def cookies(self) -> dict[str, str]:
        return {cookie.name: cookie.value for cookie in self.http.cookies}

    def log_in_with_password(self, username: str, password: str = PASSWORD) -> str:
        """Send the login form; return where the site redirects."""
        page = self.get("/accounts/login/")
        page.raise_for_status()
        answer = self.post_form(
            "/accounts/login/", page.text, {"username": username, "password": password}
        )
        if answer.status_code != 302:
            raise RuntimeError(f"login of {username} answered {answer.status_code}")
        return answer.headers["Location"]

    def begin_pending_login(self, username: str) -> None:
        """Password login, then the pending page (naming this browser once if asked),
        which sends the one push. Leaves the session pending."""
        where = self.log_in_with_password(username)
        if not where.startswith("/toopher/pending/"):
            # The login view sends the browser on to ``next``; the middleware sends a
            # pending session from there to the pending page.
            where = self.get(where).headers.get("Location", where)
        if not where.startswith("/toopher/pending/"):
            raise RuntimeError(f"the login of {username} did not become pending ({where})")
        page = self.get("/toopher/pending/")
        if page.status_code == 200 and 'name="name"' in page.text:
            named = self.post_form(
                "/toopher/pending/terminal/", page.text, {"name": "Benchmark browser"}
            )
            if named.status_code != 302:
                raise RuntimeError(f"naming the terminal answered {named.status_code}")
            page = self.get("/toopher/pending/")
        if page.status_code != 200 or 'data-status="pushed"' not in page.text:
            raise RuntimeError(
                f"no push is out after the pending page ({page.status_code}): {page.text[:300]}"
            )

    def status(self) -> dict[str, Any]:
        answer = self.get("/toopher/pending/status/")
        return answer.json()

    def verified_login(self, env: Environment, user: PairedUser, timeout: float = 30.0) -> None:
        """A whole login: password, push, "approve" on the phone, poll until granted."""
        assert env.control is not None
        before = pending_request_ids(env, user)
        self.begin_pending_login(user.username)
        request_id = wait_for_new_request(env, user, before)
        env.control.respond_authentication(request_id, grant=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status.get("final"):
                if status.get("status") != "granted":
                    raise RuntimeError(f"the login ended as {status}")
                return
            time.sleep(0.25)
        raise RuntimeError("the approval did not arrive in time")
