"""CPU time per request, in-process, interleaved: ``python -m benchmarks.inprocess``.

Two sub-commands, each printing one JSON line:

``middleware --path P --cookie C --pairs N``
    Two WSGI handlers built from the same settings (the benchmark site with
    django_toopher installed): one with its full middleware list, one with
    ``ToopherMiddleware`` left out, and a third like the first (the A/A control: what
    the method reads when nothing differs). Requests alternate one by one (A B C, C B A, ...),
    each timed with ``time.thread_time_ns`` (the CPU time of this thread only, so other
    processes on the machine do not count). Prints both lists of nanoseconds.

``polls --sizes 10,100,1000 --pairs N --sandbox-db F``
    Grows the number of pending logins in flight to each size in turn (real logins:
    the password form, the naming of the browser, the pending page that sends the one
    push to the sandbox), polls each once to fill the cache, then alternates a status
    poll and a bare session-reading request of the same pending login, round-robin
    over every pending login in flight. Run with a long ``BENCH_POLL_INTERVAL`` so the
    polls measured are the ones answered from the cache: the server's own work.

Both count SQL queries of one request (the budget) and, for polls, the upstream
calls the sandbox saw during the timed requests.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import sandbox_counts

TOOPHER_MIDDLEWARE = "django_toopher.middleware.ToopherMiddleware"
PASSWORD = "bench-password-1"  # noqa: S105 (throwaway users on loopback)


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.site.settings")
    import django

    django.setup()


def handlers() -> tuple[Any, Any]:
    """(with, without): two WSGI handlers of the same settings; the second is built
    with ``ToopherMiddleware`` removed from ``MIDDLEWARE``."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    if TOOPHER_MIDDLEWARE not in settings.MIDDLEWARE:
        raise RuntimeError("the settings do not install ToopherMiddleware")
    with_mw = WSGIHandler()
    without = [name for name in settings.MIDDLEWARE if name != TOOPHER_MIDDLEWARE]
    with override_settings(MIDDLEWARE=without):
        without_mw = WSGIHandler()
    return with_mw, without_mw


def requester(app: Any, path: str, cookie: str) -> Callable[[], tuple[str, bytes]]:
    """A function serving one GET of ``path`` through ``app`` the way a WSGI server
    does (the body iterated, then ``close()``, which sends ``request_finished``)."""
    seen: list[str] = []

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        seen.append(status)

    def call() -> tuple[str, bytes]:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_ACCEPT": "application/json",
            "HTTP_COOKIE": cookie,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return seen[-1], body

    return call


def count_queries(call: Callable[[], Any]) -> int:
    from django.db import connection

    executed: list[str] = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        call()
    return len(executed)


def interleave(calls: list[Callable[[], Any]], pairs: int) -> list[list[int]]:
    """CPU nanoseconds of each call, the calls alternated one by one, their order
    reversed every other round (A B, B A, ...)."""
    clock = time.thread_time_ns
    times: list[list[int]] = [[] for _ in calls]
    order = list(range(len(calls)))
    for index in range(pairs):
        for which in order if index % 2 == 0 else order[::-1]:
            t0 = clock()
            calls[which]()
            times[which].append(clock() - t0)
    return times


# -- middleware -------------------------------------------------------------------------


def middleware(args: argparse.Namespace) -> dict[str, Any]:
    with_mw, without_mw = handlers()
    control, _ = handlers()  # a second "with": the A/A control of the method
    calls = [requester(app, args.path, args.cookie) for app in (with_mw, without_mw, control)]
    answers = [call() for call in calls]
    for status, body in answers:
        if not status.startswith("200") or (args.expect and args.expect not in body.decode()):
            raise RuntimeError(f"{args.path} answered {status} {body[:120]!r}")
    interleave(calls, args.warmup)
    queries = [count_queries(call) for call in calls]
    times = interleave(calls, args.pairs)
    return {
        "own_ns": own_cost(args.cookie, args.pairs),
        "with_ns": times[0],
        "without_ns": times[1],
        "control_ns": times[2],
        "queries_with": queries[0],
        "queries_without": queries[1],
        "body": answers[0][1][:200].decode("utf-8", "replace"),
    }


