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
#: The user's pairing was removed (by the user, an administrator, or an emailed reset
#: link). Extra: ``actor`` (None unless an administrator acted).
toopher_unpaired = Signal()
#: An administrator disabled Toopher for the user. Extra: ``actor``.
toopher_disabled = Signal()
#: The user logged in with a recovery code instead of the phone (then
#: ``toopher_verified`` follows, with ``method="recovery_code"``). Extra: ``remaining``,
#: how many unused codes the user has left.
toopher_recovery_code_used = Signal()
#: A login is complete: the password step and, when the user needs it, the approval
#: on the phone. ``user_logged_in`` fires for the password step too (that is how every
#: login path is covered); receivers that must see verified logins only listen here.
#: Extra: ``method``: ``"approved"`` (the phone or a one-time password approved it),
#: ``"not_required"`` (no approval needed: not paired, disabled, 704), ``"fail_open"``
#: (Toopher failed and FAIL_MODE is "open"), ``"recovery_code"`` (a one-time recovery
#: code instead of the phone) or ``"trusted"`` (code that verified the
#: second factor itself, through ``approved_login()``).
toopher_verified = Signal()
