"""Shared fixtures: a live sandbox (one subprocess per test session) and fresh credentials.

``sandbox`` is a ``toopher_sandbox.testing.SandboxControl``; ``requester`` is a new
``{"key", "secret", "api_url"}`` per test and ``phone`` a new ``{"phone_id",
"pairing_phrase"}`` per test, so tests never share state. Faults are cleared after
every test that used ``requester`` or ``phone``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from toopher_sandbox.testing import SandboxControl, SandboxProcess


@pytest.fixture(scope="session")
def sandbox_process() -> Iterator[SandboxProcess]:
    """The sandbox subprocess (``python -m toopher_sandbox --port 0 --json``)."""
    with SandboxProcess() as process:
        yield process


@pytest.fixture(scope="session")
def sandbox(sandbox_process: SandboxProcess) -> SandboxControl:
    """The control API of the session's live sandbox."""
    return SandboxControl(sandbox_process.base_url)


@pytest.fixture
def requester(sandbox: SandboxControl) -> Iterator[dict[str, str]]:
    """A fresh requester: ``{"key", "secret", "api_url"}``."""
    yield sandbox.new_requester()
    sandbox.clear_faults()


@pytest.fixture
def phone(sandbox: SandboxControl) -> Iterator[dict[str, str]]:
    """A fresh simulated phone: ``{"phone_id", "pairing_phrase"}``."""
    yield sandbox.new_phone()
    sandbox.clear_faults()
