"""``rotatesecret KEY --overlap DURATION``: a new secret; the old one ends after the overlap."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toopher_server.models import Requester
from toopher_server.requesters import parse_duration, rotate_secret


class Command(BaseCommand):
    help = (
        "Give a requester a new secret and print it once. The old secret stays valid for "
        "the overlap (3600s, 90m, 1h, 1d; 0 ends it now), time to put the new one in the "
        "site's settings and restart it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="the requester's consumer key")
        parser.add_argument(
            "--overlap", required=True, help="how long the old secret stays valid (e.g. 1h)"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON line")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            overlap = parse_duration(options["overlap"])
            requester, secret = rotate_secret(options["key"], overlap)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except Requester.DoesNotExist:
            raise CommandError("no requester has this key") from None
        until = requester.previous_secret_expires
        if options["json"]:
            self.stdout.write(json.dumps({
                "key": requester.key,
                "secret": secret,
                "previous_valid_until": until.isoformat() if until else None,
            }))
            return
        self.stdout.write(
            f"New secret of {requester.name!r} (shown this once):\n"
            f"  TOOPHER_CONSUMER_SECRET={secret}\n"
            + (f"The old secret stays valid until {until.isoformat()}.\n" if until
               else "The old secret is no longer valid.\n")
            + "Put the new secret in the site's settings and restart the site."
        )
