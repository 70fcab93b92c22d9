"""The ``TOOPHER`` settings dict as typed, documented properties.

Every property reads ``settings.TOOPHER`` on each access, so ``override_settings``
and the pytest-django ``settings`` fixture take effect at once. Values are
validated by the system checks (``django_toopher.checks``, which use
:data:`DEFAULTS` from here); the properties only coerce what the checks allow
(a list for a tuple, say) and keep durations positive. The table of every key is
in the settings reference (docs/settings.md).

Use it as ``from django_toopher.app_settings import app_settings``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

#: The default of every ``TOOPHER`` key; ``settings.TOOPHER`` is merged over it.
DEFAULTS: dict[str, Any] = {
    "CONSUMER_KEY": "",
    "CONSUMER_SECRET": "",
    "API_URL": "https://api.toopher.com/v1",
    "TIMEOUT": (5.0, 15.0),
    "MODE": "stored",
    "FAIL_MODE": "closed",
    "PENDING_TTL": 120,
    "POLL_INTERVAL": 2,
    "REQUIRE_ENROLLMENT": False,
    "ALLOW_REPAIR": True,
    "PUSH_RATE_LIMIT": 5,
    "PUSH_RATE_WINDOW": 600,
    "OTP_RATE_LIMIT": 5,
    "LOGIN_RATE_LIMIT": 20,
    "LOGIN_RATE_WINDOW": 900,
    "REAUTH_RATE_LIMIT": 5,
    "REAUTH_RATE_WINDOW": 900,
    "PAIRING_TTL": 120,
    "PAIRING_RATE_LIMIT": 5,
    "PAIRING_RATE_WINDOW": 3600,
    "TERMINAL_COOKIE_NAME": "toopher_terminal",
    "TERMINAL_COOKIE_AGE": 365 * 24 * 3600,
    "LOGIN_ACTION_NAME": "Log in",
    "DEFAULT_TERMINAL_NAME": "Web browser",
    "LOGIN_AUTOMATION_ALLOWED": True,
    "REAUTH_AGE": 600,
    "ACTION_MAX_AGE": 300,
    "RESET_LINK_MAX_AGE": 3600,
    "CACHE_ALIAS": "default",
    "EXEMPT_PATHS": (),
    "ALLOW_INSECURE_HTTP": False,
    "ADAPTER": "django_toopher.adapter.DefaultToopherAdapter",
    "PATCH_USER_ADMIN": True,
}

#: Absolute limit of a whole pending login (naming, pairing and the push), at least.
MIN_MAX_AGE = 600


def _positive(value: Any) -> int:
    return max(1, int(value))


class AppSettings:
    """Typed access to ``settings.TOOPHER`` merged over :data:`DEFAULTS`."""

    def _get(self, name: str) -> Any:
        raw = getattr(settings, "TOOPHER", None)
        if not isinstance(raw, dict):
            raw = {}
        return raw.get(name, DEFAULTS[name])

    def as_dict(self) -> dict[str, Any]:
        """Every setting with its defaults filled in (for checks and docs)."""
        return {name: self._get(name) for name in DEFAULTS}

    # -- the service ---------------------------------------------------------

    @property
    def CONSUMER_KEY(self) -> str:  # noqa: N802 - setting names are upper case
        """The requester's OAuth consumer key."""
        return str(self._get("CONSUMER_KEY") or "")

    @property
    def CONSUMER_SECRET(self) -> str:  # noqa: N802
        """The requester's OAuth consumer secret (never logged)."""
        return str(self._get("CONSUMER_SECRET") or "")

    @property
    def API_URL(self) -> str:  # noqa: N802
        """Base URL of Toopher API v1 (the sandbox's, in development)."""
        return str(self._get("API_URL"))

    @property
    def TIMEOUT(self) -> float | tuple[float, float]:  # noqa: N802
        """(connect, read) timeouts in seconds for every API call."""
        value = self._get("TIMEOUT")
        if isinstance(value, list | tuple):
            return (float(value[0]), float(value[-1]))
        return float(value)

    @property
    def ALLOW_INSECURE_HTTP(self) -> bool:  # noqa: N802
        """Allow plain http:// to a non-loopback API host (never in production)."""
        return bool(self._get("ALLOW_INSECURE_HTTP"))

    # -- modes ---------------------------------------------------------------

    @property
    def MODE(self) -> str:  # noqa: N802
        """``"stored"`` keeps the pairing id; ``"zero_storage"`` only the terminal cookie."""
        return str(self._get("MODE"))

    @property
    def FAIL_MODE(self) -> str:  # noqa: N802
        """``"closed"`` refuses logins while Toopher fails; ``"open"`` lets them in, loudly."""
        return str(self._get("FAIL_MODE"))

    @property
    def REQUIRE_ENROLLMENT(self) -> bool:  # noqa: N802
        """Users without a pairing must pair before they may log in."""
        return bool(self._get("REQUIRE_ENROLLMENT"))

    @property
    def ALLOW_REPAIR(self) -> bool:  # noqa: N802
        """A deactivated pairing (707) may be re-paired at login; if False it is refused."""
        return bool(self._get("ALLOW_REPAIR"))

    @property
    def LOGIN_AUTOMATION_ALLOWED(self) -> bool:  # noqa: N802
        """Whether the phone may answer login requests by itself (never for actions)."""
        return bool(self._get("LOGIN_AUTOMATION_ALLOWED"))

    # -- durations and limits -------------------------------------------------

    @property
    def PENDING_TTL(self) -> int:  # noqa: N802
        """Seconds a step of a pending login may wait for the phone."""
        return _positive(self._get("PENDING_TTL"))

    @property
    def PENDING_MAX_AGE(self) -> int:  # noqa: N802
        """Absolute limit of a whole pending login (derived: max(600, 3 * PENDING_TTL))."""
        return max(MIN_MAX_AGE, 3 * self.PENDING_TTL)

    @property
    def POLL_INTERVAL(self) -> int:  # noqa: N802
        """Seconds between two status polls, and the window of the upstream cache."""
        return _positive(self._get("POLL_INTERVAL"))

    @property
    def PUSH_RATE_LIMIT(self) -> int:  # noqa: N802
        """Pushes a user may get per PUSH_RATE_WINDOW seconds (push-bombing limit)."""
        return int(self._get("PUSH_RATE_LIMIT"))

    @property
    def PUSH_RATE_WINDOW(self) -> int:  # noqa: N802
        """Seconds of the push rate-limit window."""
        return _positive(self._get("PUSH_RATE_WINDOW"))

    @property
    def OTP_RATE_LIMIT(self) -> int:  # noqa: N802
        """Wrong one-time passwords allowed per pending login."""
        return int(self._get("OTP_RATE_LIMIT"))

    @property
    def LOGIN_RATE_LIMIT(self) -> int:  # noqa: N802
        """Password tries per client address and LOGIN_RATE_WINDOW on the JSON API's
        ``login`` (the site's own login pages are the site's to limit)."""
        return int(self._get("LOGIN_RATE_LIMIT"))

    @property
    def LOGIN_RATE_WINDOW(self) -> int:  # noqa: N802
        """Seconds of the JSON login's rate-limit window."""
        return _positive(self._get("LOGIN_RATE_WINDOW"))

    @property
    def REAUTH_RATE_LIMIT(self) -> int:  # noqa: N802
        """Wrong passwords a user may enter per REAUTH_RATE_WINDOW on re-authentication
        (the page and the JSON API together); then even the right one waits."""
        return int(self._get("REAUTH_RATE_LIMIT"))

    @property
    def REAUTH_RATE_WINDOW(self) -> int:  # noqa: N802
        """Seconds of the re-authentication rate-limit window."""
        return _positive(self._get("REAUTH_RATE_WINDOW"))

    @property
    def PAIRING_TTL(self) -> int:  # noqa: N802
        """Seconds a pairing (at login or on the security page) may wait for the phone."""
        return _positive(self._get("PAIRING_TTL"))

    @property
    def PAIRING_RATE_LIMIT(self) -> int:  # noqa: N802
        """Pairings a user may start per PAIRING_RATE_WINDOW seconds (each calls Toopher)."""
        return int(self._get("PAIRING_RATE_LIMIT"))

    @property
    def PAIRING_RATE_WINDOW(self) -> int:  # noqa: N802
        """Seconds of the pairing rate-limit window."""
        return _positive(self._get("PAIRING_RATE_WINDOW"))

    @property
    def REAUTH_AGE(self) -> int:  # noqa: N802
        """Pairing, unpairing and terminal changes need a login at most this old (s)."""
        return int(self._get("REAUTH_AGE"))

    @property
    def ACTION_MAX_AGE(self) -> int:  # noqa: N802
        """Default age (s) of an action approval given by ``@toopher_required``."""
        return int(self._get("ACTION_MAX_AGE"))

    @property
    def RESET_LINK_MAX_AGE(self) -> int:  # noqa: N802
        """Seconds an emailed pairing reset link of this site stays valid (zero-storage)."""
        return _positive(self._get("RESET_LINK_MAX_AGE"))

    # -- names, cookies, cache --------------------------------------------------

    @property
    def LOGIN_ACTION_NAME(self) -> str:  # noqa: N802
        """The action name the phone shows for a login."""
        return str(self._get("LOGIN_ACTION_NAME"))

    @property
    def DEFAULT_TERMINAL_NAME(self) -> str:  # noqa: N802
        """The terminal name sent until the user names the browser."""
        return str(self._get("DEFAULT_TERMINAL_NAME"))

    @property
    def TERMINAL_COOKIE_NAME(self) -> str:  # noqa: N802
        """Name of the signed terminal cookie."""
        return str(self._get("TERMINAL_COOKIE_NAME"))

    @property
    def TERMINAL_COOKIE_AGE(self) -> int:  # noqa: N802
        """Lifetime of the signed terminal cookie, in seconds."""
        return int(self._get("TERMINAL_COOKIE_AGE"))

    @property
    def CACHE_ALIAS(self) -> str:  # noqa: N802
        """Cache alias for rate limits, the push lock and the upstream cache."""
        return str(self._get("CACHE_ALIAS"))

    @property
    def EXEMPT_PATHS(self) -> tuple[str, ...]:  # noqa: N802
        """URL path prefixes a pending login may still visit."""
        value = self._get("EXEMPT_PATHS")
        if isinstance(value, str) or not isinstance(value, list | tuple):
            return ()
        return tuple(p for p in value if isinstance(p, str) and p)

    # -- extension ----------------------------------------------------------------

    @property
    def ADAPTER(self) -> str:  # noqa: N802
        """Dotted path of the adapter class (see :mod:`django_toopher.adapter`)."""
        return str(self._get("ADAPTER"))

    @property
    def PATCH_USER_ADMIN(self) -> bool:  # noqa: N802
        """Add the Toopher actions to the registered UserAdmin automatically."""
        return bool(self._get("PATCH_USER_ADMIN"))


app_settings = AppSettings()
