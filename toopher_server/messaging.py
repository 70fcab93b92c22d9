"""Messages to people: reset links by email, pairing texts by SMS.

The service sends email through Django's email backend (``EMAIL_URL`` in
:mod:`toopher_server.settings`, from ``DEFAULT_FROM_EMAIL``) and keeps no copy of a
message: a reset link's token is in the mail and nowhere else in clear. It has no SMS
gateway: an SMS is refused with a Toopher error (403) unless a sender is installed.

A process may :func:`install` a :data:`Sender` that takes every message instead (the
sandbox installs one that keeps them in its outbox, for tests and people to read),
as ``nonces.install`` and ``lookups.install`` do for their hooks.

:func:`send` is called after the caller's transaction (never inside one: a slow or
failing mail server must hold no lock). It raises :class:`NotSent` (an ``ApiError``:
503 for a failure, 403 when there is no way to send this kind of message); the caller
undoes what it wrote for the message, so a failure leaves nothing half-done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail

from .errors import ApiError

__all__ = [
    "EMAIL",
    "SMS",
    "NotSent",
    "OutgoingMessage",
    "Sender",
    "can_send",
    "install",
    "require",
    "send",
]

log = logging.getLogger(__name__)

EMAIL = "email"
SMS = "sms"
#: The backend ``EMAIL_URL`` gives when it is not set: it sends nothing.
_DUMMY_BACKEND = "django.core.mail.backends.dummy.EmailBackend"


@dataclass(frozen=True)
class OutgoingMessage:
    """One message: ``kind`` (:data:`EMAIL` or :data:`SMS`), the address or number it
    goes ``to``, a ``subject`` (email only), the ``body`` and the requester it is for."""

    kind: str
    to: str
    body: str
    subject: str = ""
    requester_id: str | None = None


#: A hook that takes every message instead of the service's own delivery.
Sender = Callable[[OutgoingMessage], None]

_sender: Sender | None = None


class NotSent(ApiError):
    """The message was not sent: 403 (this service cannot send it) or 503 (it failed)."""


def install(sender: Sender | None) -> None:
    """Hand every message to ``sender`` from now on (None: the service's own delivery)."""
    global _sender
    _sender = sender


def installed() -> Sender | None:
    """The sender installed, if any."""
    return _sender


def can_send(kind: str) -> bool:
    """True when a message of ``kind`` can be sent: a sender is installed, or it is an
    email and ``EMAIL_BACKEND`` is a real one (not the dummy of an unset ``EMAIL_URL``)."""
    if _sender is not None:
        return True
    return kind == EMAIL and settings.EMAIL_BACKEND != _DUMMY_BACKEND


def require(kind: str) -> None:
    """Raise :class:`NotSent` (403) when a message of ``kind`` cannot be sent: called
    before anything is written for it."""
    if can_send(kind):
        return
    if kind == SMS:
        raise NotSent(403, 403, "This Toopher service sends no SMS: pair with a pairing "
                                "phrase or a QR code instead.")
    raise NotSent(403, 403, "This Toopher service sends no email (its EMAIL_URL is not set): "
                            "use generate_reset_link instead.")


def send(message: OutgoingMessage) -> None:
    """Send ``message`` (to the installed sender, else by email); :class:`NotSent` if it
    cannot be sent or sending fails. Never logs the body (it may hold a token)."""
    require(message.kind)
    try:
        if _sender is not None:
            _sender(message)
        else:
            send_mail(
                message.subject,
                message.body,
                settings.DEFAULT_FROM_EMAIL,
                [message.to],
                fail_silently=False,
            )
    except Exception as exc:  # noqa: BLE001 - any backend failure is one clear answer
        log.warning("sending a %s for requester %s failed: %s",
                    message.kind, message.requester_id, type(exc).__name__)
        what = "SMS" if message.kind == SMS else "email"
        raise NotSent(503, 503, f"The {what} could not be sent (the mail or "
                                "message service failed); nothing was changed. "
                                "Try again later.") from exc
