"""``manage.py toopher_cleanup``: delete records that are no longer needed.

* ``ForgottenTerminal`` rows older than the terminal cookie's age (no cookie can
  carry their id any more);
* ``ConsumedRequest`` rows older than the longest possible pending login or emailed
  reset link (they only stop a grant or a link from being used twice while it could
  still be valid);
* with ``--audit-days N``, audit events older than N days (kept by default).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from ...app_settings import app_settings
from ...models import AuditEvent, ConsumedRequest, ForgottenTerminal


def _counted(count: int, singular: str, plural: str) -> str:
    return f"Deleted {count} {singular if count == 1 else plural}."


class Command(BaseCommand):
    help = "Delete used authentication-request markers (and, if asked, old audit events)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--audit-days",
            type=int,
            default=None,
            help="Also delete audit events older than this many days.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        # Twice the longest pending login or reset link, so a clock skew never frees a
        # live grant or link.
        longest = max(app_settings.PENDING_MAX_AGE, app_settings.RESET_LINK_MAX_AGE)
        cutoff = now - timedelta(seconds=2 * longest)
        used, _ = ConsumedRequest.objects.filter(used_at__lt=cutoff).delete()
        self.stdout.write(_counted(used, "used request marker", "used request markers"))
        # A forgotten terminal id can only come back in a cookie younger than its age.
        cookie_cutoff = now - timedelta(seconds=app_settings.TERMINAL_COOKIE_AGE)
        forgotten, _ = ForgottenTerminal.objects.filter(forgotten_at__lt=cookie_cutoff).delete()
        self.stdout.write(_counted(forgotten, "forgotten terminal id", "forgotten terminal ids"))
        days = options.get("audit_days")
        if days is not None:
            if days < 1:
                self.stderr.write("--audit-days must be at least 1.")
                return
            old, _ = AuditEvent.objects.filter(created_at__lt=now - timedelta(days=days)).delete()
            self.stdout.write(_counted(old, "audit event", "audit events"))
