"""Drop the databases that test runs left behind on the shared PostgreSQL server.

Each run of the suite makes ``test_<name>_<pid>`` (tests/settings.py; under
pytest-xdist ``test_<name>_<pid>_gw<N>``, one per worker, the pid the worker's) and the
scale-out test ``toopher_scale_<pid>`` (tests/scale/cluster.py), the service's
instances ``toopher_live_<pid>`` (tests/server/live_service.py); a run that was
killed cannot drop its own. This drops those whose process no longer exists.

    python scripts/drop_stale_databases.py            # uses $DATABASE_URL
"""

from __future__ import annotations

import os
import re
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def stale(names: list[str], base_name: str) -> list[str]:
    """The names of run databases whose process has gone."""
    pattern = re.compile(
        rf"^(?:test_{re.escape(base_name)}|toopher_scale|toopher_live)_(\d+)(?:_gw\d+)?$"
    )
    found = []
    for name in names:
        match = pattern.match(name)
        if match and not pid_alive(int(match.group(1))):
            found.append(name)
    return found


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "psql"}:
        print("DATABASE_URL is not a PostgreSQL URL: nothing to do", file=sys.stderr)
        return 0
    base_name = parts.path.lstrip("/")
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        names = [row[0] for row in conn.execute("SELECT datname FROM pg_database")]
        for name in stale(names, base_name):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"dropped stale database {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
