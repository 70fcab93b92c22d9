"""Steady traffic on the service's instances, honest and hostile, and what it saw.

:class:`ServiceLoad` runs client threads, each a site and its user's phone in one: the
site starts an authentication (``authentication_requests/initiate``, OAuth-signed) and
polls its status; the phone (a :class:`~toopher_server.testing.SignedDevice` enrolled and
paired beforehand) reads the request and approves it with its signature. Around that,
the attacks an operator must never see succeed, each on an instance picked as a
balancer would:

- an approval without any device signature;
- an approval signed by another enrolled device (its own key, its own pairing);
- the phone's signed approval, and its signed read of the request, replayed to the
  other instance;
- the site's signed initiate replayed to the other instance (same ``Host``, as behind
  one balancer).

One cycle in three leaves the request to the attacks alone: it must stay unapproved.
Every answer is judged (:meth:`ServiceLoad.judge`): JSON as expected; a JSON 503 (the
database is away: acceptable, counted); a *bare* answer (a 500, or not JSON); or *lost*
(no answer: refused connection, reset, timeout).
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests_oauthlib import OAuth1

from tests.scale.cluster import FreshDatabase
from toopher_server.testing import SignedDevice, TestPhone

#: Seconds one request may take before it counts as lost.
TIMEOUT = 10.0
#: One cycle in this many sends no honest approval (the attacks alone).
ATTACKS_ONLY_EVERY = 3
DEVICE_API = "/app/api/v1"


@dataclass
class ServiceFigures:
    """What one phase (a fault, or none) did to the service's traffic."""

    name: str
    #: Requests sent, and how they were answered.
    calls: int = 0
    answered: int = 0
    unavailable_503: int = 0
    bare: int = 0
    lost: int = 0
    #: Honest approvals the service accepted; attack requests sent.
    approvals: int = 0
    attacks: int = 0
    #: Approvals without a valid signature of the request's own device that took effect
    #: (an attack answered 2xx, or a request granted that no honest approval was sent for).
    unsigned_accepted: int = 0
    #: Replayed requests (device or OAuth) the service accepted.
    replays_accepted: int = 0
    #: Seconds the fault lasted; seconds from its end until every instance verified a call.
    fault_s: float = 0.0
    recovery_s: float | None = None
    passed: bool | None = None
    problems: list[str] = field(default_factory=list)

    def add_problem(self, text: str) -> None:
        if len(self.problems) < 40:
            self.problems.append(text[:600])


def dump(figures: ServiceFigures) -> str:
    return json.dumps(figures.__dict__, indent=1, default=str)


@dataclass
class Handset:
    """One enrolled device with one enabled pairing."""

    device: SignedDevice
    pairing_id: str
    user: str


def enrol_handsets(base_url: str, api: Any, count: int) -> list[Handset]:
    """``count`` devices, each enrolled and paired (allowed on the device) with a user of
    its own, through ``base_url``; ``api`` is a ``toopher.ToopherApi`` of the requester."""
    handsets = []
    for index in range(count):
        phone = TestPhone(base_url, label=f"Fault phone {index}")
        try:
            phone.enrol()
            user = f"user{index}@example.com"
            pairing = api.pair(phone.new_phrase(), user)
            phone.allow_pairing(pairing.id)
            handsets.append(Handset(phone.device, str(pairing.id), user))
        finally:
            phone.close()
    return handsets


