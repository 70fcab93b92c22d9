"""System checks for django_toopher's configuration.

Every check is registered under the tag ``"django_toopher"`` (``manage.py check
--tag django_toopher``). Misconfigurations that would make the second factor unsafe
or unusable are errors (``django_toopher.E0xx``), so the site refuses to start
instead of failing open at login time; risky but legal choices are warnings
(``django_toopher.W0xx``). Each id is documented in docs/admin.md ("System checks").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core import checks
from django.utils.module_loading import import_string

from toopher.api import is_loopback_host

from .adapter import DefaultToopherAdapter
from .app_settings import DEFAULTS
from .internal.admin_actions import USER_ACTION_NAMES
from .internal.settings_rules import NUMBER_RULES, error, warning
from .middleware import ToopherMiddleware

TAG = "django_toopher"
MIDDLEWARE_PATH = "django_toopher.middleware.ToopherMiddleware"
SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
MODES = ("stored", "zero_storage")
FAIL_MODES = ("closed", "open")


def _raw_settings() -> dict[str, Any] | None:
    """``settings.TOOPHER`` as given, or None when it is not a dict."""
    raw = getattr(settings, "TOOPHER", None)
    if raw is None:
        return {}
    return raw if isinstance(raw, dict) else None


def _merged() -> dict[str, Any]:
    raw = _raw_settings() or {}
    return {**DEFAULTS, **raw}


@checks.register(TAG)
def check_settings_dict(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list:
    """E010: TOOPHER must be a dict. W002: unknown keys (typos) are reported."""
    raw = _raw_settings()
    if raw is None:
        return [
            error(
                "settings.TOOPHER must be a dict.",
                10,
                hint="For example TOOPHER = {'CONSUMER_KEY': ..., 'CONSUMER_SECRET': ...}.",
            )
        ]
    unknown = sorted(str(k) for k in raw if k not in DEFAULTS)
    if unknown:
        return [
            warning(
                f"settings.TOOPHER has unknown keys: {', '.join(unknown)}.",
                2,
                hint="They are ignored. Check the spelling against docs/settings.md.",
            )
        ]
    return []


@checks.register(TAG)
def check_credentials(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list:
    """E001: the requester's consumer key and secret must be set (non-empty strings)."""
    conf = _merged()
    missing = [
        name
        for name in ("CONSUMER_KEY", "CONSUMER_SECRET")
        if not isinstance(conf.get(name), str) or not str(conf.get(name)).strip()
    ]
    if missing:
        return [
            error(
                f"TOOPHER['{missing[0]}'] is not set."
                if len(missing) == 1
                else "TOOPHER['CONSUMER_KEY'] and TOOPHER['CONSUMER_SECRET'] are not set.",
                1,
                hint="Set the requester credentials, e.g. from the environment. "
                "Without them no login of a paired user can be approved.",
            )
        ]
    return []


