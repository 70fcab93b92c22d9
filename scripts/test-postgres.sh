#!/usr/bin/env bash
# `make test-postgres`: the suite on PostgreSQL and Redis, plus the scale-out
# end-to-end test (tests/scale: two gunicorn instances sharing them).
#
# Left out, because they never touch the site's database or cache and `make test` runs
# them already: the client library's tests (tests/client: the standalone sandbox, with
# its own SQLite file, and `responses`), the browser tests (tests/browser: example
# servers with their own SQLite files and local-memory caches), the downstream site
# (its own settings), the standalone sandbox's tests (tests/sandbox, all but
# test_inprocess.py, which mounts the sandbox on the site's database), the packaging
# tests (a built wheel in a fresh virtualenv) and the benchmark smoke test (its own
# services). Arguments replace that selection: `bash scripts/test-postgres.sh
# tests/client` runs just those.
#
# Each run gets its own test database (test_toopher_<pid>) and cache key prefix
# (tests/settings.py), so runs on the same servers do not collide; databases left
# by killed runs are dropped first. It runs in the 4 xdist workers of setup.cfg like
# `make test`: each worker is a run of its own in this sense (test_toopher_<pid>_gw<N>,
# its own key prefix; clearing the cache deletes only its keys, tests/prefixed_cache.py).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/services.sh start)"
echo "DATABASE_URL=$DATABASE_URL CACHE_URL=$CACHE_URL"
.venv/bin/python scripts/drop_stale_databases.py
if [ $# -eq 0 ]; then
    set -- --ignore=tests/client --ignore=tests/browser --ignore=tests/downstream \
        --ignore=tests/test_packaging.py --ignore=tests/test_benchmarks_smoke.py
    for module in tests/sandbox/test_*.py; do
        [ "$module" = tests/sandbox/test_inprocess.py ] || set -- "$@" --ignore="$module"
    done
fi
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
