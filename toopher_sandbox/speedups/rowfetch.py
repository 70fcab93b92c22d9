"""One authentication request with its user, terminal, action and pairing, in one query.

A2 (status polls) is the call clients make most. Through the ORM, building the query
with four ``select_related`` joins costs more than running it; here the SQL and the
column converters are worked out once per database connection vendor, from the
models' own metadata, and each call only runs the query and builds the rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, models

from toopher_server import db
from toopher_server.lookups import attach_related
from toopher_server.models import Action, AuthenticationRequest, Pairing, Terminal, User

from . import memo

Converter = Callable[[Any, Any, Any], Any]

#: The related rows fetched with the request: (field on AuthenticationRequest, model).
RELATED: tuple[tuple[str, type[models.Model]], ...] = (
    ("user", User),
    ("terminal", Terminal),
    ("action", Action),
    ("pairing", Pairing),
)


@dataclass(frozen=True)
class _Part:
    model: type[models.Model]
    attnames: list[str]
    converters: list[tuple[int, list[Converter], Any]]
    start: int
    stop: int


@dataclass(frozen=True)
class _Plan:
    sql: str
    parts: list[_Part]


_plans: dict[str, _Plan] = {}
_lock = threading.Lock()


def _column(field: models.Field[Any, Any]) -> str:
    column = field.column
    assert column is not None
    return column


def _plan(alias: str) -> _Plan:
    connection = connections[alias]
    key = f"{alias}:{connection.vendor}"
    with _lock:
        if key in _plans:
            return _plans[key]
    quote = connection.ops.quote_name
    columns: list[str] = []
    parts: list[_Part] = []
    joins: list[str] = []
    main = AuthenticationRequest._meta.db_table
    tables: list[tuple[str | None, type[models.Model]]] = [(None, AuthenticationRequest)]
    for index, (name, model) in enumerate(tables + list(RELATED)):
        table_alias = f"T{index}"
        fields = list(model._meta.concrete_fields)
        converters = []
        for position, field in enumerate(fields):
            col = field.get_col(table_alias)
            found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            if found:
                converters.append((position, found, col))
        start = len(columns)
        columns += [f"{quote(table_alias)}.{quote(_column(f))}" for f in fields]
        parts.append(_Part(model, [f.attname for f in fields], converters, start, len(columns)))
        if name is not None:
            fk = AuthenticationRequest._meta.get_field(name)
            assert isinstance(fk, models.ForeignKey) and model._meta.pk is not None
            joins.append(
                f"INNER JOIN {quote(model._meta.db_table)} {quote(table_alias)} ON "
                f"{quote('T0')}.{quote(_column(fk))} = {quote(table_alias)}."
                f"{quote(_column(model._meta.pk))}"
            )
    assert AuthenticationRequest._meta.pk is not None
    pk = _column(AuthenticationRequest._meta.pk)
    # Only quoted table and column names from the models' metadata; the id is a parameter,
    # named (pyformat): SQLite's backend then fills in one name instead of scanning the
    # whole statement for %s on every call.
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(main)} {quote('T0')} {' '.join(joins)} "  # noqa: S608
        f"WHERE {quote('T0')}.{quote(pk)} = %(id)s"
    )
    plan = _Plan(sql, parts)
    with _lock:
        _plans[key] = plan
    return plan


def authentication_request(request_id: str, using: str | None = None
                           ) -> AuthenticationRequest | None:
    """The request with this id (a valid UUID string) and its related rows, or None.

    ``using``: the database alias (default: the service's own, see ``toopher_server.db``)."""
    using = using or db.alias()
    connection = connections[using]
    plan = _plan(using)
    pk = AuthenticationRequest._meta.pk.get_db_prep_value(request_id, connection)

    def load() -> tuple[Any, ...] | None:
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, {"id": pk})
            return cursor.fetchone()

    # The standalone server keeps the row until its connection next writes (see memo).
    row = memo.remembered("status-row", f"{using}:{pk}", load)
    if row is None:
        return None
    built = []
    for part in plan.parts:
        values = list(row[part.start:part.stop])
        for position, converters, col in part.converters:
            for convert in converters:
                values[position] = convert(values[position], col, connection)
        built.append(_loaded(part.model, using, part.attnames, values))
    auth = built[0]
    assert isinstance(auth, AuthenticationRequest)
    for (name, _model), related in zip(RELATED, built[1:], strict=True):
        attach_related(auth, name, related)
    return auth


def _loaded(model: type[models.Model], using: str, attnames: list[str], values: list[Any]
            ) -> models.Model:
    """The instance ``Model.from_db`` would build from a full row, built directly.

    ``from_db`` calls ``__init__``, which sends ``pre_init`` and ``post_init`` and sets
    each field through its descriptor; for a row of every concrete field in order (what
    the plan selects) the result is these attribute values and a loaded state, which is
    what unpickling a model does too. The sandbox's models have no ``__init__`` of their
    own and nothing listens to their init signals.
    """
    instance = model.__new__(model)
    instance.__dict__.update(zip(attnames, values, strict=True))
    state = models.base.ModelState()
    state.adding = False
    state.db = using
    instance._state = state
    return instance
