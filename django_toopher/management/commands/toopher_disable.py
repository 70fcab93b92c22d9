"""``manage.py toopher_disable USER...``: the admin's "Disable Toopher" for operators."""

from ._toopher_switch import SwitchCommand


class Command(SwitchCommand):
    help = (
        "Disable Toopher for the named users (here and at Toopher) and end their "
        "sessions. Audited."
    )
    enabled = False
