"""Helpers for the tests of sites that use django_toopher (and for ours).

A site tests its own views with Toopher in place against a live sandbox (the
emulated Toopher service, ``pip install django-toopher[sandbox]``), started once per
test run in a subprocess. Three ways in, all built on the helpers below:

* pytest: the fixtures of :mod:`django_toopher.pytest_plugin` (opt in with
  ``-p django_toopher.pytest_plugin``);
* Django's test runner: :class:`ToopherTestMixin` on a ``TestCase``;
* by hand: :func:`shared_sandbox`, :func:`sandbox_settings`, :class:`Phone`,
  :func:`pair`, :func:`answer_pending`.

Without a sandbox, :func:`force_login_verified` logs a test client in as if the user
had approved the login on the phone: Django's ``Client.force_login`` goes through
``login()``, which django_toopher would otherwise turn into a pending login.
:func:`approved_login` is the context manager behind it, for code that verified the
second factor itself.
"""

from __future__ import annotations

import atexit
import time
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import override_settings
from django.urls import reverse

# The sandbox's test-client module (this module and pytest_plugin.py are the only ones
# of django_toopher that import toopher_sandbox, for sites' tests): it needs neither
# Django settings nor the sandbox's own dependencies.
from toopher_sandbox.testing import SandboxControl, SandboxProcess

from .internal import ratelimit
from .internal.flows import pairing
from .internal.flows.hook import approved_login

#: The password :func:`create_user` gives a test user.
PASSWORD = "toopher-test-password"  # noqa: S105 - a test password, on purpose
#: How :class:`Phone` may answer a push: approve it, deny it, or type its one-time password.
ANSWERS = ("allow", "deny", "otp")
#: One answer a :class:`Phone` gave: ``(answer, request id)``, no id for an ``"otp"``.
Answer = tuple[str, str]


def force_login_verified(client: Any, user: Any, backend: str | None = None) -> None:
    """``client.force_login(user)`` with the second factor counted as done.

    :param client: a :class:`django.test.Client` (or ``AsyncClient``).
    :param user: the user to log in.
    :param backend: the dotted path of the authentication backend, as for
        ``force_login``.
    """
    with approved_login():
        client.force_login(user, backend=backend)


# --- the sandbox --------------------------------------------------------------------

_shared: dict[str, Any] = {}


def shared_sandbox() -> SandboxControl:
    """The control API of a sandbox subprocess shared by this test run.

    Started on first use (a second or two) with
    :class:`toopher_sandbox.testing.SandboxProcess` and stopped when the process
    exits. Needs the ``sandbox`` extra (``pip install django-toopher[sandbox]``).
    """
    if "control" not in _shared:
        process = SandboxProcess().start()
        atexit.register(process.stop)
        _shared["process"] = process
        _shared["control"] = SandboxControl(process.base_url)
    return _shared["control"]


