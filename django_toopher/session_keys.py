"""Names of the keys django_toopher keeps in ``request.session``.

One place, so that the login flow, the enrollment views and the decorators agree.
"""

#: The pending login or pending action approval (a small dict; see flow.py).
PENDING = "_toopher_pending"
#: Unix time of the last complete authentication (password, plus approval when required).
#: Pairing, unpairing and terminal changes need it to be recent (TOOPHER["REAUTH_AGE"]).
AUTH_AT = "_toopher_auth_at"
#: ``{action name: unix time approved}`` for @toopher_required.
ACTIONS = "_toopher_actions"
#: The pairing a logged-in user is making on the security page (enrollment views).
PAIRING = "_toopher_pairing"
