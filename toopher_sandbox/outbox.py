"""The sandbox's outbox: every SMS and email of the service, kept instead of sent.

:func:`install` hands the service's messages (:mod:`toopher_server.messaging`) to
:func:`keep`, which writes a :class:`~toopher_sandbox.models.Message` row; the home page,
the phone simulator (a phone's texts) and the control API's ``messages`` read them. The
sandbox app installs it when Django starts (``apps.py``), so a project that has the
sandbox in ``INSTALLED_APPS`` sends nothing for real.
"""

from __future__ import annotations

from toopher_server import messaging

from .models import Message


def keep(message: messaging.OutgoingMessage) -> None:
    """Keep ``message`` in the outbox."""
    Message.objects.create(
        kind=message.kind,
        to=message.to,
        subject=message.subject[:200],
        body=message.body,
        requester_id=message.requester_id,
    )


def install() -> None:
    """Keep every message of the service in the outbox from now on."""
    messaging.install(keep)
