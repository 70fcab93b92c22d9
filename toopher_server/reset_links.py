"""One-time reset links (P6 ``generate_reset_link``, P7 ``send_reset_link``, the iframe).

A link's token is 128 random bits (``secrets.token_urlsafe(16)``); the database keeps
only its SHA-256 (``ResetLink.token_hash``), and a presented token is looked up by its
hash. A dump of the database therefore holds no usable link, and an emailed one exists
in clear only in the mail (:mod:`.messaging` keeps no copy).
"""

from __future__ import annotations

import hashlib
import secrets

from .messaging import EMAIL, OutgoingMessage, require, send
from .models import Pairing, Requester, ResetLink

__all__ = ["TOKEN_BYTES", "create", "email", "find", "token_digest"]

#: Random bytes of a token (128 bits).
TOKEN_BYTES = 16
#: The longest token :func:`find` looks up (longer ones are not links of ours).
MAX_TOKEN = 100


def token_digest(token: str) -> str:
    """What the database keeps of a token: its SHA-256, 64 hex digits."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new(pairing: Pairing, base_url: str, question: str, answer: str) -> tuple[ResetLink, str]:
    """A new link's row and its URL (the only place the token is in clear)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ResetLink.objects.create(
        token_hash=token_digest(token),
        pairing=pairing,
        security_question=question,
        security_answer=answer,
    )
    return link, f"{base_url.rstrip('/')}/pairings/{pairing.id}/reset?reset_authorization={token}"


def create(pairing: Pairing, base_url: str, question: str = "", answer: str = "") -> str:
    """A new one-time link that deactivates ``pairing``: its URL."""
    return _new(pairing, base_url, question, answer)[1]


def find(pairing: Pairing, token: str) -> ResetLink | None:
    """The link of ``pairing`` with this token (used or not), or None."""
    if not token or len(token) > MAX_TOKEN:
        return None
    return ResetLink.objects.filter(token_hash=token_digest(token), pairing=pairing).first()


def email(requester: Requester, pairing: Pairing, base_url: str, to: str) -> None:
    """Email a new reset link of ``pairing`` to ``to``.

    Refused (403, nothing written) when the service cannot send email; when sending
    fails (503), the link made for it is deleted again. Call it outside any transaction:
    the mail server is not held up by, nor holds up, the database.
    """
    require(EMAIL)
    link, url = _new(pairing, base_url, "", "")
    message = OutgoingMessage(
        kind=EMAIL,
        to=to,
        subject=f"Reset your Toopher pairing for {requester.name}",
        body=f"Reset your Toopher pairing for {requester.name}: {url}\n\n"
             "If you did not ask for this, ignore this message.",
        requester_id=str(requester.pk),
    )
    try:
        send(message)
    except Exception:
        link.delete()
        raise
