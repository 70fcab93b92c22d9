"""How every test starts Debian's Chromium (through Playwright): where it is, its
arguments, and the one rule for when it is missing.

Three test folders start one (``tests/browser``, the pending page's JavaScript in
``tests/django_toopher``, the phone page in ``tests/sandbox``), and so does the
benchmark of approval latency (``benchmarks/bench_approval.py``); they share this so
that a flag that matters (like the idle-CPU one below) reaches all of them. pytest is
imported only where a test is skipped or failed, so the benchmarks can use the rest.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))

#: The features Playwright disables (its own ``--disable-features``, which a second one
#: replaces: Chromium keeps the last) and two more: the omnibox popup's WebUI pages.
#: A headless Chromium 156 keeps them in a renderer of their own that uses a tenth of a
#: core while the browser is idle (0.12 against 0.01 s of CPU per second, measured with
#: a blank page open). Browser tests spend most of their time waiting on a server, so
#: that renderer was about a fifth of a whole run's Chromium CPU (226 s before, 180 s
#: after; tests/browser/test_login_flow.py alone: 33 s before, 24 s after).
DISABLED_FEATURES = [
    *"AimEnabled AvoidCorsURLLoaderRestartOnRedirect AvoidUnnecessaryBeforeUnloadCheckSync "
    "DestroyProfileOnBrowserClose HttpsFirstBalancedModeAutoEnable HttpsUpgrades "
    "LensOverlay MediaRouter NetworkTimeServiceQuerying OptimizationHints PaintHolding "
    "PreconnectToSearch ThirdPartyStoragePartitioning".split(),
    "WebUIOmniboxPopup",
    "WebUIOmniboxAimPopup",
]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    f"--disable-features={','.join(DISABLED_FEATURES)}",
]


def unavailable(reason: str) -> None:
    """Skip the test for ``reason``, or fail it in CI (``CI`` set), where the browser
    tests must run."""
    import pytest  # only here: the benchmarks import this module without pytest

    if os.environ.get("CI"):
        pytest.fail(
            f"{reason}. The browser tests must run in CI: install it with "
            "`apt-get install -y chromium` (.ci/run does this).",
            pytrace=False,
        )
    pytest.skip(f"{reason}; set up Chromium to run the browser tests")


def require_chromium() -> None:
    """:func:`unavailable` where Chromium is missing."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing")


def launch(playwright: Any, *extra_args: str) -> Any:
    """Headless Chromium from ``playwright`` (a sync Playwright), with ``extra_args``
    beyond :data:`CHROMIUM_ARGS`."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )
