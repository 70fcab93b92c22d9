"""One row with its related rows in one prepared query, for the lookups every call makes.

Through the ORM, building a query (``select_related`` joins, ordering, the compiler)
costs several times more CPU than the database takes to run it: 1 to 3 ms against a
0.1 ms round trip on PostgreSQL. A :class:`RowFetch` works the SQL and the column
converters out once per database alias, from the models' own metadata, and each call
only runs the query and builds the instances. Nothing in it is process-local state
about rows: every call reads the database, so any number of instances may use it.

The instances are what ``select_related`` gives (values, a loaded ``_state``, the
related rows cached on their foreign keys) and save as an UPDATE of their row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, models
from django.db.models import signals

from . import db

Converter = Callable[[Any, Any, Any], Any]
Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Part:
    """One model's columns in the row: where they are, their attribute names, converters."""

    model: type[models.Model]
    attnames: list[str]
    converters: list[tuple[int, list[Converter], Any]]
    start: int
    stop: int


@dataclass(frozen=True)
class _Plan:
    sql: str
    parts: list[_Part]


def column_name(field: Any) -> str:
    """The database column of a model field (asserting it has one)."""
    column = field.column
    assert column is not None
    return column


class RowFetch:
    """``model``'s row where the fields ``by`` equal given values, with the rows of its
    foreign keys ``related`` (non-null ones: an INNER JOIN each), in one query.

    ``by``: a field name (``"pk"`` by default) or several; when more than one row may
    match, ``order_by`` (a field name, ``-`` for descending) says which one is found, as
    ``QuerySet.first()`` does with the model's ordering.
    """

    def __init__(self, model: type[models.Model], related: tuple[str, ...] = (), *,
                 by: str | tuple[str, ...] = "pk", order_by: str | None = None) -> None:
        self.model = model
        self.related = related
        names = (by,) if isinstance(by, str) else by
        self.by = [model._meta.get_field(name) if name != "pk" else model._meta.pk
                   for name in names]
        self.order_by = order_by
        self._plans: dict[tuple[str, str], _Plan] = {}
        self._lock = threading.Lock()

    def get(self, *values: Any, using: str | None = None) -> models.Model | None:
        """The instance whose ``by`` fields are ``values`` (as the ORM would accept them,
        ids for foreign keys), with its related rows, or None. ``using``: the alias
        (default: the service's own)."""
        using = using or db.alias()
        row = self.row(self.prepare(values, using), using)
        return None if row is None else self.build(row, using)

    def prepare(self, values: tuple[Any, ...], using: str) -> dict[str, Any]:
        """The query's parameters: ``values`` as the database takes them."""
        connection = connections[using]
        return {
            f"v{index}": field.get_db_prep_value(value, connection)  # type: ignore[union-attr]
            for index, (field, value) in enumerate(zip(self.by, values, strict=True))
        }

    def row(self, params: dict[str, Any], using: str) -> Row | None:
        """The raw row for :meth:`prepare`-d parameters, or None."""
        plan = self._plan(using)
        with connections[using].cursor() as cursor:
            cursor.execute(plan.sql, params)
            found = cursor.fetchone()
        return None if found is None else tuple(found)

    def build(self, row: Row, using: str) -> models.Model:
        """The instances of a :meth:`row`, the related ones attached to the main one."""
        plan = self._plan(using)
        connection = connections[using]
        built = []
        for part in plan.parts:
            values = list(row[part.start:part.stop])
            for position, converters, col in part.converters:
                for convert in converters:
                    values[position] = convert(values[position], col, connection)
            built.append(_loaded(part.model, using, part.attnames, values))
        main = built[0]
        for name, related in zip(self.related, built[1:], strict=True):
            attach_related(main, name, related)
        return main

    def _plan(self, using: str) -> _Plan:
        connection = connections[using]
        key = (using, connection.vendor)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._make_plan(connection)
            with self._lock:
                self._plans[key] = plan
        return plan

    def _make_plan(self, connection: Any) -> _Plan:
        quote = connection.ops.quote_name
        columns: list[str] = []
        parts: list[_Part] = []
        joins: list[str] = []
        meta = self.model._meta
        tables: list[tuple[str | None, type[models.Model]]] = [(None, self.model)]
        for related_name in self.related:
            link = meta.get_field(related_name)
            assert isinstance(link, models.ForeignKey) and not link.null, related_name
            tables.append((related_name, link.related_model))
        for index, (name, model) in enumerate(tables):
            table_alias = f"T{index}"
            fields = list(model._meta.concrete_fields)
            converters = []
            for position, field in enumerate(fields):
                col = field.get_col(table_alias)
                found = connection.ops.get_db_converters(col) + field.get_db_converters(
                    connection)
                if found:
                    converters.append((position, found, col))
            start = len(columns)
            columns += [f"{quote(table_alias)}.{quote(column_name(f))}" for f in fields]
            parts.append(_Part(model, [f.attname for f in fields], converters, start,
                               len(columns)))
            if name is not None:
                fk = meta.get_field(name)
                assert isinstance(fk, models.ForeignKey) and model._meta.pk is not None
                joins.append(
                    f"INNER JOIN {quote(model._meta.db_table)} {quote(table_alias)} ON "
                    f"{quote('T0')}.{quote(column_name(fk))} = {quote(table_alias)}."
                    f"{quote(column_name(model._meta.pk))}"
                )
        where = " AND ".join(
            f"{quote('T0')}.{quote(column_name(field))} = %(v{index})s"
            for index, field in enumerate(self.by)
        )
        order = ""
        if self.order_by is not None:
            name = self.order_by.lstrip("-")
            direction = "DESC" if self.order_by.startswith("-") else "ASC"
            column = column_name(meta.get_field(name))
            order = (f" ORDER BY {quote('T0')}.{quote(column)} {direction} "
                     f"{connection.ops.limit_offset_sql(0, 1)}")
        # Only quoted table and column names from the models' metadata; the values are
        # parameters, named (pyformat): SQLite's backend then fills in names instead of
        # scanning the whole statement for %s on every call.
        sql = (
            f"SELECT {', '.join(columns)} FROM {quote(meta.db_table)} {quote('T0')} "  # noqa: S608
            f"{' '.join(joins)} WHERE {where}{order}"
        )
        return _Plan(sql, parts)


