"""The ``TOOPHER`` settings dict, read lazily with documented defaults.

Every value is looked up on each access, so ``override_settings`` and the
pytest-django ``settings`` fixture take effect at once. See docs/settings.md.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Requester credentials and the service to speak to.
    "CONSUMER_KEY": "",
    "CONSUMER_SECRET": "",
    "API_URL": "https://api.toopher.com/v1",
    # (connect, read) timeouts in seconds for every API call.
    "TIMEOUT": (5.0, 15.0),
    # "stored": keep the pairing id locally; "zero_storage": keep only the terminal cookie.
    "MODE": "stored",
    # "closed": refuse logins while Toopher is unreachable; "open": let them in, loudly.
    "FAIL_MODE": "closed",
    # Seconds a pending login may wait for the phone before it expires.
    "PENDING_TTL": 120,
    # Seconds between two status polls of the pending page (and the upstream cache window).
    "POLL_INTERVAL": 2,
    # Users without a pairing must pair before they may log in.
    "REQUIRE_ENROLLMENT": False,
    # A deactivated pairing (707) may be re-paired at login; if False, the login is refused.
    "ALLOW_REPAIR": True,
    # Push-bombing limit: at most PUSH_RATE_LIMIT requests per user per PUSH_RATE_WINDOW s.
    "PUSH_RATE_LIMIT": 5,
    "PUSH_RATE_WINDOW": 600,
    # One-time-password fallback: at most OTP_RATE_LIMIT wrong tries per pending login.
    "OTP_RATE_LIMIT": 5,
    # The signed terminal cookie (zero-storage mode and terminal naming).
    "TERMINAL_COOKIE_NAME": "toopher_terminal",
    "TERMINAL_COOKIE_AGE": 365 * 24 * 3600,
    # Action name sent for logins; terminal name used until the user names the browser.
    "LOGIN_ACTION_NAME": "Log in",
    "DEFAULT_TERMINAL_NAME": "Web browser",
    # Whether the phone may answer login requests by itself (location automation).
    # Action approvals (@toopher_required) never allow automation.
    "LOGIN_AUTOMATION_ALLOWED": True,
    # Pairing, unpairing and terminal changes need a login at most this many seconds old.
    "REAUTH_AGE": 600,
    # Default age of an action approval given by @toopher_required.
    "ACTION_MAX_AGE": 300,
    # Cache alias for rate limits and the poll cache.
    "CACHE_ALIAS": "default",
    # URL path prefixes a pending login may still visit (e.g. a help page, a
    # status page, or a phone simulator mounted on the same site).
    "EXEMPT_PATHS": (),
    # Allow plain http:// to a non-loopback API host (never in production).
    "ALLOW_INSECURE_HTTP": False,
}


class ToopherSettings:
    """Attribute access to ``settings.TOOPHER`` merged over :data:`DEFAULTS`."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown TOOPHER setting: {name}")
        user = getattr(settings, "TOOPHER", None) or {}
        return user.get(name, DEFAULTS[name])

    def as_dict(self) -> dict[str, Any]:
        """All settings, defaults filled in (for checks and docs)."""
        return {name: getattr(self, name) for name in DEFAULTS}


toopher_settings = ToopherSettings()
