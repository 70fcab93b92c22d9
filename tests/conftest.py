"""The shipped pytest plugin's fixtures, and how the tests are shared out between
pytest-xdist's workers.

The suite's sandbox, requesters, phones and users are the plugin's
(:mod:`django_toopher.pytest_plugin`, the fixtures a site that installs django-toopher
uses): ``toopher_sandbox_process``, one subprocess per test process (per xdist
worker), and ``toopher_sandbox``, its control API; ``toopher_requester`` (a new
``{"key", "secret", "api_url"}``) and ``toopher_phone`` (a new
:class:`django_toopher.testing.Phone`) per test, so tests never share state. Faults are
cleared after every test that used ``toopher_requester`` or ``toopher_phone``.

Under pytest-xdist (``-n 4`` in setup.cfg) the tests are handed out by
:func:`pytest_xdist_make_scheduler` below.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

pytest_plugins = ["django_toopher.pytest_plugin"]


def keep_bytecode() -> None:
    """Let this run, its xdist workers and every Python subprocess it starts write and
    reuse ``__pycache__`` even where ``PYTHONDONTWRITEBYTECODE`` is set (container
    images often set it).

    Without bytecode each worker rewrites the assertions of every test module (10 s of
    CPU to collect the suite instead of 4), and each of the hundreds of subprocesses
    (sandboxes, servers, ``manage.py``) compiles this repository's modules again.
    ``__pycache__`` is in ``.gitignore`` and stays out of the built distributions.
    """
    sys.dont_write_bytecode = False
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


keep_bytecode()

#: Folders whose tests all run in one xdist worker, and why (none today: every module
#: stands alone; the JSON API's endpoint table reads the URL patterns).
FOLDERS_TOGETHER: dict[str, str] = {}
#: Scopes that take longest, by prefix, longest first: handed out before the others so
#: that none of them starts late and runs alone at the end. Measured with
#: ``pytest --durations=0`` (seconds of one worker, the module's tests and fixtures
#: summed; docs/testing.md says how to measure again): a module of a minute or more
#: belongs here. The browser modules come next, module by module: a worker starts the
#: example servers (session fixtures) its modules ask for, which costs less than running
#: every browser test in one worker. tests/django_toopher/test_pending_js.py (a minute and
#: a half, its own Chromium with 15 s waits) is left out on purpose: handed out first,
#: beside the example servers' starts and the benchmark run, it timed out on a busy
#: machine.
LONGEST_FIRST = (
    "tests/browser/test_admin_actions.py",
    "tests/test_benchmarks_smoke.py",
    "tests/browser/test_site_details.py",
    "tests/sandbox/test_server.py",
    "tests/server/test_cli.py",
    "tests/browser/test_login_flow.py",
    "tests/test_packaging.py",
    "tests/sandbox/test_fuzz.py",
    "tests/django_toopher/test_custom_user.py",
    "tests/browser/test_zero_storage.py",
    "tests/django_toopher/test_translations.py",
    "tests/browser/test_spa_page.py",
    "tests/browser/",
    "tests/push/test_firefox_push.py",
    "tests/downstream/test_site.py",
)


def xdist_scope(nodeid: str) -> str:
    """The unit pytest-xdist hands to one worker: a folder of :data:`FOLDERS_TOGETHER`,
    else the test's module, so a module-scoped fixture (a built wheel, a benchmark
    run, regenerated catalogues, a cluster) is set up once, not once per worker."""
    for folder in FOLDERS_TOGETHER:
        if nodeid.startswith(folder):
            return folder
    return nodeid.split("::", 1)[0]


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's scheduler for this suite: whole scopes (see :func:`xdist_scope`)
    to whichever worker is free, :data:`LONGEST_FIRST` first, then the largest."""
    from xdist.scheduler import LoadScopeScheduling

    class SuiteScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            for prefix in reversed(LONGEST_FIRST):
                for scope in [s for s in self.workqueue if s.startswith(prefix)][::-1]:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return SuiteScheduling(config, log)
