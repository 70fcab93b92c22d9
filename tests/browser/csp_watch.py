"""Catch Content-Security-Policy violations in a browser context.

An init script (run by the browser's devtools, so the policy does not block it) turns
every ``securitypolicyviolation`` event into a console error tagged ``CSP violation``;
Chromium's own "Refused to ..." console errors are kept too.
"""

from __future__ import annotations

from typing import Any

_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " +
                (e.blockedURI || "inline") + " on " + document.location.pathname);
});
"""


def watch_csp(context: Any) -> list[str]:
    """Start watching every page of ``context``; returns the (growing) list of reports."""
    reports: list[str] = []
    context.add_init_script(_LISTENER)

    def on_console(message: Any) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            reports.append(text)

    context.on("page", lambda page: page.on("console", on_console))
    return reports
