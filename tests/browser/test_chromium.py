"""The tests' Chromium (tests/chromium.py) as the suite's time depends on it."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_the_browser_keeps_no_omnibox_popup_page_of_its_own(browser: Any) -> None:
    """A headless Chromium keeps the omnibox popup's WebUI pages in a renderer of its
    own that uses a tenth of a core while idle; the tests start Chromium without them.
    A Chromium that renames the features fails here instead of slowing the suite."""
    page = browser.new_context().new_page()
    try:
        page.set_content("<h1>Idle</h1>")
        session = browser.new_browser_cdp_session()
        targets = session.send("Target.getTargets")["targetInfos"]
    finally:
        page.context.close()
    urls = [target["url"] for target in targets]
    assert any(target["type"] == "page" for target in targets), urls
    assert not [url for url in urls if "top-chrome" in url or "omnibox" in url], urls
