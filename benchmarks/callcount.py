"""Count what one request costs in-process: Python function calls and SQL queries.

``python -m benchmarks.callcount --path /bench/hello/ --cookie "sessionid=..."``
loads the benchmark site (``BENCH_TOOPHER`` chooses the app), warms it up, then
serves ``--requests`` requests straight through the WSGI handler under
``cProfile`` and prints one JSON line. Counts, unlike timings, do not depend on
what else the machine is doing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.callcount")
    parser.add_argument("--path", required=True)
    parser.add_argument("--cookie", default="")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.site.settings")

    import django
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    django.setup()
    app = get_wsgi_application()
    statuses: list[str] = []

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        statuses.append(status)

    def request() -> bytes:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": args.path,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_COOKIE": args.cookie,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        return b"".join(app(environ, start_response))

    for _ in range(50):
        body = request()
    executed: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        body = request()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.requests):
        request()
    profile.disable()
    calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    print(
        json.dumps(
            {
                "calls_per_request": calls / args.requests,
                "queries_per_request": len(executed),
                "queries": executed,
                "status": statuses[-1],
                "body": body[:200].decode("utf-8", "replace"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