def own_cost(cookie: str, calls: int) -> float:
    """CPU nanoseconds of ``ToopherMiddleware`` itself per request of a session that is
    not pending: the middleware around a view that returns a ready response at once,
    on a request whose cookies are already parsed (as SessionMiddleware leaves them)."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from django_toopher.middleware import ToopherMiddleware

    response = HttpResponse("hello")
    request = RequestFactory().get("/bench/hello/", HTTP_COOKIE=cookie)
    request.COOKIES  # noqa: B018 (parsed once, as by SessionMiddleware)
    bare = ToopherMiddleware(lambda request: response)
    clock = time.thread_time_ns
    best = float("inf")
    for _ in range(5):  # the least disturbed of five runs
        t0 = clock()
        for _ in range(calls):
            bare(request)
        best = min(best, (clock() - t0) / calls)
    return best


# -- status polls with N pending logins in flight --------------------------------------------


def pending_login(username: str) -> str:
    """A real pending login in this process (Django's test client for the forms):
    password, naming of the browser, the pending page that sends the push. Returns
    the browser's Cookie header."""
    from django.test import Client

    client = Client(SERVER_NAME="127.0.0.1", HTTP_HOST="127.0.0.1")
    answer = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    if answer.status_code != 302:
        raise RuntimeError(f"login of {username}: {answer.status_code}")
    page = client.get("/toopher/pending/")
    if page.status_code == 200 and b'name="name"' in page.content:
        named = client.post("/toopher/pending/terminal/", {"name": "Benchmark browser"})
        if named.status_code != 302:
            raise RuntimeError(f"naming for {username}: {named.status_code}")
        page = client.get("/toopher/pending/")
    if page.status_code != 200 or b'data-status="pushed"' not in page.content:
        raise RuntimeError(f"no push for {username}: {page.status_code} {page.content[:200]!r}")
    return "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())


def round_robin(
    first: list[Callable[[], Any]], second: list[Callable[[], Any]]
) -> list[Callable[[], None]]:
    """Two calls: the i-th of ``first``, then the i-th of ``second`` (and i moves on)."""
    step = [0]

    def one() -> None:
        first[step[0] % len(first)]()

    def two() -> None:
        second[step[0] % len(second)]()
        step[0] += 1

    return [one, two]


def _measure(
    status: list[Callable[[], Any]], bare: list[Callable[[], Any]], pairs: int, warmup: int,
    sandbox_db: str, key: str,
) -> dict[str, Any]:
    """Interleaved poll / bare pairs round-robin over the pending logins; the upstream
    calls the sandbox saw during the timed pairs."""
    pair = round_robin(status, bare)
    interleave(pair, warmup)
    mark = sandbox_counts.api_mark(sandbox_db)
    times = interleave(pair, pairs)
    return {
        "poll_ns": times[0],
        "bare_ns": times[1],
        "upstream_calls": sandbox_counts.api_calls_since(sandbox_db, key, mark),
    }


def polls(args: argparse.Namespace) -> dict[str, Any]:
    from django.conf import settings
    from django.test.utils import override_settings

    app, _ = handlers()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    users = args.users.read_text().split()
    if len(users) < sizes[-1]:
        raise RuntimeError(f"{len(users)} users for {sizes[-1]} pending logins")
    key = settings.TOOPHER["CONSUMER_KEY"]
    cookies: list[str] = []
    results: dict[str, Any] = {}
    for size in sizes:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:  # pushes overlap
            cookies += pool.map(pending_login, users[len(cookies):size])
        made = time.monotonic() - started
        status = [requester(app, "/toopher/pending/status/", c) for c in cookies]
        bare_cookies = ["; ".join(p for p in c.split("; ") if not p.startswith("toopher_pending="))
                        for c in cookies]
        bare = [requester(app, "/bench/session/", c) for c in bare_cookies]
        for poll in status:  # fill the cache: every answer is "pushed", cached for long
            answer = poll()
            if b'"pushed"' not in answer[1]:
                raise RuntimeError(f"poll answered {answer}")
        queries = count_queries(status[0])
        measured = _measure(status, bare, args.pairs, args.warmup, args.sandbox_db, key)
        still = status[-1]()[1]
        if b'"pushed"' not in still:
            raise RuntimeError(f"the pending logins did not stay pending: {still[:200]!r}")
        results[str(size)] = dict(measured, queries_per_poll=queries, setup_s=made,
                                  cache=settings.TOOPHER["CACHE_ALIAS"])
    if args.default_cache_pairs:
        # The same pending logins, django_toopher's cache switched to Django's default
        # LocMemCache (300 entries): what a site with that many pending logins in one
        # process and no cache settings gets.
        # The first ``--default-cache-size`` of them: the warm-up polls each once (it
        # fills that cache), then the timed pairs go round again.
        size = min(args.default_cache_size, len(status))
        toopher = dict(settings.TOOPHER, CACHE_ALIAS="default")
        with override_settings(TOOPHER=toopher):
            measured = _measure(status[:size], bare[:size], args.default_cache_pairs, size,
                                args.sandbox_db, key)
        results["default_cache"] = dict(measured, size=size)
    return {"sizes": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inprocess")
    sub = parser.add_subparsers(dest="command", required=True)
    mw = sub.add_parser("middleware")
    mw.add_argument("--path", required=True)
    mw.add_argument("--cookie", default="")
    mw.add_argument("--expect", default="")
    mw.add_argument("--pairs", type=int, default=10_000)
    mw.add_argument("--warmup", type=int, default=500)
    pl = sub.add_parser("polls")
    pl.add_argument("--sizes", default="10,100,1000")
    pl.add_argument("--users", required=True, type=Path, help="a file of paired user names")
    pl.add_argument("--pairs", type=int, default=3000)
    pl.add_argument("--warmup", type=int, default=300)
    pl.add_argument("--sandbox-db", required=True)
    pl.add_argument("--threads", type=int, default=4, help="threads making pending logins")
    pl.add_argument("--default-cache-pairs", type=int, default=0,
                    help="then this many pairs with Django's default cache (0: none)")
    pl.add_argument("--default-cache-size", type=int, default=200,
                    help="over this many of the pending logins")
    args = parser.parse_args(argv)
    _setup()
    data = middleware(args) if args.command == "middleware" else polls(args)
    print(json.dumps(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
