"""``manage.py verifyaudit``: the chain as stored, changed behind the application's back
with raw SQL, is reported at the right record with the right kind."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from toopher_server import audit
from toopher_server.audit_models import AuditRecord

pytestmark = pytest.mark.django_db

TABLE = AuditRecord._meta.db_table
COLUMNS = ["seq", "time", "event", "outcome", "requester", "user", "device", "details", "hash"]


@pytest.fixture(autouse=True)
def _six_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOOPHER_AUDIT_KEY", raising=False)
    for n in range(1, 7):
        audit.record(audit.PAIRING_CREATED, "pending", requester="r", user=f"u{n}",
                     phone=None, details={"n": n, "note": "é"})


def run(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command("verifyaudit", *args, stdout=out, stderr=err)
    return out.getvalue()


def broken(*args: str) -> tuple[int, str, int]:
    """``(seq, kind, exit status)`` of a run that finds a break."""
    with pytest.raises(CommandError) as raised:
        run(*args)
    found = re.match(r"BROKEN at #(\d+): (\w+): ", str(raised.value))
    assert found, str(raised.value)
    return int(found[1]), found[2], raised.value.returncode


def sql(statement: str, params: list | None = None) -> list:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return list(cursor.fetchall()) if cursor.description else []


def quoted(columns: list[str]) -> str:
    return ", ".join(connection.ops.quote_name(c) for c in columns)


def row(seq: int) -> list:
    return list(sql(f"SELECT {quoted(COLUMNS)} FROM {TABLE} WHERE seq = %s", [seq])[0])  # noqa: S608


def head() -> tuple[int, str]:
    last = AuditRecord.objects.order_by("-id").first()
    assert last is not None
    return last.seq, last.hash


def test_an_untouched_chain_is_ok_with_its_count_and_head() -> None:
    seq, digest = head()
    assert run().strip() == f"OK: 6 records verify; head 6:{digest}"
    assert run("--anchor", f"{seq}:{digest}").startswith("OK: 6 records")
    assert run("--anchor", f"3:{row(3)[-1]}").startswith("OK: 6 records")


def test_an_empty_trail_is_ok() -> None:
    sql(f"DELETE FROM {TABLE}")  # noqa: S608
    assert run().strip() == "OK: 0 records (the audit trail is empty)"


@pytest.mark.parametrize(
    ("column", "value"),
    [("outcome", "granted"), ("user", "u9"), ("event", "decision.allowed"),
     ("details", '{"n": 3, "note": "e"}'), ("hash", "0" * 64), ("requester", None)],
)
def test_a_row_altered_with_raw_sql_is_found_at_its_number(column: str, value: object) -> None:
    sql(f"UPDATE {TABLE} SET {quoted([column])} = %s WHERE seq = 3", [value])  # noqa: S608
    assert broken() == (3, "altered", 1)


def test_an_altered_time_is_found() -> None:
    sql(f"UPDATE {TABLE} SET time = %s WHERE seq = 5", [row(4)[1]])  # noqa: S608
    assert broken() == (5, "altered", 1)


def test_a_deleted_row_is_missing() -> None:
    sql(f"DELETE FROM {TABLE} WHERE seq = 3")  # noqa: S608
    assert broken() == (3, "missing", 1)


def test_an_inserted_row_is_found() -> None:
    forged = row(3)
    forged[3] = "granted"
    sql(f"INSERT INTO {TABLE} ({quoted(COLUMNS)}) VALUES ({', '.join(['%s'] * 9)})",  # noqa: S608
        forged)
    assert broken() == (3, "inserted", 1)


def test_a_row_appended_without_the_key_is_altered() -> None:
    forged = row(6)
    forged[0], forged[-1] = 7, "f" * 64
    sql(f"INSERT INTO {TABLE} ({quoted(COLUMNS)}) VALUES ({', '.join(['%s'] * 9)})",  # noqa: S608
        forged)
    assert broken() == (7, "altered", 1)


def test_reordered_rows_are_found() -> None:
    third, fourth = row(3), row(4)
    assignments = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in COLUMNS)
    sql(f"UPDATE {TABLE} SET seq = -1 WHERE seq = 3")  # noqa: S608
    sql(f"UPDATE {TABLE} SET {assignments} WHERE seq = 4", third)  # noqa: S608
    sql(f"UPDATE {TABLE} SET {assignments} WHERE seq = -1", fourth)  # noqa: S608
    assert [r.seq for r in AuditRecord.objects.order_by("id")] == [1, 2, 4, 3, 5, 6]
    assert broken() == (3, "reordered", 1)


def test_the_newest_rows_deleted_need_the_anchor() -> None:
    seq, digest = head()
    sql(f"DELETE FROM {TABLE} WHERE seq >= 5")  # noqa: S608
    assert run().startswith("OK: 4 records")
    assert broken("--anchor", f"{seq}:{digest}") == (5, "truncated", 1)


def test_an_anchor_that_does_not_match_is_altered() -> None:
    assert broken("--anchor", f"4:{'a' * 64}") == (4, "altered", 1)


def test_appending_after_a_deletion_leaves_the_gap_visible() -> None:
    sql(f"DELETE FROM {TABLE} WHERE seq = 6")  # noqa: S608
    audit.record(audit.PAIRING_CREATED, "pending", details={"n": 7})
    assert broken() == (6, "missing", 1)


@pytest.mark.parametrize("anchor", ["6", "6:xyz", f"0:{'a' * 64}", f"x:{'a' * 64}", ":"])
def test_a_malformed_anchor_is_a_usage_error(anchor: str) -> None:
    with pytest.raises(CommandError) as raised:
        run("--anchor", anchor)
    assert raised.value.returncode == 2 and "SEQ:HASH" in str(raised.value)


def test_a_malformed_key_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOPHER_AUDIT_KEY", "not-a-key")
    with pytest.raises(CommandError) as raised:
        run()
    assert raised.value.returncode == 2 and "not-a-key" not in str(raised.value)


def test_another_key_breaks_at_the_first_row(monkeypatch: pytest.MonkeyPatch) -> None:
    from toopher_server.auditchain import generate_key

    monkeypatch.setenv("TOOPHER_AUDIT_KEY", generate_key())
    assert broken() == (1, "altered", 1)


def test_the_rows_are_read_with_a_cursor_in_chunks() -> None:
    entries = audit.chained_entries(chunk_size=2)
    assert iter(entries) is entries  # a generator: one row at a time
    assert [e.entry.seq for e in entries] == [1, 2, 3, 4, 5, 6]


def test_from_a_checkpoint_reads_only_the_records_after_it() -> None:
    third = row(3)[-1]
    assert run("--from", f"3:{third}").startswith("OK: 3 records verify; head 6:")
    sql(f"UPDATE {TABLE} SET outcome = 'x' WHERE seq = 2")  # noqa: S608 - before the checkpoint
    assert run("--from", f"3:{third}").startswith("OK: 3 records")
    sql(f"UPDATE {TABLE} SET outcome = 'x' WHERE seq = 5")  # noqa: S608
    assert broken("--from", f"3:{third}") == (5, "altered", 1)
    assert broken("--from", f"3:{'b' * 64}") == (4, "altered", 1)
    assert run("--from", f"6:{head()[1]}").strip() == "OK: 0 records after #6"
