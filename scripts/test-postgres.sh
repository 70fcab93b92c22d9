#!/usr/bin/env bash
# `make test-postgres`: the whole suite on PostgreSQL and Redis, plus the scale-out
# end-to-end test (two gunicorn instances sharing them).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/services.sh start)"
echo "DATABASE_URL=$DATABASE_URL CACHE_URL=$CACHE_URL"
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
