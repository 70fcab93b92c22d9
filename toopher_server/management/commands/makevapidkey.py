"""``makevapidkey``: the service's VAPID key for Web Push, made once (docs/push.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toopher_server.push import vapid


class Command(BaseCommand):
    help = (
        "Make the VAPID key the service signs its pushes with, sealed in the database "
        "under TOOPHER_SECRET_KEYS. An existing key is kept: --force replaces it, and "
        "then every device's push subscription is orphaned until its app subscribes again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace the existing key (every push subscription stops working)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if vapid.exists() and not options["force"]:
            raise CommandError(
                "the service has a VAPID key already; a new one orphans every push "
                "subscription. --force replaces it anyway."
            )
        row = vapid.replace_key() if options["force"] else vapid.make_key()[0]
        self.stdout.write(f"VAPID public key: {row.public_key}")
