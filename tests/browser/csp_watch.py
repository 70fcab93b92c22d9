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


#: The reports of each watched context (a companion profile, such as the phone's,
#: reports into its context's list: tests/browser/conftest.companion_context).
_watched: dict[Any, list[str]] = {}


def reports_of(context: Any) -> list[str] | None:
    """The list :func:`watch_csp` returned for ``context``, if it is watched."""
    return _watched.get(context)


def forget_watch(*contexts: Any) -> None:
    """Drop the record of ``contexts`` (closed with their test)."""
    for context in contexts:
        _watched.pop(context, None)


def watch_csp(context: Any, reports: list[str] | None = None) -> list[str]:
    """Start watching every page of ``context``; returns the (growing) list of reports
    (``reports``, when given: another context's, to share it)."""
    reports = [] if reports is None else reports
    _watched[context] = reports
    context.add_init_script(_LISTENER)

    def on_console(message: Any) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            reports.append(text)

    context.on("page", lambda page: page.on("console", on_console))
    return reports
