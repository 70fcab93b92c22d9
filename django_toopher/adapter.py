"""The adapter: the one class a site subclasses to change what django_toopher decides.

Point ``TOOPHER["ADAPTER"]`` at a subclass of :class:`DefaultToopherAdapter`::

    # myproject/toopher_adapter.py
    from django_toopher.adapter import DefaultToopherAdapter

    class EmailAdapter(DefaultToopherAdapter):
        def toopher_user_name(self, user):
            return user.email.lower()

    # settings.py
    TOOPHER = {..., "ADAPTER": "myproject.toopher_adapter.EmailAdapter"}

Every flow asks :func:`get_adapter` (one instance per class, cached), never the
class directly, so an override applies to the HTML pages, the admin and the
management commands alike.
"""

from __future__ import annotations

import functools
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from .app_settings import app_settings
from .session_keys import PENDING

#: Every message a user can see from a flow, by key. Override
#: :meth:`DefaultToopherAdapter.message` (or
#: extend this dict in a subclass) to change the wording; keep the placeholders.
MESSAGES: dict[str, Any] = {
    # steps of a pending login
    "step_start": _("Sending a request to your phone…"),
    "step_name_terminal": _("Name this browser so that your phone can show where you log in."),
    "step_pushed": _("The request is on your phone. Approve it there to continue."),
    "step_pair": _("Pair your phone with Toopher to continue."),
    "step_pairing": _("Waiting for your phone to accept the pairing…"),
    "step_failed": _("Toopher cannot be reached right now. Try again in a moment."),
    # ends of a pending login
    "end_denied": _("The request was denied on your phone."),
    "end_expired": _("The request expired before it was approved."),
    "end_cancelled": _("The request was cancelled."),
    "end_rate_limited": _("Too many attempts. Wait a few minutes before you try again."),
    "end_refused": _("The request cannot be completed."),
    "end_start_over": _("Log in again to start over."),
    "no_login": _("There is no login waiting for approval."),
    "no_action": _("There is no action waiting for approval."),
    "account_cannot_log_in": _("This account cannot log in."),
    "granted": _("Approved. Taking you there…"),
    "logged_in": _("Logged in."),
    "already_used": _("This approval has already been used."),
    "push_limit": _(
        "Too many approval requests were sent to your phone. You can log in again in "
        "%(wait)s."
    ),
    "wait_minutes": ngettext_lazy("%(count)d minute", "%(count)d minutes", "count"),
    "wait_seconds": ngettext_lazy("%(count)d second", "%(count)d seconds", "count"),
    "toopher_refused": _("Toopher refused the request. Try again, or ask an administrator."),
    "still_waiting": _("Still waiting; Toopher did not answer the last check."),
    "deactivated_login": _(
        "Your phone is no longer paired with this site. Ask an administrator for help."
    ),
    "deactivated_action": _(
        "Your phone is no longer paired. Pair it again on your security page."
    ),
    "repair": _("Your phone is no longer paired. Pair it again to continue."),
    "action_needs_pairing": _(
        "This action needs approval on a paired phone. Pair a phone first."
    ),
    # one-time password
    "otp_no_request": _("There is no request to answer with a code yet."),
    "otp_wrong": ngettext_lazy(
        "That code is not right. You can try %(count)d more time.",
        "That code is not right. You can try %(count)d more times.",
        "count",
    ),
    "otp_exhausted": _("Too many wrong codes."),
    "unreachable_retry": _("Toopher cannot be reached right now. Try again."),
    "busy": _(
        "Something this site needs is not answering right now. Nothing was changed; try "
        "again in a moment."
    ),
    # terminals
    "terminal_name_invalid": _("Enter a name of 1 to 100 characters."),
    "unreachable_nothing_changed": _(
        "Toopher cannot be reached right now. Nothing was changed; please try again in a "
        "moment."
    ),
    # pairing
    "pairing_rate_limited": _("Too many pairing attempts. Please wait a while and try again."),
    "pairing_phrase_refused": _(
        "Toopher did not accept this pairing. Check the phrase in the app (it is valid for "
        "a few minutes only) and try again."
    ),
    "pairing_user_disabled": _("Toopher is turned off for your account. Nothing was changed."),
    "pairing_garbled": _(
        "Toopher sent an answer we could not understand. Nothing was changed; please try "
        "again."
    ),
    "pairing_unavailable": _("Toopher cannot be reached right now; still trying."),
    "pairing_invalid": _("This pairing is no longer valid. Please start again."),
    "pairing_expired": _("The pairing took too long and was cancelled. Please start again."),
    "pairing_denied": _("The pairing was denied on the phone. Nothing was changed."),
    "pairing_mismatch": _("This pairing does not belong to your account. Nothing was changed."),
    "paired_enrollment": _("Your phone is paired. Logins now wait for your approval on it."),
    "paired_login": _("Your phone is paired. Now approve the login."),
    "pairing_in_progress": _("A pairing is already waiting for your phone."),
    "already_paired": _(
        "Your account is already paired. Remove that pairing first to pair another phone."
    ),
    "unpair_failed": _(
        "Toopher cannot be reached right now. Your phone is still paired; please try again "
        "in a moment."
    ),
    "pairing_cancelled": _("Pairing cancelled."),
    "unknown_request": _("Unknown request. Nothing was changed."),
    "already_paired_short": _("Your account is already paired."),
    "not_paired": _("Your account has no paired phone."),
    "qr_unavailable": _("The QR code is not available right now."),
    "unpaired": _("Your phone is no longer paired. Logins no longer wait for its approval."),
    "sessions_not_ended": _("Your other sessions could not be ended here."),
    "sessions_ended": ngettext_lazy(
        "%(count)d other session ended.", "%(count)d other sessions ended.", "count"
    ),
    # a lost phone: recovery codes and the reset by email
    "recovery_login_only": _("This ends a login only; it cannot approve an action."),
    "recovery_code_wrong": ngettext_lazy(
        "That recovery code is not right, or it was used already. You can try %(count)d "
        "more time.",
        "That recovery code is not right, or it was used already. You can try %(count)d "
        "more times.",
        "count",
    ),
    "recovery_used": ngettext_lazy(
        "Logged in with a recovery code; %(count)d code is left. Remove the lost phone's "
        "pairing and pair a new phone now.",
        "Logged in with a recovery code; %(count)d codes are left. Remove the lost "
        "phone's pairing and pair a new phone now.",
        "count",
    ),
    "reset_link_sent": _(
        "If this account has an email address and a paired phone, a link to reset the "
        "pairing is on its way there. Open it in this browser; it is valid for a while "
        "and works once."
    ),
    "reset_link_invalid": _("This reset link is not valid, has expired or was used already."),
    "reset_link_login_first": _(
        "Log in with your password first, then open the link from the email again."
    ),
    "reset_done_pair": _("The lost phone's pairing is reset. Pair your new phone to log in."),
    "reset_done_logged_in": _(
        "The lost phone's pairing is reset. You are logged in; pair a new phone on your "
        "security page."
    ),
}


