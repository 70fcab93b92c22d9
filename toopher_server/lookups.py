"""The rows every API call reads, looked up in one place.

* :func:`requester`: the requester of a consumer key (every signed call);
* :func:`authentication_request`: one request with its user, terminal, action and
  pairing (A2, the status poll, is the call clients make most).

Both read the database through the ORM. A process that is its database's only user
may :func:`install` faster :class:`Lookups` (the sandbox's standalone server does:
``toopher_sandbox.speedups``); no rule of the service depends on which is in use.
"""

from __future__ import annotations

from django.db import models

from .models import AuthenticationRequest, Requester

#: The related rows read with an authentication request (fields of AuthenticationRequest).
REQUEST_RELATED = ("user", "terminal", "action", "pairing")


class Lookups:
    """The ORM's way: what every deployment of the service uses."""

    def requester(self, key: str) -> Requester | None:
        """The requester with this consumer key, or None."""
        return Requester.objects.filter(key=key).first()

    def authentication_request(self, request_id: str) -> AuthenticationRequest | None:
        """The request with this id (a valid UUID string) and its related rows, or None."""
        return (
            AuthenticationRequest.objects.select_related(*REQUEST_RELATED)
            .filter(id=request_id)
            .first()
        )


_current = Lookups()


def install(lookups: Lookups) -> None:
    """Use ``lookups`` from now on (``Lookups()``: the ORM's way again)."""
    global _current
    _current = lookups


def requester(key: str) -> Requester | None:
    """The requester with this consumer key, or None."""
    return _current.requester(key)


def authentication_request(request_id: str) -> AuthenticationRequest | None:
    """The request with this id and its user, terminal, action and pairing, or None."""
    return _current.authentication_request(request_id)


def attach_related(instance: models.Model, name: str, related: models.Model) -> None:
    """Attach a related row already in hand to ``instance``'s foreign key ``name``, as
    ``select_related()`` does (no descriptor checks; reading it needs no query)."""
    field = instance._meta.get_field(name)
    assert isinstance(field, models.ForeignKey)
    field.set_cached_value(instance, related)
