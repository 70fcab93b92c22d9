"""How much each benchmark does: the full run (``make bench``) and the smoke run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    """Request counts, rounds and caps. Modest on purpose: ``make bench`` must stay
    within about five minutes on a 2-core machine."""

    name: str
    #: Middleware ratio: rounds (apps alternate within each), requests per app per round.
    middleware_rounds: int
    middleware_requests: int
    #: In-process middleware ratio: interleaved pairs of requests; bootstrap resamples.
    inprocess_pairs: int
    bootstrap_resamples: int
    #: Status poll against the bare session view: rounds, requests per view per round.
    poll_rounds: int
    poll_requests: int
    #: Load-generator threads (and gunicorn has 4 threads).
    concurrency: int
    #: Tabs polling one pending login, and for how many poll intervals.
    tabs: tuple[int, ...]
    tab_intervals: int
    #: Client: rounds, calls per variant per round (one thread, one client).
    client_rounds: int
    client_calls: int
    #: Sandbox throughput: calls in total, from this many threads.
    sandbox_calls: int
    sandbox_concurrency: int
    #: Approval latency runs in a headless Chromium (0: skipped).
    approval_runs: int
    #: Growth: status polls with this many pending logins in flight (in-process), pairs
    #: timed at each size.
    growth_poll_sizes: tuple[int, ...] = (10, 100, 1000)
    growth_poll_pairs: int = 3000
    #: Then pairs over this many of the pending logins with Django's default (300-entry)
    #: LocMemCache as django_toopher's cache (each polled once first, to fill it).
    growth_default_cache_pairs: int = 300
    growth_default_cache_size: int = 300
    #: Growth: logins through one worker, memory and rows at each checkpoint, from
    #: this many browsers (users) and client threads.
    growth_logins: tuple[int, ...] = (1000, 2500, 5000, 10_000)
    growth_browsers: int = 100
    growth_threads: int = 8
    #: One login in this many is a whole login (push, poll, grant); the others are forced.
    growth_real_every: int = 10
    #: Growth: the scale-out setup (two instances, PostgreSQL, Redis): pending logins,
    #: tabs polling each, the poll interval (s) and how many intervals they poll.
    cluster_logins: int = 1000
    cluster_tabs: int = 2
    cluster_interval: int = 20
    cluster_intervals: int = 2
    #: No single load run may take longer than this, in seconds.
    time_cap: float = 60.0
    #: Sandbox ratio (verified API call / bare JSON view, same server): rounds,
    #: requests per kind per round, client threads.
    ratio_rounds: int = 7
    ratio_requests: int = 1000
    ratio_concurrency: int = 16
    #: The service (bench_server): rounds per kind, seconds per round, client threads.
    server_rounds: int = 6
    server_round_s: float = 10.0
    server_concurrency: int = 16
    #: Web Push (bench_push): sequential requests timed to their push; alternating
    #: rounds x sequential requests with a slow and a fast push service; devices
    #: enrolled and subscribed, and requests initiated at once among them.
    push_latency_requests: int = 200
    push_slow_rounds: int = 4
    push_slow_requests: int = 25
    push_devices: int = 1000
    push_burst: int = 100

    def describe(self) -> str:
        """The counts in one line, for the results file."""
        tabs = ", ".join(str(n) for n in self.tabs)
        return (
            f"{self.name}: middleware {self.middleware_rounds} rounds x "
            f"{self.middleware_requests} requests per app, in-process {self.inprocess_pairs} "
            f"pairs; status poll {self.poll_rounds} "
            f"rounds x {self.poll_requests} per view; {self.concurrency} client threads; "
            f"tabs {tabs} for {self.tab_intervals} intervals; client {self.client_rounds} "
            f"rounds x {self.client_calls} calls per variant; sandbox {self.sandbox_calls} "
            f"calls from {self.sandbox_concurrency} threads; sandbox ratio {self.ratio_rounds} "
            f"rounds x {self.ratio_requests} per kind from {self.ratio_concurrency} threads; "
            f"approval {self.approval_runs} runs; service {self.server_rounds} rounds x "
            f"{self.server_round_s:g} s per kind from {self.server_concurrency} threads; "
            f"growth: polls at {_sizes(self.growth_poll_sizes)} pending logins x "
            f"{self.growth_poll_pairs} pairs, logins to {_sizes(self.growth_logins)} from "
            f"{self.growth_browsers} browsers, cluster {self.cluster_logins} pending logins x "
            f"{self.cluster_tabs} tabs for {self.cluster_intervals} intervals of "
            f"{self.cluster_interval} s; push {self.push_latency_requests} timed, "
            f"{self.push_slow_rounds} x {self.push_slow_requests} slow/fast, "
            f"{self.push_burst} at once among {self.push_devices} devices"
        )


def _sizes(sizes: tuple[int, ...]) -> str:
    return "/".join(str(n) for n in sizes)


FULL = Counts(
    name="full",
    middleware_rounds=20,
    middleware_requests=300,
    inprocess_pairs=12_000,
    bootstrap_resamples=1000,
    poll_rounds=12,
    poll_requests=400,
    concurrency=4,
    tabs=(1, 10, 100),
    tab_intervals=3,
    client_rounds=6,
    client_calls=50,
    sandbox_calls=600,
    sandbox_concurrency=4,
    approval_runs=20,
)

SMOKE = Counts(
    name="smoke",
    middleware_rounds=1,
    middleware_requests=60,
    inprocess_pairs=300,
    bootstrap_resamples=200,
    poll_rounds=1,
    poll_requests=60,
    concurrency=2,
    tabs=(1, 5),
    tab_intervals=2,
    client_rounds=1,
    client_calls=10,
    sandbox_calls=40,
    sandbox_concurrency=2,
    approval_runs=2,
    growth_poll_sizes=(2, 4, 8),
    growth_poll_pairs=100,
    growth_default_cache_pairs=16,
    growth_default_cache_size=8,
    growth_logins=(20, 40, 60),
    growth_browsers=8,
    growth_threads=2,
    growth_real_every=2,
    cluster_logins=10,
    cluster_interval=2,
    time_cap=20.0,
    ratio_rounds=1,
    ratio_requests=64,
    server_rounds=1,
    # A short round from a few threads: the smoke run proves the figure is measured and
    # every verified call records its nonce, not the rate (its warm-up is 20 calls a thread).
    server_round_s=0.5,
    server_concurrency=4,
    push_latency_requests=10,
    push_slow_rounds=2,
    push_slow_requests=4,
    push_devices=20,
    push_burst=10,
)
