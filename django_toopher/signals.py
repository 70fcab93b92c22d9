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
#: A login is complete: the password step and, when the user needs it, the approval
#: on the phone. ``user_logged_in`` fires for the password step too (that is how every
#: login path is covered); receivers that must see verified logins only listen here.
#: Extra: ``method``: ``"approved"`` (the phone or a one-time password approved it),
#: ``"not_required"`` (no approval needed: not paired, disabled, 704), ``"fail_open"``
#: (Toopher failed and FAIL_MODE is "open") or ``"trusted"`` (code that verified the
#: second factor itself, through ``approved_login()``).
toopher_verified = Signal()