class _Answer:
    """A judged answer: the status and JSON body, or None when there was none."""

    def __init__(self, status: int | None, data: Any = None) -> None:
        self.status = status
        self.data = data

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class ServiceLoad:
    """Client threads sending honest and hostile traffic over ``urls`` until stopped."""

    def __init__(
        self,
        urls: list[str],
        requester: dict[str, str],
        handsets: list[Handset],
        intruder: Handset,
        *,
        threads: int,
        seed: int,
    ) -> None:
        self.urls = urls  # shared, mutable: the live instances, as a balancer sees them
        self.requester = requester
        self.handsets = handsets
        self.intruder = intruder
        self.threads = threads
        self.seed = seed
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.figures = ServiceFigures("warm-up")
        #: Requests an honest, signed approval was sent for (whatever the answer).
        self.approved: set[str] = set()
        self._workers: list[threading.Thread] = []

    # ---------------------------------------------------------------- figures

    def measure(self, name: str) -> ServiceFigures:
        """Count into new figures from now on (returned; the old ones stay as they are)."""
        with self.lock:
            self.figures = ServiceFigures(name)
            return self.figures

    def count(self, attr: str, by: int = 1) -> None:
        with self.lock:
            setattr(self.figures, attr, getattr(self.figures, attr) + by)

    def problem(self, text: str) -> None:
        with self.lock:
            self.figures.add_problem(text)

    def judge(self, what: str, send: Any) -> _Answer:
        """Send (``send()`` returns a ``requests.Response``) and judge the answer."""
        self.count("calls")
        try:
            response = send()
        except requests.RequestException:
            self.count("lost")  # an instance killed under it: a balancer retries
            return _Answer(None)
        try:
            data = response.json()
        except ValueError:
            data = None
        json_type = response.headers.get("Content-Type", "").startswith("application/json")
        if response.status_code == 503 and json_type and isinstance(data, dict):
            self.count("unavailable_503")
            return _Answer(None, data)
        if response.status_code >= 500 or not json_type or not isinstance(data, dict):
            self.count("bare")
            self.problem(f"bare {response.status_code} {what}: {response.text[:300]}")
            return _Answer(None)
        self.count("answered")
        return _Answer(response.status_code, data)

    # ---------------------------------------------------------------- threads

    def start(self) -> ServiceLoad:
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, args=(index,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self, timeout: float = 60) -> None:
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.1, deadline - time.monotonic()))

    def _run(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        handset = self.handsets[index % len(self.handsets)]
        session = requests.Session()
        session.trust_env = False
        cycle = 0
        try:
            while not self.stopping.is_set():
                cycle += 1
                try:
                    self.cycle(session, handset, rng, honest=cycle % ATTACKS_ONLY_EVERY != 0)
                except Exception as exc:  # noqa: BLE001 (a bug of the load: reported)
                    self.problem(f"load thread {index}: {type(exc).__name__}: {exc}")
                    time.sleep(0.5)
        finally:
            session.close()

    def _pair_of_instances(self, rng: random.Random) -> tuple[str, str]:
        """Two instances as a balancer picks them (the same one when only one is live)."""
        live = list(self.urls)
        first = rng.choice(live)
        second = rng.choice([url for url in live if url != first] or live)
        return first, second

    # ---------------------------------------------------------------- one cycle

    def cycle(
        self, session: requests.Session, handset: Handset, rng: random.Random, *, honest: bool
    ) -> None:
        """One authentication from the site's initiate to the phone's approval, with
        the attacks around it."""
        site, other = self._pair_of_instances(rng)
        oauth = OAuth1(self.requester["key"], client_secret=self.requester["secret"])
        initiate = requests.Request(
            "POST", f"{site}/v1/authentication_requests/initiate",
            data={"pairing_id": handset.pairing_id, "terminal_name": "Fault terminal"},
            auth=oauth,
        ).prepare()  # fmt: skip
        answer = self.judge("initiate", lambda: session.send(initiate, timeout=TIMEOUT))
        if not answer.ok:
            time.sleep(0.3)  # a site shows its error; the user tries again shortly
            return
        request_id = str(answer.data["id"])
        self._replay_oauth(session, initiate, other, "initiate")
        status = self._site_get(session, other, f"/v1/authentication_requests/{request_id}")
        if status.ok and status.data.get("granted"):
            self.count("unsigned_accepted")
            self.problem(f"{request_id} granted before any approval")
        shown = self._device_get(session, handset, site, request_id, replay_to=other)
        if shown is None:
            return
        decision = handset.device.decision(
            request_id, "allow", site=shown["site"], user=shown["user"],
            action=shown["action"], terminal=shown["terminal"],
            code=answer.data.get("verification_code"),  # number matching: what the site shows
        )  # fmt: skip
        self._attacks(session, request_id, decision, rng)
        if honest:
            self._approve(session, handset, request_id, decision, site, other)
            self._site_get(session, site, f"/v1/authentication_requests/{request_id}")

    def _site_get(self, session: requests.Session, base: str, path: str) -> _Answer:
        oauth = OAuth1(self.requester["key"], client_secret=self.requester["secret"])
        return self.judge(
            f"GET {path}", lambda: session.get(f"{base}{path}", auth=oauth, timeout=TIMEOUT)
        )

    def _replay_oauth(
        self, session: requests.Session, original: requests.PreparedRequest, other: str,
        what: str,
    ) -> None:
        """The site's accepted request again, to ``other``, byte for byte (its ``Host``
        too: behind one balancer every instance has the same name)."""
        parts = urlsplit(original.url or "")
        replay = original.copy()
        replay.url = other + parts.path + (f"?{parts.query}" if parts.query else "")
        replay.headers["Host"] = parts.netloc
        self.count("attacks")
        answer = self.judge(f"replayed {what}", lambda: session.send(replay, timeout=TIMEOUT))
        if answer.ok:
            self.count("replays_accepted")
            self.problem(f"replayed {what} accepted: {answer.data}")

    def _device_call(
        self, session: requests.Session, base: str, method: str, path: str,
        headers: dict[str, str], body: bytes = b"",
    ) -> requests.Response:
        return session.request(
            method, f"{base}{DEVICE_API}{path}", data=body or None, timeout=TIMEOUT,
            headers={**headers, **({"Content-Type": "application/json"} if body else {})},
        )  # fmt: skip

    def _device_get(
        self, session: requests.Session, handset: Handset, base: str, request_id: str,
        replay_to: str,
    ) -> dict[str, Any] | None:
        """The request as the phone shows it (a signed GET), and that GET replayed."""
        path = f"/authentication_requests/{request_id}"
        headers = handset.device.headers_for("GET", DEVICE_API + path)
        answer = self.judge("device GET", lambda: self._device_call(
            session, base, "GET", path, headers))
        if not answer.ok:
            return None
        self.count("attacks")
        replay = self.judge("replayed device GET", lambda: self._device_call(
            session, replay_to, "GET", path, headers))
        if replay.ok:
            self.count("replays_accepted")
            self.problem(f"replayed device GET of {request_id} accepted")
        return dict(answer.data)

    def _attacks(
        self, session: requests.Session, request_id: str, decision: bytes, rng: random.Random
    ) -> None:
        """An unsigned approval and one signed by another device, each to any instance."""
        path = f"/authentication_requests/{request_id}/decision"
        signed_by_intruder = self.intruder.device.headers_for("POST", DEVICE_API + path, decision)
        for what, headers in (("unsigned approval", {}),
                              ("approval signed by another device", signed_by_intruder)):
            base = rng.choice(list(self.urls))
            self.count("attacks")
            answer = self.judge(what, lambda b=base, h=headers: self._device_call(
                session, b, "POST", path, h, decision))
            if answer.ok:
                self.count("unsigned_accepted")
                self.problem(f"{what} of {request_id} accepted: {answer.data}")

    def _approve(
        self, session: requests.Session, handset: Handset, request_id: str, decision: bytes,
        site: str, other: str,
    ) -> None:
        """The honest signed approval, then the very same call replayed to ``other``."""
        path = f"/authentication_requests/{request_id}/decision"
        headers = handset.device.headers_for("POST", DEVICE_API + path, decision)
        with self.lock:
            self.approved.add(request_id)
        answer = self.judge("approval", lambda: self._device_call(
            session, site, "POST", path, headers, decision))
        if not answer.ok:
            return
        self.count("approvals")
        self.count("attacks")
        replay = self.judge("replayed approval", lambda: self._device_call(
            session, other, "POST", path, headers, decision))
        if replay.ok:
            self.count("replays_accepted")
            self.problem(f"replayed approval of {request_id} accepted: {replay.data}")
        elif replay.status is not None and replay.data.get("error") != "replay":
            self.problem(f"replayed approval refused as {replay.data.get('error')!r}, "
                         "not as a replay")


def granted_without_approval(database: FreshDatabase, approved: set[str]) -> list[str]:
    """Requests granted in the service's database that no honest approval was sent for."""
    rows = database.query(
        "SELECT id::text FROM toopher_server_authenticationrequest WHERE granted"
    )
    return [row[0] for row in rows if row[0] not in approved]
