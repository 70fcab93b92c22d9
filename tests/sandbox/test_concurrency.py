"""16 concurrent clients mix pairings, authentications, polls and phone actions against one
standalone sandbox (SQLite): every answer is right, none is a 500. Bounded: at most
``ROUNDS`` rounds a client and ``DEADLINE`` seconds in all."""

from __future__ import annotations

import threading
import time
import traceback

import pytest
import requests

import toopher
from toopher_sandbox.testing import SandboxControl

CLIENTS = 16
ROUNDS = 6
DEADLINE = 30.0


def one_round(api: toopher.ToopherApi, control: SandboxControl, name: str, grant: bool) -> None:
    """Pair a fresh phone, authenticate, poll, answer on the phone (or cancel), check."""
    phone = control.new_phone(name=name)
    pairing = api.pair(phone["pairing_phrase"], name)
    assert control.wait_for_pending(phone["phone_id"], "pairings")["id"] == pairing.id
    control.respond_pairing(pairing.id, allow=True)
    assert api.get_pairing_status(pairing.id).enabled is True
    auth = api.authenticate(pairing.id, f"terminal of {name}")
    for _ in range(3):
        assert api.get_authentication_status(auth.id).pending is True
    state = control.session.get(f"{phone['phone_url']}state", timeout=10)
    assert state.status_code == 200 and state.json()["pending"] == 1, state.text
    assert control.pending(phone["phone_id"])["authentication_requests"][0]["id"] == auth.id
    if grant:
        control.respond_authentication(auth.id, grant=True)
    else:
        api.cancel_authentication_request(auth.id)
    final = api.get_authentication_status(auth.id)
    assert (final.pending, final.granted) == (False, grant)
    control.new_phrase(phone["phone_id"])


@pytest.mark.slow
def test_sixteen_clients_at_once_never_see_an_error(toopher_sandbox_process, toopher_requester):
    failures: list[str] = []
    rounds = [0] * CLIENTS
    deadline = time.monotonic() + DEADLINE
    start = threading.Barrier(CLIENTS)

    def client(index: int) -> None:
        api = toopher.ToopherApi(toopher_requester["key"], toopher_requester["secret"],
                                 api_url=toopher_requester["api_url"])
        control = SandboxControl(toopher_sandbox_process.base_url, session=requests.Session())
        start.wait()
        try:
            for n in range(ROUNDS):
                if time.monotonic() > deadline:
                    return
                one_round(api, control, f"c{index}-r{n}@example.com", grant=(index + n) % 3 != 0)
                rounds[index] += 1
        except Exception:  # noqa: BLE001 - reported below, with the client's traceback
            failures.append(f"client {index}: {traceback.format_exc()}")
        finally:
            api.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE + 15)
    assert not failures, "\n".join(failures[:3])
    assert sum(rounds) >= CLIENTS  # every client got through at least one round
