"""``createrequester --name NAME [--json]``: a new requester; its key and secret, once."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toopher_server.requesters import create_requester


class Command(BaseCommand):
    help = (
        "Create a requester (a site that uses this service) and print its consumer key and "
        "secret. The secret is shown this once: put it in the site's TOOPHER settings now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="the site's name, shown to users")
        parser.add_argument("--json", action="store_true", help="print one JSON line")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name or len(name) > 200:
            raise CommandError("--name is 1 to 200 characters")
        requester = create_requester(name)
        secret = requester.current_secret()
        self.stdout.write(
            describe_new_requester(requester.name, requester.key, secret, options["json"])
        )


def describe_new_requester(name: str, key: str, secret: str, as_json: bool) -> str:
    """What ``createrequester`` and ``init`` print: the credentials, shown once."""
    if as_json:
        return json.dumps({"name": name, "key": key, "secret": secret})
    return (
        f"Requester {name!r} created.\n"
        f"  TOOPHER_CONSUMER_KEY={key}\n"
        f"  TOOPHER_CONSUMER_SECRET={secret}\n"
        "The secret is shown this once and cannot be read again: put both in the site's\n"
        "environment now (rotatesecret makes a new one if it is lost)."
    )
