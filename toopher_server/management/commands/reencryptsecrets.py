"""``reencryptsecrets``: every stored secret re-encrypted under the first key of the ring."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from toopher_server.keys import key_source, secret_box
from toopher_server.push import vapid
from toopher_server.requesters import reencrypt_all
from toopher_server.secretbox import SecretBoxError


class Command(BaseCommand):
    help = (
        "Re-encrypt every requester secret under the first key of TOOPHER_SECRET_KEYS. "
        "To change keys: put a new key first (keep the old one after it) on every instance, "
        "run this, then remove the old key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            box = secret_box()
            changed = reencrypt_all()
            changed_vapid = vapid.reencrypt()  # the VAPID key of Web Push (docs/push.md)
        except SecretBoxError as exc:
            raise CommandError(f"{exc}: the old key must stay in the ring until this ran") from None
        self.stdout.write(
            f"{changed} requester(s) re-encrypted under key {box.primary_key_id} "
            f"(key ring from: {key_source()})."
        )
        if changed_vapid:
            self.stdout.write("The VAPID key of Web Push too.")
        if len(box.key_ids) > 1:
            self.stdout.write(
                "Every secret is now under the first key: the other keys may be removed "
                "from TOOPHER_SECRET_KEYS."
            )
