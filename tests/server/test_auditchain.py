"""toopher_server.auditchain: the chain verifies, and each kind of tampering is located."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toopher_server.auditchain import (
    GENESIS,
    AuditEntry,
    AuditKeyError,
    ChainedEntry,
    canonical_entry,
    chain,
    entry_hash,
    generate_key,
    load_key,
    verify,
)

KEY = load_key(environ={"TOOPHER_AUDIT_KEY": generate_key()})
T0 = datetime(2026, 12, 6, 19, 10, tzinfo=UTC)


def _entry(number: int, **changes: object) -> AuditEntry:
    seq = number
    entry = AuditEntry(
        seq=seq,
        time=T0 + timedelta(seconds=seq),
        event="authentication_request.decided",
        outcome="granted" if seq % 2 else "denied",
        requester="Example site",
        user=f"user{seq}",
        device="dev_abc",
        details={"request_id": f"ar_{seq}", "terminal": "Firefox", "code_matched": True},
    )
    return dataclasses.replace(entry, **changes)  # type: ignore[arg-type]


def _rows(n: int = 6) -> list[ChainedEntry]:
    return chain([_entry(seq) for seq in range(1, n + 1)], KEY)


def _break(rows: list[ChainedEntry], **kwargs: object) -> tuple[int, str]:
    report = verify(rows, KEY, **kwargs)  # type: ignore[arg-type]
    assert not report.ok and report.first_break is not None
    return report.first_break.seq, report.first_break.kind


def test_an_untouched_chain_verifies() -> None:
    rows = _rows()
    report = verify(rows, KEY)
    assert report.ok and report.checked == 6 and report.last_seq == 6
    assert report.last_hash == rows[-1].hash
    assert verify(iter(rows), KEY).ok  # read once, like a cursor


def test_an_empty_chain_verifies() -> None:
    report = verify([], KEY)
    assert report.ok and report.checked == 0 and report.last_seq is None
    assert report.last_hash == GENESIS


def test_each_hash_chains_the_previous_one() -> None:
    rows = _rows(3)
    assert rows[0].hash == entry_hash(GENESIS, rows[0].entry, KEY)
    assert rows[2].hash == entry_hash(rows[1].hash, rows[2].entry, KEY)
    assert all(len(row.hash) == 64 for row in rows)


@pytest.mark.parametrize(
    "field,value",
    [
        ("time", T0),
        ("event", "pairing.created"),
        ("outcome", "granted!"),
        ("requester", "Other site"),
        ("user", None),
        ("device", "dev_xyz"),
        ("details", {"request_id": "ar_4", "terminal": "Firefox", "code_matched": False}),
        ("details", {}),
    ],
)
def test_an_altered_field_breaks_the_chain_at_that_row(field: str, value: object) -> None:
    rows = _rows()
    rows[3] = ChainedEntry(dataclasses.replace(rows[3].entry, **{field: value}), rows[3].hash)
    assert _break(rows) == (4, "altered")


def test_an_altered_hash_breaks_at_that_row() -> None:
    rows = _rows()
    rows[2] = ChainedEntry(rows[2].entry, "f" * 64)
    assert _break(rows) == (3, "altered")
    rows[2] = ChainedEntry(rows[2].entry, "not a hash \u00e9")
    assert _break(rows) == (3, "altered")


def test_an_altered_row_with_recomputed_unkeyed_hashes_still_breaks() -> None:
    rows = _rows()
    forged_key = b"\0" * 32  # the writer does not have the audit key
    altered = [row.entry for row in rows]
    altered[1] = dataclasses.replace(altered[1], outcome="granted")
    rows = rows[:1] + chain(altered[1:], forged_key, previous_hash=rows[0].hash)
    assert _break(rows) == (2, "altered")


def test_a_row_altered_into_an_unhashable_one_is_reported_not_raised() -> None:
    rows = _rows()
    rows[1] = ChainedEntry(dataclasses.replace(rows[1].entry, details={"x": 1.5}), rows[1].hash)
    assert _break(rows) == (2, "altered")


def test_a_deleted_row_is_missing() -> None:
    rows = _rows()
    del rows[2]
    assert _break(rows) == (3, "missing")
    del rows[0]
    assert _break(rows) == (1, "missing")


def test_a_deleted_row_with_the_rest_renumbered_is_altered() -> None:
    rows = _rows()
    del rows[2]
    rows = rows[:2] + [
        ChainedEntry(dataclasses.replace(row.entry, seq=row.entry.seq - 1), row.hash)
        for row in rows[2:]
    ]
    assert _break(rows) == (3, "altered")


def test_an_inserted_row_is_located() -> None:
    rows = _rows()
    fake = ChainedEntry(_entry(3, outcome="granted"), "a" * 64)
    assert _break(rows[:3] + [fake] + rows[3:]) == (3, "inserted")  # after the original
    assert _break(rows[:2] + [fake] + rows[2:]) == (3, "inserted")  # before it
    renumbered = [
        ChainedEntry(dataclasses.replace(row.entry, seq=row.entry.seq + 1), row.hash)
        for row in rows[3:]
    ]
    fake4 = ChainedEntry(_entry(4), "b" * 64)
    assert _break(rows[:3] + [fake4] + renumbered) == (4, "altered")


def test_reordered_rows_are_located() -> None:
    rows = _rows()
    swapped = rows[:2] + [rows[3], rows[2]] + rows[4:]
    assert _break(swapped) == (3, "reordered")
    moved_back = rows[:1] + rows[2:4] + [rows[1]] + rows[4:]
    assert _break(moved_back) == (2, "reordered")


def test_swapped_contents_under_kept_numbers_are_altered() -> None:
    rows = _rows()
    a, b = rows[2], rows[3]
    rows[2] = ChainedEntry(dataclasses.replace(b.entry, seq=3), b.hash)
    rows[3] = ChainedEntry(dataclasses.replace(a.entry, seq=4), a.hash)
    assert _break(rows) == (3, "altered")


def test_a_row_before_the_checkpoint_is_reordered() -> None:
    rows = _rows()
    report = verify(rows[3:4] + rows[2:3], KEY, start_seq=4, previous_hash=rows[2].hash)
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.kind) == (3, "reordered")


def test_verify_from_a_checkpoint() -> None:
    rows = _rows()
    report = verify(rows[3:], KEY, start_seq=4, previous_hash=rows[2].hash)
    assert report.ok and report.checked == 3 and report.last_seq == 6
    assert _break(rows[3:], start_seq=4, previous_hash=rows[1].hash) == (4, "altered")


def test_deleting_the_newest_rows_needs_an_anchor() -> None:
    rows = _rows()
    anchor = (6, rows[5].hash)
    assert verify(rows, KEY, anchor=anchor).ok
    assert verify(rows[:4], KEY).ok  # a chain alone cannot see this
    assert _break(rows[:4], anchor=anchor) == (5, "truncated")
    assert verify(rows, KEY, anchor=(4, rows[3].hash)).ok  # the chain grew since
    assert _break(rows, anchor=(4, rows[2].hash)) == (4, "altered")


def test_another_key_does_not_verify() -> None:
    report = verify(_rows(), load_key(environ={"TOOPHER_AUDIT_KEY": generate_key()}))
    assert report.first_break is not None and report.first_break.seq == 1


def test_canonical_entry_is_sorted_compact_ascii_json_in_utc() -> None:
    entry = _entry(
        7,
        time=datetime(2026, 12, 6, 21, 10, 0, 5, tzinfo=timezone(timedelta(hours=2))),
        user="zoë",
        details={"b": [1, None, True], "a": "東"},
    )
    text = canonical_entry(entry).decode("ascii")
    assert text == (
        '{"details":{"a":"\\u6771","b":[1,null,true]},"device":"dev_abc",'
        '"event":"authentication_request.decided","outcome":"granted",'
        '"requester":"Example site","seq":7,"time":"2026-12-06T19:10:00.000005Z",'
        '"user":"zo\\u00eb"}'
    )
    assert json.loads(text)["user"] == "zoë"


@pytest.mark.parametrize(
    "changes,error",
    [
        ({"time": datetime(2026, 1, 1)}, ValueError),
        ({"seq": 0}, ValueError),
        ({"seq": True}, ValueError),
        ({"details": {"x": 1.0}}, TypeError),
        ({"details": {"x": [{"y": float("nan")}]}}, TypeError),
        ({"details": {1: "x"}}, TypeError),
        ({"details": {"x": object()}}, TypeError),
        ({"event": 5}, TypeError),
        ({"user": 5}, TypeError),
    ],
)
def test_entries_that_cannot_be_serialized_exactly_are_refused(
    changes: dict, error: type[Exception]
) -> None:
    with pytest.raises(error):
        canonical_entry(_entry(1, **changes))


def test_entry_hash_refuses_a_bad_previous_hash() -> None:
    with pytest.raises(ValueError):
        entry_hash("xyz", _entry(1), KEY)


def test_audit_key_from_the_environment() -> None:
    for bad in (
        {},
        {"TOOPHER_AUDIT_KEY": "  "},
        {"TOOPHER_AUDIT_KEY": "QUJD"},
        {"TOOPHER_AUDIT_KEY": "*" * 43},
    ):
        with pytest.raises(AuditKeyError) as info:
            load_key(environ=bad)
        value = bad.get("TOOPHER_AUDIT_KEY", "").strip()
        assert not value or value not in str(info.value)
    assert len(load_key("K", environ={"K": generate_key()})) == 32


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=50, deadline=None)
@given(
    details=st.dictionaries(st.text(max_size=8), json_value, max_size=4),
    user=st.none() | st.text(max_size=20),
    n=st.integers(min_value=1, max_value=8),
    data=st.data(),
)
def test_any_chain_verifies_and_any_single_change_is_found_at_its_row(
    details: dict, user: str | None, n: int, data: st.DataObject
) -> None:
    entries = [_entry(seq, user=user, details=details) for seq in range(1, n + 1)]
    rows = chain(entries, KEY)
    assert verify(rows, KEY).ok
    target = data.draw(st.integers(min_value=0, max_value=n - 1))
    changed = dataclasses.replace(rows[target].entry, outcome=rows[target].entry.outcome + "x")
    rows[target] = ChainedEntry(changed, rows[target].hash)
    assert _break(rows) == (target + 1, "altered")
