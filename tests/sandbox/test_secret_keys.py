"""The standalone sandbox's key ring for the requester secrets in its SQLite file."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from unittest import mock

from toopher_sandbox.server import sandbox_secret_keys
from toopher_server.secretbox import SecretBox


def test_a_kept_file_gets_a_private_key_file_beside_it_made_once(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    with mock.patch.dict(os.environ, {"TOOPHER_SECRET_KEYS": ""}):
        first = sandbox_secret_keys(db, durable=True)
        second = sandbox_secret_keys(db, durable=True)
    key_file = tmp_path / "sandbox.sqlite3.key"
    assert first == second and first is not None
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    SecretBox([first])  # a valid key


def test_a_temporary_file_gets_a_key_per_process_and_the_environment_wins(
    tmp_path: Path,
) -> None:
    db = tmp_path / "sandbox.sqlite3"
    with mock.patch.dict(os.environ, {"TOOPHER_SECRET_KEYS": ""}):
        assert sandbox_secret_keys(db, durable=False) != sandbox_secret_keys(db, durable=False)
    assert not (tmp_path / "sandbox.sqlite3.key").exists()
    with mock.patch.dict(os.environ, {"TOOPHER_SECRET_KEYS": "from-the-environment"}):
        assert sandbox_secret_keys(db, durable=True) is None
