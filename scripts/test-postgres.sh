#!/usr/bin/env bash
# `make test-postgres`: the whole suite on PostgreSQL and Redis, plus the scale-out
# end-to-end test (tests/scale: two gunicorn instances sharing them).
#
# Each run gets its own test database (test_toopher_<pid>) and cache key prefix
# (tests/settings.py), so runs on the same servers do not collide; databases left
# by killed runs are dropped first.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/services.sh start)"
echo "DATABASE_URL=$DATABASE_URL CACHE_URL=$CACHE_URL"
.venv/bin/python scripts/drop_stale_databases.py
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
