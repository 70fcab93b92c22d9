#!/usr/bin/env bash
# Start a private PostgreSQL and Redis on 127.0.0.1 for the scale-out tests, installing
# them from Debian's packages when missing. Prints the DATABASE_URL and CACHE_URL to use.
#
#   eval "$(bash scripts/services.sh start)"   # exports DATABASE_URL, CACHE_URL
#   bash scripts/services.sh stop
#   bash scripts/services.sh install   # only install them (the fault tests run their own)
set -euo pipefail

PG_PORT=${TOOPHER_PG_PORT:-54329}
REDIS_PORT=${TOOPHER_REDIS_PORT:-63799}
STATE=${TOOPHER_SERVICES_DIR:-/tmp/django-toopher-services}
PGDATA=$STATE/pg
RUN_AS=()

install_missing() {
    local need=()
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
    command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
    if [ ${#need[@]} -gt 0 ]; then
        echo "installing ${need[*]}" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
    fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

start() {
    install_missing
    mkdir -p "$STATE"
    # PostgreSQL refuses to run as root: run it as the 'postgres' system user.
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$STATE"
        RUN_AS=(runuser -u postgres --)
    fi
    local bin; bin=$(pg_bin)
    if [ ! -f "$PGDATA/PG_VERSION" ]; then
        "${RUN_AS[@]}" "$bin/initdb" -D "$PGDATA" -U toopher --auth=trust -E UTF8 >/dev/null
    fi
    if ! "${RUN_AS[@]}" "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        "${RUN_AS[@]}" "$bin/pg_ctl" -D "$PGDATA" -l "$STATE/pg.log" -w \
            -o "-h 127.0.0.1 -p $PG_PORT -k $STATE -c max_connections=300 -c fsync=off" start >/dev/null
    fi
    "${RUN_AS[@]}" "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U toopher -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname='toopher'" | grep -q 1 \
        || "${RUN_AS[@]}" "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U toopher toopher
    if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
        redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
            --daemonize yes --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log"
        for _ in $(seq 50); do
            redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
            sleep 0.1
        done
    fi
    echo "export DATABASE_URL=postgres://toopher@127.0.0.1:$PG_PORT/toopher"
    echo "export CACHE_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

stop() {
    local bin; bin=$(pg_bin 2>/dev/null || true)
    if [ -n "$bin" ] && [ -f "$PGDATA/PG_VERSION" ]; then
        [ "$(id -u)" = 0 ] && RUN_AS=(runuser -u postgres --)
        "${RUN_AS[@]}" "$bin/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
    fi
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    install) install_missing ;;
    *) echo "usage: $0 start|stop|install" >&2; exit 2 ;;
esac