def sandbox_settings(requester: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """A ``TOOPHER`` settings dict for a sandbox requester.

    :param requester: what :meth:`SandboxControl.new_requester
        <toopher_sandbox.testing.SandboxControl.new_requester>` returns
        (``key``, ``secret``, ``api_url``).
    :param overrides: more ``TOOPHER`` keys, e.g. ``MODE="zero_storage"``.

    Polls every second and gives up on the sandbox after a few seconds, so a test
    that goes wrong fails quickly.
    """
    conf: dict[str, Any] = {
        "CONSUMER_KEY": requester["key"],
        "CONSUMER_SECRET": requester["secret"],
        "API_URL": requester["api_url"],
        "POLL_INTERVAL": 1,
        "TIMEOUT": (2, 5),
    }
    conf.update(overrides)
    return conf


@dataclass
class Phone:
    """A simulated phone in the sandbox: what a test does with the user's phone.

    ``answer`` is how :func:`answer_pending` answers its pushes by default:
    ``"allow"``, ``"deny"`` or ``"otp"`` (the user types the one-time password the app
    shows instead of tapping).
    """

    control: SandboxControl
    phone_id: str
    pairing_phrase: str
    answer: str = "allow"
    #: The pairing id, once :func:`pair` paired a user with this phone.
    pairing_id: str | None = None
    #: The answers given so far (see :data:`Answer`).
    answered: list[Answer] = field(default_factory=list, init=False)
    #: The phone's page in the sandbox (``phone_url`` of ``SandboxControl.new_phone``),
    #: when :meth:`create` made it.
    phone_url: str | None = None

    @classmethod
    def create(
        cls, control: SandboxControl, answer: str = "allow", name: str = "Test phone"
    ) -> Phone:
        """A fresh phone in the sandbox behind ``control``."""
        data = control.new_phone(name=name)
        return cls(control, data["phone_id"], data["pairing_phrase"], answer=answer,
                   phone_url=data.get("phone_url"))

    def wait_for_push(self, timeout: float = 10.0) -> dict[str, Any]:
        """The authentication request waiting on this phone (waits up to ``timeout`` s)."""
        return self.control.wait_for_pending(self.phone_id, "authentication_requests", timeout)

    def allow(self, timeout: float = 10.0, automate: bool = False) -> dict[str, Any]:
        """Approve the waiting push (``automate=True``: and always answer so)."""
        item = self.wait_for_push(timeout)
        self.answered.append(("allow", item["id"]))
        return self.control.respond_authentication(item["id"], grant=True, automate=automate)

    def deny(self, timeout: float = 10.0, reason: str = "") -> dict[str, Any]:
        """Deny the waiting push."""
        item = self.wait_for_push(timeout)
        self.answered.append(("deny", item["id"]))
        return self.control.respond_authentication(item["id"], grant=False, reason=reason)

    def otp(self) -> str:
        """The one-time password the app shows now for this phone's pairing."""
        if self.pairing_id is None:
            raise RuntimeError("this phone is not paired yet (see django_toopher.testing.pair)")
        return self.control.otp(self.pairing_id)


# --- users --------------------------------------------------------------------------


def create_user(username: str = "toopher-user", password: str = PASSWORD, **fields: Any) -> Any:
    """A user of ``AUTH_USER_MODEL`` with a known password (:data:`PASSWORD`).

    ``username`` goes to the model's ``USERNAME_FIELD`` (an e-mail address for an
    e-mail user model: ``create_user("ann@example.com")``).
    """
    model = get_user_model()
    fields[model.USERNAME_FIELD] = username
    return model._default_manager.create_user(password=password, **fields)


def _reset_limits(user: Any) -> None:
    """Forget the push and pairing counters of ``user``: a test database that rolls
    back reuses primary keys, and the counters live in the cache, which does not."""
    pk = str(user._meta.pk.value_to_string(user))
    for kind in ("push", "pair"):
        ratelimit.reset(f"{kind}:{pk}")


def pair(user: Any, phone: Phone, timeout: float = 10.0) -> str:
    """Pair ``user`` with ``phone`` through the configured Toopher API, as the
    security page does, the phone allowing it. Returns the pairing id (also kept
    as ``phone.pairing_id``).

    Uses the current ``TOOPHER`` settings and mode, so call it after pointing them
    at the sandbox (:func:`sandbox_settings`).
    """
    _reset_limits(user)
    attempt, problem = pairing.start(user, phone.pairing_phrase)
    if attempt is None:
        raise RuntimeError(f"the pairing did not start: {problem}")
    phone.control.respond_pairing(attempt.id, allow=True)
    deadline = time.monotonic() + timeout
    while True:
        result = pairing.poll(None, user, attempt)
        if result.state is pairing.PairingState.PAIRED:
            break
        if result.final or time.monotonic() > deadline:
            raise RuntimeError(f"the pairing did not complete: {result}")
        time.sleep(0.2)
    _reset_limits(user)
    phone.pairing_id = attempt.id
    return attempt.id


# --- the pending page ---------------------------------------------------------------


@dataclass
class PendingOutcome:
    """How :func:`answer_pending` ended.

    ``status`` is the pending login's last status (``"granted"``, ``"denied"``,
    ``"expired"``, ...; ``"none"`` when nothing was pending), ``redirect`` where the
    browser goes next, ``response`` the last response seen.
    """

    status: str
    redirect: str | None
    response: Any
    #: Whether the client's session is now logged in.
    logged_in: bool

    @property
    def granted(self) -> bool:
        return self.status == "granted"


def _template_names(response: Any) -> set[str]:
    return {t.name for t in getattr(response, "templates", None) or [] if t.name}


def _outcome(client: Any, status: str, redirect: str | None, response: Any) -> PendingOutcome:
    return PendingOutcome(status, redirect, response, SESSION_KEY in client.session)


def _open_pending(client: Any, terminal_name: str) -> Any:
    """GET the pending page (which sends the push), naming this browser if asked."""
    url = reverse("django_toopher:pending")
    response = client.get(url)
    naming = reverse("django_toopher:pending_name_terminal")
    asked = "django_toopher/name_terminal.html" in _template_names(response) or (
        response.status_code == 200 and f'action="{naming}"'.encode() in response.content
    )
    if asked:
        client.post(naming, {"name": terminal_name})
        response = client.get(url)
    return response


def _poll(client: Any, timeout: float) -> PendingOutcome:
    url = reverse("django_toopher:pending_status")
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(url)
        data = response.json()
        if data.get("final") or data.get("status") == "none":
            return _outcome(client, data.get("status", "none"), data.get("redirect"), response)
        if time.monotonic() > deadline:
            return _outcome(client, data.get("status", "pending"), None, response)
        time.sleep(0.2)


def answer_pending(
    client: Any,
    phone: Phone,
    answer: str | None = None,
    *,
    terminal_name: str = "Test browser",
    timeout: float = 10.0,
) -> PendingOutcome:
    """Take a pending login (or action approval) of ``client`` to its end.

    What a person does after the password step, or after a ``@toopher_required``
    view sent them to the pending page: open the pending page (naming the browser
    when asked), let ``phone`` answer the push, and poll until the login is final.

    :param client: a :class:`django.test.Client` whose session is pending, e.g.
        right after ``client.login(username=..., password=...)`` or after a POST to
        the site's login view.
    :param phone: the user's :class:`Phone` (paired with :func:`pair`).
    :param answer: ``"allow"``, ``"deny"`` or ``"otp"``; ``phone.answer`` by default.
    :param terminal_name: the name typed in when the site asks to name this browser.
    :param timeout: seconds to wait for the push and for the final status.
    """
    answer = answer or phone.answer
    if answer not in ANSWERS:
        raise ValueError(f"answer is one of {ANSWERS}, not {answer!r}")
    response = _open_pending(client, terminal_name)
    if response.status_code == 302:  # nothing pending, or already final
        return _outcome(client, "none", response["Location"], response)
    if answer == "otp":
        phone.wait_for_push(timeout)
        code = phone.otp()
        phone.answered.append(("otp", ""))
        response = client.post(reverse("django_toopher:pending_otp"), {"otp": code})
        location = response.get("Location")
        if location and location != reverse("django_toopher:pending"):
            return _outcome(client, "granted", location, response)
        return _poll(client, timeout)
    if answer == "allow":
        phone.allow(timeout)
    else:
        phone.deny(timeout)
    return _poll(client, timeout)


# --- Django's test runner -----------------------------------------------------------


class ToopherTestMixin:
    """For a ``django.test.TestCase`` (or ``TransactionTestCase``): ``TOOPHER`` points
    at a fresh requester of the shared sandbox for the whole class.

    ::

        class ChangeEmailTests(ToopherTestMixin, TestCase):
            def test_needs_approval(self):
                user, phone = self.create_paired_user()
                self.client.login(username=user.username, password=PASSWORD)
                self.assertTrue(self.answer_pending(phone).granted)

    Set ``toopher_overrides`` (a dict of ``TOOPHER`` keys) on the class for other
    settings, e.g. ``{"MODE": "zero_storage"}``.
    """

    toopher_overrides: dict[str, Any] = {}
    toopher_sandbox: SandboxControl
    toopher_requester: dict[str, str]
    client: Any

    @classmethod
    def setUpClass(cls) -> None:  # noqa: N802 - unittest's name
        cls.toopher_sandbox = shared_sandbox()
        cls.toopher_requester = cls.toopher_sandbox.new_requester()
        conf = sandbox_settings(cls.toopher_requester, **cls.toopher_overrides)
        override = override_settings(TOOPHER=conf)
        override.enable()
        cls.addClassCleanup(override.disable)  # type: ignore[attr-defined]
        super().setUpClass()  # type: ignore[misc]

    def new_phone(self, answer: str = "allow") -> Phone:
        """A fresh simulated phone."""
        return Phone.create(self.toopher_sandbox, answer=answer)

    def create_paired_user(
        self, username: str = "toopher-user", answer: str = "allow", **fields: Any
    ) -> tuple[Any, Phone]:
        """A new user (password :data:`PASSWORD`) paired with a new phone."""
        user = create_user(username, **fields)
        phone = self.new_phone(answer)
        pair(user, phone)
        return user, phone

    def login_verified(self, user: Any, client: Any = None) -> None:
        """Log ``self.client`` (or ``client``) in as ``user``, second factor done."""
        force_login_verified(client or self.client, user)

    def answer_pending(self, phone: Phone, answer: str | None = None, client: Any = None,
                       **kwargs: Any) -> PendingOutcome:
        """:func:`answer_pending` for ``self.client`` (or ``client``)."""
        return answer_pending(client or self.client, phone, answer, **kwargs)


__all__ = [
    "ANSWERS",
    "Answer",
    "PASSWORD",
    "PendingOutcome",
    "Phone",
    "ToopherTestMixin",
    "answer_pending",
    "approved_login",
    "create_user",
    "force_login_verified",
    "pair",
    "sandbox_settings",
    "shared_sandbox",
]
