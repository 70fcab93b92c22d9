"""toopher_server.dbsettings: the service's database options, stated once."""

from __future__ import annotations

import environ
import pytest

from toopher_server import dbsettings


def _database(url: str, **variables: str) -> dict:
    env = environ.Env()
    env.ENVIRON = dict(variables)  # only these variables, whatever the test run's are
    return dbsettings.configure(environ.Env.db_url_config(url), env)


def test_postgresql_binds_on_the_server_and_prepares_repeated_queries() -> None:
    database = _database("postgres://toopher@db.internal:5432/toopher")
    assert database["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}
    assert (database["CONN_MAX_AGE"], database["CONN_HEALTH_CHECKS"]) == (60, True)


@pytest.mark.parametrize("value", ["false", "0", "off"])
def test_prepared_statements_switch_off_for_a_transaction_pooler(value: str) -> None:
    database = _database("postgres://toopher@pgbouncer:6432/toopher",
                         DATABASE_PREPARED_STATEMENTS=value, CONN_MAX_AGE="0")
    assert "server_side_binding" not in database["OPTIONS"]
    assert "prepare_threshold" not in database["OPTIONS"]
    assert database["CONN_MAX_AGE"] == 0


def test_an_operator_setting_in_the_url_wins() -> None:
    """``?prepare_threshold=`` in ``DATABASE_URL`` is the operator's: kept."""
    database = dbsettings.prepare_on_server({
        "ENGINE": "django.db.backends.postgresql", "OPTIONS": {"prepare_threshold": None}})
    assert database["OPTIONS"] == {"prepare_threshold": None, "server_side_binding": True}


def test_sqlite_waits_for_its_lock_and_prepares_nothing(tmp_path) -> None:
    database = _database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert database["OPTIONS"]["timeout"] == 30
    assert "server_side_binding" not in database["OPTIONS"]
