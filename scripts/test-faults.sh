#!/usr/bin/env bash
# `make test-faults [FAULTS_ARGS=--quick]`: the fault-injection run (tests/faults).
# It starts its own PostgreSQL, Redis, sandbox and two gunicorn instances on loopback
# (PostgreSQL and Redis installed from Debian when missing), then, for the service's own
# faults (tests/faults/test_service_faults.py), two `toopher-server serve` instances on
# a PostgreSQL and Redis of their own; stops them all at the end, and writes
# docs/reliability.md. --quick: fewer clients, shorter phases (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh install
export TOOPHER_FAULTS=1
args=()
for arg in "$@"; do
    case "$arg" in
        --quick) export TOOPHER_FAULTS_QUICK=1 ;;
        *) args+=("$arg") ;;
    esac
done
# The database and cache of the suite's settings are not used: the run makes its own.
unset DATABASE_URL CACHE_URL
# -n 0: one process (the cluster is one module-scoped fixture; the faults run in turn).
exec .venv/bin/python -m pytest -p no:cacheprovider -n 0 -m faults tests/faults "${args[@]}"
