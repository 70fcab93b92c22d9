"""pytest fixtures for the tests of a site that uses django_toopher.

Opt in, in one of three ways (installing the package alone activates nothing)::

    pytest -p django_toopher.pytest_plugin              # on the command line
    pytest_plugins = ["django_toopher.pytest_plugin"]   # in the root conftest.py
    toopher_fixtures = true                             # in the [pytest] ini section

The fixtures need pytest-django (they use its ``settings``, ``db`` and ``client``)
and the sandbox (``pip install django-toopher[sandbox]``), which runs in a
subprocess started once per test session. A test of a view behind
``@toopher_required``::

    def test_change_email_asks_the_phone(client, toopher_paired_user, toopher_phone):
        force_login_verified(client, toopher_paired_user)
        assert client.get("/email/").status_code == 302      # to the pending page
        assert answer_pending(client, toopher_phone).granted
        assert client.get("/email/").status_code == 200

Fixtures (all but the sandbox are per test):

``toopher_sandbox_process``
    the session's :class:`toopher_sandbox.testing.SandboxProcess`.
``toopher_sandbox``
    its :class:`toopher_sandbox.testing.SandboxControl` (the control API).
``toopher_requester``
    a fresh sandbox requester, ``{"key", "secret", "api_url"}`` (the one
    ``toopher_settings`` uses); the sandbox's faults are cleared afterwards.
``toopher_settings``
    ``settings.TOOPHER`` pointed at ``toopher_requester`` (stored-ID mode); the
    live dict, so a test may change it (``toopher_settings["MODE"] = "zero_storage"``
    before it pairs anyone).
``toopher_phone``
    a fresh :class:`~django_toopher.testing.Phone` that allows pushes; set
    ``.answer`` to ``"deny"`` or ``"otp"``, or call ``.allow()``/``.deny()``; the
    sandbox's faults are cleared afterwards.
``toopher_user_fields``
    the keyword arguments ``toopher_user`` passes to
    :func:`django_toopher.testing.create_user`, ``{}`` here; override this fixture in a
    ``conftest.py`` for another username, an e-mail address, more fields.
``toopher_user``
    a new user whose password is :data:`django_toopher.testing.PASSWORD`.
``toopher_paired_user``
    ``toopher_user`` paired with ``toopher_phone``.
``toopher_verified_client``
    a ``django.test.Client`` logged in as ``toopher_paired_user``, second factor done.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from toopher_sandbox.testing import SandboxControl, SandboxProcess

if TYPE_CHECKING:  # django_toopher.testing needs Django set up: imported in the fixtures
    from .testing import Phone


@pytest.fixture(scope="session")
def toopher_sandbox_process() -> Iterator[SandboxProcess]:
    """A sandbox subprocess for the test session (``python -m toopher_sandbox``)."""
    with SandboxProcess() as process:
        yield process


@pytest.fixture(scope="session")
def toopher_sandbox(toopher_sandbox_process: SandboxProcess) -> SandboxControl:
    """The control API of the session's sandbox."""
    return SandboxControl(toopher_sandbox_process.base_url)


@pytest.fixture
def toopher_requester(toopher_sandbox: SandboxControl) -> Iterator[dict[str, str]]:
    """A fresh sandbox requester (``key``, ``secret``, ``api_url``); faults cleared
    afterwards."""
    yield toopher_sandbox.new_requester()
    toopher_sandbox.clear_faults()


@pytest.fixture
def toopher_settings(settings: Any, toopher_requester: dict[str, str]) -> dict[str, Any]:
    """``settings.TOOPHER`` for ``toopher_requester`` (stored-ID mode)."""
    # Imported here: Django is not set up when pytest loads this plugin.
    from .testing import sandbox_settings

    settings.TOOPHER = sandbox_settings(toopher_requester, MODE="stored")
    return settings.TOOPHER


@pytest.fixture
def toopher_phone(toopher_sandbox: SandboxControl) -> Iterator[Phone]:
    """A fresh simulated phone that allows pushes (``.answer = "deny"`` or ``"otp"``);
    faults cleared afterwards."""
    # Imported here: Django is not set up when pytest loads this plugin.
    from .testing import Phone

    yield Phone.create(toopher_sandbox)
    toopher_sandbox.clear_faults()


@pytest.fixture
def toopher_user_fields() -> dict[str, Any]:
    """Keyword arguments of :func:`django_toopher.testing.create_user` for
    ``toopher_user``: none here. Override this fixture in a ``conftest.py`` to give the
    test user another username, an e-mail address or more fields."""
    return {}


@pytest.fixture
def toopher_user(db: None, toopher_user_fields: dict[str, Any]) -> Any:
    """A new user with the password ``django_toopher.testing.PASSWORD`` (unless
    ``toopher_user_fields`` says otherwise)."""
    # Imported here: Django is not set up when pytest loads this plugin.
    from .testing import create_user

    return create_user(**toopher_user_fields)


@pytest.fixture
def toopher_paired_user(
    toopher_settings: dict[str, Any], toopher_user: Any, toopher_phone: Phone
) -> Any:
    """``toopher_user``, paired with ``toopher_phone`` in the current mode."""
    # Imported here: Django is not set up when pytest loads this plugin.
    from .testing import pair

    pair(toopher_user, toopher_phone)
    return toopher_user


@pytest.fixture
def toopher_verified_client(toopher_paired_user: Any) -> Any:
    """A test client logged in as ``toopher_paired_user``, the login approved."""
    # Imported here: Django is not set up when pytest loads this plugin.
    from django.test import Client

    from .testing import force_login_verified

    client = Client()
    force_login_verified(client, toopher_paired_user)
    return client
