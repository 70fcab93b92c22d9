"""The service's ``DATABASES["default"]``, from its URL and the environment.

Stated once here for the production settings (``toopher_server.settings``) and every
settings module that runs the service's code on PostgreSQL (the test suite's, for
``make test-postgres``), so that the tests run the queries as production runs them.

- **Kept connections** (``CONN_MAX_AGE``, 60 s) with a health check at the start of each
  request (``CONN_HEALTH_CHECKS``): after a database restart no request fails on a
  connection that died meanwhile.
- **PostgreSQL: server-side parameters and prepared statements**
  (``DATABASE_PREPARED_STATEMENTS``, on by default). Django binds parameters on the
  client by default, so PostgreSQL parses and plans every query again; the lookups
  every API call makes join up to five tables, and planning them cost the database
  more than running them (0.8 of 1 ms of its CPU for a request's status, against 0.17
  ms prepared: benchmarks/results.md, "Service"). With ``server_side_binding`` psycopg
  sends the parameters apart and prepares a query on its connection from its
  ``prepare_threshold``-th use (5). Switch it off (``DATABASE_PREPARED_STATEMENTS=false``)
  behind a pooler in transaction mode (PgBouncer before 1.21 with ``pool_mode =
  transaction``), which cannot keep a connection's prepared statements.
- **SQLite** (a one-machine trial): threads and processes share the file, so wait for
  its lock (30 s), keep a write-ahead log and take the write lock at ``BEGIN`` (Django
  5.1+), so that no transaction fails half-way.
"""

from __future__ import annotations

from typing import Any

import django
import environ

#: A query is prepared on a connection from its fifth run (psycopg's default).
PREPARE_THRESHOLD = 5


def configure(database: dict[str, Any], env: environ.Env | None = None) -> dict[str, Any]:
    """``database`` (one ``DATABASES`` entry, as ``env.db()`` gives it) with the
    service's connection options added; the environment's ``CONN_MAX_AGE`` and
    ``DATABASE_PREPARED_STATEMENTS`` are read from ``env``."""
    env = env or environ.Env()
    database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    database["CONN_HEALTH_CHECKS"] = True
    options = database.setdefault("OPTIONS", {})
    if database["ENGINE"] == "django.db.backends.sqlite3":
        options["timeout"] = 30
        if django.VERSION >= (5, 1):
            options.update(transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;")
    return prepare_on_server(database, env)


def prepare_on_server(database: dict[str, Any], env: environ.Env | None = None) -> dict[str, Any]:
    """On PostgreSQL (psycopg 3), unless ``DATABASE_PREPARED_STATEMENTS`` is false: bind
    ``database``'s parameters on the server and prepare repeated queries; the service's
    own settings do it (:func:`configure`), and so do settings that run its code."""
    env = env or environ.Env()
    if database["ENGINE"] == "django.db.backends.postgresql" and prepared_statements(env):
        options = database.setdefault("OPTIONS", {})
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", PREPARE_THRESHOLD)
    return database


def prepared_statements(env: environ.Env) -> bool:
    """Whether PostgreSQL queries are bound on the server and prepared (psycopg 3 only:
    psycopg2 has neither)."""
    if not env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        return False
    try:
        import psycopg  # noqa: F401 (only whether it is there)
    except ImportError:
        return False
    return True
