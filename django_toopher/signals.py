"""Signals sent by django_toopher. Every one is sent with ``sender`` = the user model
class and the keyword arguments ``user`` and ``request`` (``request`` may be None for
admin bulk actions run outside a request), plus those listed per signal."""

from django.dispatch import Signal

#: An authentication request was sent to the user's phone. Extra: ``action``.
toopher_requested = Signal()
#: The phone granted the request. Extra: ``action``, ``automated``.
toopher_granted = Signal()
#: The phone denied the request, or it expired. Extra: ``action``, ``reason``.
toopher_denied = Signal()
#: The user paired a phone. Extra: ``pairing_id`` is never sent (it is kept out of receivers' logs).
toopher_paired = Signal()
#: The user's pairing was removed (by the user or an administrator).
toopher_unpaired = Signal()
#: An administrator disabled Toopher for the user. Extra: ``actor``.
toopher_disabled = Signal()
