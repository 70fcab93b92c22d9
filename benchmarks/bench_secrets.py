"""The cost of the sealed requester secret on the hot path, in process.

Every verified API call reads the requester's secret sealed (AES-GCM,
``Requester.secrets_valid_now()``) and decrypts it. This measures that decrypt's share:
the same verified calls (``GET v1/authentication_requests/{id}`` through Django's test
client: OAuth 1.0a checked, nonce recorded, owner checked, JSON answered) served

* **sealed**: as the service does, the secret decrypted on every call;
* **clear**: with the requester lookup monkeypatched (``lookups.install``) to hand out
  a requester whose secrets are already in clear,

in alternating rounds in one process (``python -m benchmarks.bench_secrets``, its own
in-memory SQLite service), each call timed with ``time.thread_time_ns`` (this thread's
CPU, so other processes on the machine do not count). The figure is the median of the
rounds' ratios of calls per CPU second, sealed over clear (target: at least 0.9, else the
decrypted secret is worth caching).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .config import Counts
from .report import Report, Row
from .servers import Environment
from .stats import median

RATIO_TARGET = 0.9
#: (calls per round, rounds) of the full and the smoke run.
SIZES = {"full": (2000, 9), "smoke": (50, 2)}
ROOT = Path(__file__).resolve().parents[1]


# --- the measuring process ------------------------------------------------------------


def _configure() -> None:
    """A Django of the service alone: in-memory SQLite, migrated."""
    import django
    from django.conf import settings

    settings.configure(
        SECRET_KEY="bench-secrets-" + "x" * 40,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "toopher_server"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        ROOT_URLCONF="toopher_server.urls",
        ALLOWED_HOSTS=["testserver"],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        TOOPHER_SERVER_RATE_LIMITS={"push": {"user": None, "requester": None}},
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _pending_request(key: str) -> str:
    """A pending authentication request of a paired user (its id)."""
    from toopher_server import phones, service
    from toopher_server.models import Requester
    from toopher_server.params import Params

    requester = Requester.objects.get(key=key)
    phone = phones.create_phone("bench")
    phrase = phones.new_phrase(phone).phrase
    pairing = service.pair_user_with_phrase(requester, "bench-user", phrase)
    phones.respond_pairing(str(pairing.id), True)
    auth = service.initiate(requester, Params([("pairing_id", str(pairing.id)),
                                               ("terminal_name", "bench")]))
    return str(auth.id)


class _ClearLookups:
    """The ORM's lookups, with each requester's secrets handed out already in clear."""

    def __init__(self, secrets: list[str]) -> None:
        from toopher_server.lookups import Lookups

        self._orm = Lookups()
        self._secrets = secrets

    def requester(self, key: str) -> Any:
        found = self._orm.requester(key)
        if found is not None:
            found.secrets_valid_now = lambda now=None: list(self._secrets)
        return found

    def authentication_request(self, request_id: str) -> Any:
        return self._orm.authentication_request(request_id)


def measure(calls: int, rounds: int) -> dict[str, Any]:
    """Alternating rounds of ``calls`` verified calls, sealed and clear: CPU ns per call."""
    _configure()
    from django.test import Client
    from oauthlib.oauth1 import Client as OAuthClient

    from toopher_server import lookups
    from toopher_server.requesters import ensure_requester

    key, secret = "bench-secrets-key", "bench-secrets-secret-0123456789"
    ensure_requester(key, secret, "Secrets benchmark")
    path = f"/v1/authentication_requests/{_pending_request(key)}"
    signer = OAuthClient(key, client_secret=secret)
    http = Client()

    def one_round() -> list[int]:
        signed = [signer.sign(f"http://testserver{path}", http_method="GET")[1]
                  for _ in range(calls)]
        spent = []
        for headers in signed:
            started = time.thread_time_ns()
            answer = http.get(path, HTTP_AUTHORIZATION=headers["Authorization"])
            spent.append(time.thread_time_ns() - started)
            if answer.status_code != 200:
                raise RuntimeError(f"a verified call answered {answer.status_code}")
        return spent

    clear = _ClearLookups([secret])
    one_round()  # warm-up: imports, first queries
    runs: dict[str, list[list[int]]] = {"sealed": [], "clear": []}
    try:
        for index in range(rounds):
            for mode in (("sealed", "clear") if index % 2 == 0 else ("clear", "sealed")):
                lookups.install(clear if mode == "clear" else lookups.Lookups())  # type: ignore[arg-type]
                runs[mode].append(one_round())
    finally:
        lookups.install(lookups.Lookups())
    return {"calls": calls, "rounds": rounds, "ns": runs, "decrypt_ns": _decrypt_ns(key, calls)}


def _decrypt_ns(key: str, times: int) -> float:
    """CPU ns of one ``secrets_valid_now()`` (the decrypt alone), averaged."""
    from toopher_server.models import Requester

    requester = Requester.objects.get(key=key)
    started = time.thread_time_ns()
    for _ in range(times):
        requester.secrets_valid_now()
    return (time.thread_time_ns() - started) / times


def summarize(ns: dict[str, list[list[int]]]) -> dict[str, Any]:
    """Calls per CPU second of each mode (median of the rounds) and the median of the
    rounds' ratios, sealed over clear."""
    rate = {mode: [len(r) * 1e9 / sum(r) for r in rounds] for mode, rounds in ns.items()}
    ratios = [s / c for s, c in zip(rate["sealed"], rate["clear"], strict=True)]
    return {
        "sealed_per_s": median(rate["sealed"]),
        "clear_per_s": median(rate["clear"]),
        "ratio": median(ratios),
        "per_round_ratios": ratios,
    }


# --- the harness's side -----------------------------------------------------------------


def secret_cost(env: Environment, counts: Counts, report: Report) -> None:
    """Run the measuring process and add its figure (``env`` is not used: no server)."""
    calls, rounds = SIZES["smoke" if counts.name == "smoke" else "full"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_secrets", "--calls", str(calls),
         "--rounds", str(rounds)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench_secrets failed: {done.stderr[-2000:]}")
    measured = json.loads(done.stdout.splitlines()[-1])
    figures = {**summarize(measured["ns"]), "decrypt_us": measured["decrypt_ns"] / 1000}
    report.raw["secrets"] = figures
    report.add(
        Row(
            "Service",
            "Verified API calls per CPU second, secret sealed (decrypted each call) / "
            "already in clear, in process",
            f"{figures['ratio']:.3f} ({figures['sealed_per_s']:.0f} / "
            f"{figures['clear_per_s']:.0f} calls/s)",
            target=f">= {RATIO_TARGET}",
            met=figures["ratio"] >= RATIO_TARGET,
            note=f"median of {rounds} alternating rounds of {calls} calls "
            "(GET authentication_requests/{id}, test client, SQLite in memory); "
            f"the decrypt alone: {figures['decrypt_us']:.1f} µs CPU",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_secrets")
    parser.add_argument("--calls", type=int, default=SIZES["full"][0])
    parser.add_argument("--rounds", type=int, default=SIZES["full"][1])
    parser.add_argument("--smoke", action="store_true", help="tiny counts")
    args = parser.parse_args(argv)
    calls, rounds = SIZES["smoke"] if args.smoke else (args.calls, args.rounds)
    result = measure(calls, rounds)
    print(json.dumps(result))
    print(json.dumps({**summarize(result["ns"]), "decrypt_ns": result["decrypt_ns"]}),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
