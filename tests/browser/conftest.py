"""Fixtures for the browser tests: Debian's Chromium through Playwright, example servers.

The tests never skip in CI: when ``CI`` is set and Chromium is missing they fail with
a message saying how to install it. Elsewhere they skip. When a test fails, every page
it had open is saved as a PNG under ``test-artifacts/``, and its text and the end of
each running server's log are printed.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

import pytest

from ..chromium import launch, require_chromium, unavailable
from .csp_watch import forget_watch, reports_of, watch_csp
from .server import ROOT, TEMPLATES, ExampleServer

ARTIFACTS = ROOT / "test-artifacts"
#: Playwright's wait for any one element or navigation, and an ``expect()`` assertion's
#: wait for its condition (Playwright's own default, 5 s, is too short on a loaded
#: machine), in milliseconds. A longer wait only costs time when a test fails.
DEFAULT_TIMEOUT_MS = 20_000
#: How much of each server's log a failed test prints.
LOG_LINES = 80

_user_numbers = count(1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Keep each phase's report on the item, so fixtures can see a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def launch_chromium(*extra_args: str) -> Iterator[Any]:
    """Headless Chromium (with ``extra_args`` beyond ``tests.chromium.CHROMIUM_ARGS``)
    for a fixture to yield from; skipped, or failed in CI, where it is missing."""
    require_chromium()
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:  # pragma: no cover - playwright is in the [test] extra
        unavailable("the playwright package is not installed")
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = launch(playwright, *extra_args)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module.

    Module scope, not session: Playwright's sync API cannot start while another sync
    instance is running, and other test folders start their own.
    """
    yield from launch_chromium()


@pytest.fixture(scope="session", autouse=True)
def shared_templates(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The example servers' migrated databases (:data:`.server.TEMPLATES`) are made once
    per run, in the folder the run's processes share (xdist's workers each have a base
    temporary folder in it)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    TEMPLATES.folder = shared / "example-templates"


def _start(tmp_path_factory: pytest.TempPathFactory, name: str, **env: str) -> ExampleServer:
    return ExampleServer(tmp_path_factory.mktemp(name), **env).start()


@pytest.fixture(scope="session")
def stored_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    """The example site in stored-ID mode, with its own mounted sandbox."""
    workdir = tmp_path_factory.mktemp("stored")
    server = ExampleServer(
        workdir,
        TOOPHER_MODE="stored",
        # The password-reset mail goes to files the tests read (see mail_to()).
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(workdir / "mail"),
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def asgi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    """The example site in stored-ID mode under uvicorn (example_project/asgi.py)."""
    server = ExampleServer(tmp_path_factory.mktemp("asgi"), asgi=True, TOOPHER_MODE="stored")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def zero_storage_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    """A second example site, in zero-storage mode."""
    server = _start(tmp_path_factory, "zero", TOOPHER_MODE="zero_storage")
    yield server
    server.stop()


@pytest.fixture
def context(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser profile (cookies and all) for one test; screenshots on failure."""
    ctx = _new_profile(browser, VIEWPORT)
    yield ctx
    companions = _companions.pop(ctx, [])
    forget_watch(ctx, *companions)
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        pages = [*ctx.pages, *(page for companion in companions for page in companion.pages)]
        _save_screenshots(pages, request.node.nodeid)
        _print_what_was_seen(pages)
    for companion in companions:
        companion.close()
    ctx.close()


#: The browser tests' window.
VIEWPORT = {"width": 1100, "height": 900}
#: The profiles opened beside a test's own (:func:`companion_context`), closed with it.
_companions: dict[Any, list[Any]] = {}


def _new_profile(browser: Any, viewport: dict[str, int]) -> Any:
    profile = browser.new_context(viewport=viewport)
    profile.set_default_timeout(DEFAULT_TIMEOUT_MS)
    profile.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return profile


def companion_context(context: Any) -> Any:
    """Another browser profile (its own cookies and storage) in ``context``'s browser,
    with its window size: another device of the same person, such as the phone. The
    :func:`context` fixture closes it with ``context`` and shows its pages when the
    test fails."""
    viewport = context.pages[0].viewport_size if context.pages else None
    companion = _new_profile(context.browser, viewport or VIEWPORT)
    _companions.setdefault(context, []).append(companion)
    reports = reports_of(context)
    if reports is not None:  # the test watches for CSP violations: on this profile too
        watch_csp(companion, reports)
    return companion


def _save_screenshots(pages: list[Any], nodeid: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")
    for number, page in enumerate(pages, start=1):
        path = ARTIFACTS / f"{stem}-page{number}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of {page.url} saved to {path}")
        except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the failure
            print(f"could not save a screenshot of page {number}: {exc}")


def _print_what_was_seen(pages: list[Any]) -> None:
    """Each page's text and the end of each server's log: a failure in CI, where the
    screenshots stay behind, still shows what the user saw and what the servers did."""
    for number, page in enumerate(pages, start=1):
        try:
            text = page.locator("body").inner_text(timeout=2_000)
        except Exception as exc:  # noqa: BLE001 - the page may be gone
            text = f"(no text: {exc})"
        print(f"--- page {number}, {page.url}:\n{text[:2_000]}")
    for server in ExampleServer.running:
        print(f"--- the end of {server.log_path}:\n{server.log_tail(LOG_LINES)}")


@pytest.fixture
def make_user() -> Callable[[ExampleServer], tuple[str, str]]:
    """A new user on a server, never used before; returns ``(username, password)``.

    Users are made :data:`USER_BATCH` at a time per server (:func:`_new_user`): one
    ``manage.py`` run instead of one per user.
    """
    return _new_user


#: How many users :func:`_new_user` makes on a server at once.
USER_BATCH = 6
#: The password of every user :func:`_new_user` makes.
USER_PASSWORD = "correct horse battery staple"
#: Users made and not handed out yet, per server.
_unused_users: weakref.WeakKeyDictionary[ExampleServer, list[str]] = weakref.WeakKeyDictionary()


def _new_user(server: ExampleServer) -> tuple[str, str]:
    unused = _unused_users.setdefault(server, [])
    if not unused:
        # Short names: the nav bar shows "Log out <name>", and test_csp checks that it
        # fits one row at 1100 px (batches use numbers faster than one user at a time).
        batch = [f"u{next(_user_numbers)}-{os.getpid()}" for _ in range(USER_BATCH)]
        server.create_users(batch, USER_PASSWORD)
        unused.extend(batch)
    return unused.pop(0), USER_PASSWORD
