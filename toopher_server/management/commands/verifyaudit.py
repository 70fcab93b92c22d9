"""``manage.py verifyaudit`` (``toopher-server verifyaudit``): check the audit trail's chain.

Reads every audit record once, in the order they were appended, with a database cursor
(constant memory), and recomputes each record's HMAC from the one before under the audit
key (:mod:`toopher_server.audit`). It prints ``OK`` with the number of records and the
newest ``seq:hash`` (keep that line somewhere else: it is the next run's ``--anchor``), or
the sequence number where the chain breaks and how (altered, missing, inserted,
reordered, truncated), and then exits with status 1.

``--anchor SEQ:HASH`` is a head recorded earlier outside the database: the chain must
still reach ``SEQ`` and that record must still carry ``HASH``. Without an anchor,
deleting the newest records leaves a shorter chain that verifies.

``--from SEQ:HASH`` starts from a checkpoint instead of the first record: a head that
verified before (an earlier run's ``OK`` line). Only the records after ``SEQ`` are read,
the first of them chained from ``HASH``: for a long trail checked every day, or a trail
whose older records were pruned.

Exit status: 0 verified, 1 broken, 2 unusable (a malformed anchor or audit key).
"""

from __future__ import annotations

import re
from contextlib import closing
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toopher_server import audit, db
from toopher_server.auditchain import GENESIS, AuditKeyError, verify

_ANCHOR = re.compile(r"([1-9][0-9]{0,18}):([0-9a-f]{64})")


def parse_head(text: str, option: str = "--anchor") -> tuple[int, str]:
    """``SEQ:HASH`` as ``(seq, hash)``; a :class:`CommandError` (status 2) otherwise."""
    found = _ANCHOR.fullmatch(text.strip().lower())
    if found is None:
        raise CommandError(
            f"{option} must be SEQ:HASH (a record number, a colon, 64 hex digits), "
            "as the OK line of an earlier run prints it",
            returncode=2,
        )
    return int(found[1]), found[2]


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain; print OK with the count and the newest "
        "SEQ:HASH, or where the chain was altered (exit status 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor",
            metavar="SEQ:HASH",
            help="a head recorded earlier (an OK line's SEQ:HASH): detects deleted newest records",
        )
        parser.add_argument(
            "--from",
            dest="checkpoint",
            metavar="SEQ:HASH",
            help="a head that verified before: check only the records after it",
        )
        parser.add_argument(
            "--database", default=None, help="the database alias (default: the service's)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        anchor = parse_head(options["anchor"]) if options["anchor"] else None
        after, previous = (0, GENESIS)
        if options["checkpoint"]:
            after, previous = parse_head(options["checkpoint"], "--from")
        try:
            key = audit.audit_key()
        except AuditKeyError as error:
            raise CommandError(str(error), returncode=2) from None
        if not audit.audit_key_is_explicit():
            self.stderr.write(
                "note: no audit key is set (TOOPHER_AUDIT_KEY or TOOPHER_SERVER_AUDIT_KEY): "
                "the key is derived from SECRET_KEY, as in development"
            )
        using = options["database"] or db.alias()
        with closing(audit.chained_entries(using, after=after)) as entries:
            report = verify(
                entries, key, start_seq=after + 1, previous_hash=previous, anchor=anchor
            )
        found = report.first_break
        if found is not None:
            raise CommandError(
                f"BROKEN at #{found.seq}: {found.kind}: {found.message} "
                f"({report.checked} records verified in order before it)",
                returncode=1,
            )
        if report.last_seq is None:
            where = f"after #{after}" if after else "(the audit trail is empty)"
            self.stdout.write(f"OK: 0 records {where}")
            return
        self.stdout.write(
            f"OK: {report.checked} records verify; head {report.last_seq}:{report.last_hash}"
        )
