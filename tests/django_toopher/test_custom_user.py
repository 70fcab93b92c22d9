"""The login flow, enrollment and the admin actions with a custom user model (e-mail
user name, UUID primary key).

``AUTH_USER_MODEL`` cannot change inside one process, so this starts pytest on
``tests/custom_user/flow_check.py`` and ``enroll_check.py`` with
``tests.custom_user.settings`` in one subprocess (it starts its own sandbox)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_custom_user_model_in_a_subprocess():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.custom_user.settings"}
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest",
            "tests/custom_user/flow_check.py", "tests/custom_user/enroll_check.py",
            "-q", "-p", "no:cacheprovider", "--ds=tests.custom_user.settings",
            # One process: setup.cfg's -n 4 would start four workers (and sandboxes) for
            # three tests in two modules.
            "-n", "0",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # flow_check has 2 tests, enroll_check 1: all of them ran and passed.
    assert "3 passed" in output, output[-4000:]