class DefaultToopherAdapter:
    """What a site may change, each in one method. Subclass and override."""

    def toopher_user_name(self, user: Any) -> str:
        """The name Toopher knows ``user`` by (default: the ``USERNAME_FIELD`` value).

        It must be stable and unique per user: pairings and zero-storage logins are
        keyed by it at Toopher, and a grant is refused when the phone's answer names
        another user.
        """
        return str(user.get_username())

    def is_toopher_enabled(self, user: Any, profile: Any) -> bool:
        """Whether ``user`` is asked for approval at all (default: unless the profile's
        ``enabled`` flag is off, which the admin's "Disable Toopher" sets).

        ``profile`` is the user's ``ToopherProfile`` (``django_toopher.models``) or
        None. Return False to let some users (service accounts, say) log in with the
        password alone; the login is still recorded as verified.
        """
        return profile is None or bool(profile.enabled)

    def suggested_terminal_name(self, request: HttpRequest) -> str:
        """The name pre-filled in the "name this browser" form (default: empty)."""
        return ""

    def message(self, key: str, **params: Any) -> str:
        """The user-facing text for ``key`` (see :data:`MESSAGES`), with ``params``."""
        text = MESSAGES[key]
        return str(text % params) if params else str(text)

    def end_user_sessions(self, user: Any, *, keep_session_key: str | None = None) -> int | None:
        """End every stored session of ``user``, logged in or pending, except
        ``keep_session_key``. Returns how many, or None if the session engine cannot
        list its sessions (cache-only or signed-cookie sessions).

        The default scans the database session table and decodes each live row,
        which is fine up to some hundred thousand sessions; a site with more (or with
        a session index of its own, such as django-user-sessions) overrides this.
        """
        engine = import_module(settings.SESSION_ENGINE)
        store_class = engine.SessionStore
        if not hasattr(store_class, "get_model_class"):
            return None
        model = store_class.get_model_class()
        wanted = str(user.pk)
        decoder = store_class()
        ended = 0
        rows = model.objects.filter(expire_date__gt=timezone.now()).only(
            "session_key", "session_data"
        )
        for row in rows.iterator(chunk_size=500):
            if row.session_key == keep_session_key:
                continue
            data = decoder.decode(row.session_data)
            if wanted in (str(data.get(SESSION_KEY)), _pending_user(data)):
                store_class(session_key=row.session_key).delete()
                ended += 1
        return ended


def _pending_user(data: dict[str, Any]) -> str | None:
    pending = data.get(PENDING)
    if isinstance(pending, dict) and pending.get("user") is not None:
        return str(pending["user"])
    return None


@functools.lru_cache(maxsize=8)
def _adapter_for(path: str) -> DefaultToopherAdapter:
    adapter_class = import_string(path)
    return adapter_class()


def get_adapter() -> DefaultToopherAdapter:
    """The adapter named by ``TOOPHER["ADAPTER"]`` (one instance per class)."""
    return _adapter_for(app_settings.ADAPTER)
