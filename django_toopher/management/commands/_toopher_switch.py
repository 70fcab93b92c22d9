"""Shared body of ``toopher_disable`` and ``toopher_enable``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...internal.flows import admin as admin_flow


class SwitchCommand(BaseCommand):
    """Disable or enable Toopher for users named on the command line."""

    enabled = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("usernames", nargs="+", help="users, by their USERNAME_FIELD")
        parser.add_argument(
            "--actor",
            help="your own account's username, recorded as the actor of the audit events",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        field = user_model.USERNAME_FIELD
        actor = None
        if options.get("actor"):
            actor = user_model._default_manager.filter(**{field: options["actor"]}).first()
            if actor is None:
                raise CommandError(f"No user {options['actor']!r} (for --actor).")
        operation = admin_flow.enable if self.enabled else admin_flow.disable
        failures = 0
        for name in options["usernames"]:
            user = user_model._default_manager.filter(**{field: name}).first()
            if user is None:
                self.stderr.write(f"{name}: no such user.")
                failures += 1
                continue
            outcome = operation(user, actor=actor, request=None)
            if outcome.ok:
                self.stdout.write(outcome.message)
            else:
                self.stderr.write(outcome.message)
                failures += 1
        if failures:
            noun = "user" if failures == 1 else "users"
            raise CommandError(f"{failures} {noun} could not be handled.", returncode=1)