def _loaded(model: type[models.Model], using: str, attnames: list[str], values: list[Any]
            ) -> models.Model:
    """The instance ``Model.from_db`` would build from a full row, built directly.

    ``from_db`` calls ``__init__``, which sends ``pre_init`` and ``post_init`` and sets
    each field through its descriptor; for a row of every concrete field in order (what
    the plan selects) the result is these attribute values and a loaded state, which is
    what unpickling a model does too. When something listens to a model's init signals
    (or it has an ``__init__`` of its own), ``from_db`` builds it as usual.
    """
    if (model.__init__ is not models.Model.__init__
            or signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)):
        return model.from_db(using, attnames, values)
    instance = model.__new__(model)
    instance.__dict__.update(zip(attnames, values, strict=True))
    state = models.base.ModelState()
    state.adding = False
    state.db = using
    instance._state = state
    return instance


def attach_related(instance: models.Model, name: str, related: models.Model) -> None:
    """Attach a related row already in hand to ``instance``'s foreign key ``name``, as
    ``select_related()`` does (no descriptor checks; reading it needs no query)."""
    field = instance._meta.get_field(name)
    assert isinstance(field, models.ForeignKey)
    field.set_cached_value(instance, related)


class RowInsert:
    """INSERTs of new ``model`` rows with the SQL worked out once per database alias.

    What ``instance.save()`` does for a new row whose primary key is set in Python (a
    UUID default) or made by the database (an auto field: then read back with
    ``RETURNING`` where the database has it), without the ORM's query building: each
    field's ``pre_save`` (``auto_now``) and its conversion for the database, one
    statement. No ``pre_save``/``post_save`` signal is sent (the models this is used for
    have no listeners: :meth:`insert` checks).

    With ``fields`` (names), only :meth:`sql` is offered: an INSERT of those columns
    whose values the caller gives as the database takes them, nothing read back (the
    nonce record: no instance is made for it).
    """

    def __init__(self, model: type[models.Model], fields: tuple[str, ...] | None = None) -> None:
        self.model = model
        pk = model._meta.pk
        assert pk is not None
        self.auto_pk = isinstance(pk, models.AutoField | models.BigAutoField)
        self.whole_rows = fields is None
        self.fields: list[Any] = (
            [f for f in model._meta.concrete_fields if not (self.auto_pk and f is pk)]
            if fields is None else [model._meta.get_field(name) for name in fields]
        )
        self._sql: dict[tuple[str, str], str] = {}

    def insert(self, instance: models.Model, using: str | None = None) -> None:
        """Insert ``instance`` as a new row; it is then a saved instance of ``using``."""
        assert self.whole_rows and type(instance) is self.model and instance._state.adding
        assert not (signals.pre_save.has_listeners(self.model)
                    or signals.post_save.has_listeners(self.model)), self.model
        using = using or db.alias()
        connection = connections[using]
        values = [
            field.get_db_prep_save(field.pre_save(instance, True), connection)
            for field in self.fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(self.sql(using), values)
            if self.auto_pk:
                pk = self.model._meta.pk
                assert pk is not None
                if connection.features.can_return_columns_from_insert:
                    new_id = cursor.fetchone()[0]
                else:
                    new_id = connection.ops.last_insert_id(
                        cursor, self.model._meta.db_table, column_name(pk))
                setattr(instance, pk.attname, new_id)
        instance._state.adding = False
        instance._state.db = using

    def sql(self, using: str) -> str:
        """The INSERT on database ``using``: one ``%s`` per field, in their order."""
        connection = connections[using]
        key = (using, connection.vendor)
        sql = self._sql.get(key)
        if sql is None:
            quote = connection.ops.quote_name
            columns = ", ".join(quote(column_name(field)) for field in self.fields)
            marks = ", ".join(["%s"] * len(self.fields))
            returning = ""
            pk = self.model._meta.pk
            if (self.whole_rows and self.auto_pk
                    and connection.features.can_return_columns_from_insert):
                assert pk is not None
                returning = f" RETURNING {quote(column_name(pk))}"
            # Only quoted names from the model's metadata; the values are parameters.
            sql = (f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) "  # noqa: S608
                   f"VALUES ({marks}){returning}")
            self._sql[key] = sql
        return sql
