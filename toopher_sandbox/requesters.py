"""Creating requesters (consumer key and secret pairs)."""

from __future__ import annotations

from . import db
from .models import Requester
from .tokens import token

DEFAULT_NAME = "Sandbox requester"


def create_requester(name: str = DEFAULT_NAME) -> Requester:
    """A new requester with a random key (20 characters) and secret (40 characters),
    neither beginning with ``-`` (see ``tokens.token``)."""
    return Requester.objects.create(
        name=name or DEFAULT_NAME,
        key=token(15),
        secret=token(30),
    )


def ensure_requester(key: str, secret: str, name: str) -> Requester:
    """Create or update the requester with exactly this key, secret and name (idempotent)."""
    if not key or not secret:
        raise ValueError("key and secret must not be empty")
    with db.atomic():
        requester, created = Requester.objects.get_or_create(
            key=key, defaults={"secret": secret, "name": name or DEFAULT_NAME}
        )
        if not created and (requester.secret != secret or requester.name != name):
            requester.secret = secret
            requester.name = name or DEFAULT_NAME
            requester.save(update_fields=["secret", "name", "modified"])
    return requester
