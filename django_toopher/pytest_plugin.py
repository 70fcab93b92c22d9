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
``toopher_settings``
    ``settings.TOOPHER`` pointed at a fresh sandbox requester (stored-ID mode); the
    live dict, so a test may change it (``toopher_settings["MODE"] = "zero_storage"``
    before it pairs anyone).
``toopher_phone``
    a fresh :class:`~django_toopher.testing.Phone` that allows pushes; set
    ``.answer`` to ``"deny"`` or ``"otp"``, or call ``.allow()``/``.deny()``.
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
def toopher_settings(settings: Any, toopher_sandbox: SandboxControl) -> Iterator[dict[str, Any]]:
    """``settings.TOOPHER`` for a fresh sandbox requester; faults cleared afterwards."""
    # Imported here: Django is not set up when pytest loads this plugin.
    from .testing import sandbox_settings

    settings.TOOPHER = sandbox_settings(toopher_sandbox.new_requester(), MODE="stored")
    yield settings.TOOPHER
    toopher_sandbox.clear_faults()


@pytest.fixture
def toopher_phone(toopher_sandbox: SandboxControl) -> Phone:
    """A fresh simulated phone that allows pushes (``.answer = "deny"`` or ``"otp"``)."""
    # Imported here: Django is not set up when pytest loads this plugin.
    from .testing import Phone

    return Phone.create(toopher_sandbox)


@pytest.fixture
def toopher_user(db: None) -> Any:
    """A new user with the password ``django_toopher.testing.PASSWORD``."""
    # Imported here: Django is not set up when pytest loads this plugin.
    from .testing import create_user

    return create_user()


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
