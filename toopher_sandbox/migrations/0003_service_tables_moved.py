# The service's tables moved to the toopher_server app (its migration 0001): they are
# dropped here, children first; a development sandbox starts again with an empty service.

from django.db import migrations

MOVED = (
    "AuthenticationRequest", "AutomationRule", "ResetLink", "Message", "Terminal",
    "Pairing", "PairingPhrase", "Action", "User", "Phone", "Requester", "Nonce",
)


class Migration(migrations.Migration):

    dependencies = [
        ("toopher_sandbox", "0002_request_expiry"),
    ]

    operations = [migrations.DeleteModel(name=name) for name in MOVED]
