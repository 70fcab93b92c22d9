"""``manage.py toopher_enable USER...``: the admin's "Enable Toopher" for operators."""

from ._toopher_switch import SwitchCommand


class Command(SwitchCommand):
    help = "Enable Toopher again for the named users (here and at Toopher). Audited."
    enabled = True