@checks.register(TAG)
def check_api_url(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list:
    """E002: plain http:// to a non-loopback host. E003: not an http(s) URL.
    W003: plain http:// to a non-loopback host allowed by ALLOW_INSECURE_HTTP."""
    conf = _merged()
    url = conf.get("API_URL")
    if not isinstance(url, str):
        return [error("TOOPHER['API_URL'] must be a string.", 3)]
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        return [
            error(
                "TOOPHER['API_URL'] is not an http(s) URL with a host.",
                3,
                hint="For example 'https://api.toopher.com/v1'.",
            )
        ]
    if parts.scheme == "http" and not is_loopback_host(host):
        if conf.get("ALLOW_INSECURE_HTTP") is True:
            return [
                warning(
                    "TOOPHER['API_URL'] uses plain http:// to a host that is not loopback "
                    "(allowed by ALLOW_INSECURE_HTTP).",
                    3,
                    hint="Requests and answers can be read and changed on the way. "
                    "Never do this in production.",
                )
            ]
        return [
            error(
                "TOOPHER['API_URL'] uses plain http:// to a host that is not loopback.",
                2,
                hint="Use https://. Plain http:// is accepted for 127.0.0.1, ::1 and "
                "localhost, or everywhere with TOOPHER['ALLOW_INSECURE_HTTP'] = True "
                "(never in production).",
            )
        ]
    return []


@checks.register(TAG)
def check_modes(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list:
    """E004: MODE invalid. E005: FAIL_MODE invalid. W001: FAIL_MODE is "open"."""
    conf = _merged()
    errors: list = []
    if conf.get("MODE") not in MODES:
        errors.append(
            error(
                f"TOOPHER['MODE'] must be one of {', '.join(map(repr, MODES))}, "
                f"not {conf.get('MODE')!r}.",
                4,
            )
        )
    fail_mode = conf.get("FAIL_MODE")
    if fail_mode not in FAIL_MODES:
        errors.append(
            error(
                f"TOOPHER['FAIL_MODE'] must be one of {', '.join(map(repr, FAIL_MODES))}, "
                f"not {fail_mode!r}.",
                5,
            )
        )
    elif fail_mode == "open":
        errors.append(
            warning(
                "TOOPHER['FAIL_MODE'] is 'open': while Toopher is unreachable, slow or "
                "answers garbage, users log in with the password alone.",
                1,
                hint="Each such login is logged and audited (fail_open). Use 'closed' "
                "unless you accept that risk.",
            )
        )
    return errors


@checks.register(TAG)
def check_adapter(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list:
    """E014: TOOPHER["ADAPTER"] does not name a DefaultToopherAdapter subclass."""
    path = _merged().get("ADAPTER")
    try:
        found = import_string(path) if isinstance(path, str) else None
    except ImportError:
        found = None
    if isinstance(found, type) and issubclass(found, DefaultToopherAdapter):
        return []
    return [
        error(
            f"TOOPHER['ADAPTER'] ({path!r}) is not an importable subclass of "
            "django_toopher.adapter.DefaultToopherAdapter.",
            14,
        )
    ]


@checks.register(TAG)
def check_numbers(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list:
    """E006: a count/duration setting is not a positive integer.
    E007: PENDING_TTL or PAIRING_TTL above 600 s (ASVS 5.0 6.5.5).
    W004: POLL_INTERVAL >= PENDING_TTL.
    E008: TIMEOUT is not a positive number or a (connect, read) pair of them.
    E009: a name setting is empty or not a string. E011: a flag is not a bool.
    E012: CACHE_ALIAS is not a configured cache. W005: it is a DummyCache.
    E013: EXEMPT_PATHS is not a list of path prefixes starting with "/"."""
    conf = _merged()
    errors: list = []
    for rule in NUMBER_RULES:
        errors.extend(rule(conf))
    return errors


def _is_toopher_middleware(path: str) -> bool:
    if path == MIDDLEWARE_PATH:
        return True
    if not isinstance(path, str) or not path.endswith("Middleware"):
        return False
    try:
        cls = import_string(path)
        return isinstance(cls, type) and issubclass(cls, ToopherMiddleware)
    except Exception:  # noqa: BLE001 - an unimportable entry is Django's own check's business
        return False


@checks.register(TAG)
def check_middleware(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list:
    """E020: the middleware is missing. E021: it comes before SessionMiddleware or
    AuthenticationMiddleware. E022: it is listed more than once."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    positions = [i for i, path in enumerate(middleware) if _is_toopher_middleware(path)]
    if not positions:
        return [
            error(
                f"'{MIDDLEWARE_PATH}' is not in settings.MIDDLEWARE.",
                20,
                hint="Without it a pending login is not sent to the approval page. Add it "
                "after AuthenticationMiddleware.",
            )
        ]
    errors: list = []
    if len(positions) > 1:
        errors.append(error(f"'{MIDDLEWARE_PATH}' is listed more than once.", 22))
    ours = positions[0]
    for required in (SESSION_MIDDLEWARE, AUTH_MIDDLEWARE):
        if required in middleware and middleware.index(required) > ours:
            errors.append(
                error(
                    f"'{MIDDLEWARE_PATH}' must come after '{required}' in settings.MIDDLEWARE.",
                    21,
                    hint="It reads the session and request.user.",
                )
            )
        elif required not in middleware:
            errors.append(
                error(
                    f"'{required}' is not in settings.MIDDLEWARE; django_toopher needs it.",
                    21,
                )
            )
    return errors


@checks.register(TAG)
def check_user_admin_actions(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list:
    """W010: the registered UserAdmin lacks the Toopher actions (the site registered its
    own UserAdmin after django_toopher's admin module had run)."""
    if "django.contrib.admin" not in settings.INSTALLED_APPS:
        return []
    model_admin = admin.site._registry.get(get_user_model())
    if model_admin is None:
        return []
    names = {getattr(a, "__name__", a) for a in (model_admin.actions or ())}
    if not set(USER_ACTION_NAMES) <= names:
        return [
            warning(
                "The admin's User changelist does not offer the Toopher actions.",
                10,
                hint="Your UserAdmin was registered after django_toopher's admin module "
                "ran. Call django_toopher.admin.add_user_admin_actions() after registering "
                "it (see docs/admin.md).",
            )
        ]
    return []


SIGNED_COOKIE_SESSIONS = "django.contrib.sessions.backends.signed_cookies"


@checks.register(TAG)
def check_session_engine(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list:
    """W006: signed-cookie sessions carry the pending login (the Toopher request id, the
    terminal id) to the browser, signed but readable."""
    if getattr(settings, "SESSION_ENGINE", "") != SIGNED_COOKIE_SESSIONS:
        return []
    return [
        warning(
            "SESSION_ENGINE is signed_cookies: the pending login, with the Toopher request "
            "id and the terminal id, travels in the session cookie, signed but not "
            "encrypted, so the browser can read it.",
            6,
            hint="Use a server-side session engine (db, cache or cached_db); see "
            "docs/security.md.",
        )
    ]
