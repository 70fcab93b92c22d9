"""The sandbox serves the service's device API unchanged: an enrolled authenticator (here
``TestPhone``) pairs and approves against the standalone sandbox as against the service."""

from __future__ import annotations

import toopher
from toopher_server.testing import TestPhone


def test_an_enrolled_device_pairs_and_approves_in_the_sandbox(
    toopher_sandbox, toopher_requester
) -> None:
    api = toopher.ToopherApi(
        toopher_requester["key"], toopher_requester["secret"], api_url=toopher_requester["api_url"]
    )
    phone = TestPhone(toopher_sandbox.base_url)
    try:
        assert phone.enrol()["device_id"] == phone.device_id
        pairing = api.pair(phone.new_phrase(), "dev@example.com")
        phone.allow_pairing(pairing.id)
        assert api.get_pairing_status(pairing.id).enabled is True
        request = api.authenticate(pairing.id, "Firefox", "Log in")
        assert phone.wait_for_request(request.id)["terminal"] == "Firefox"
        assert request.verification_code in phone.wait_for_request(request.id)["codes"]
        phone.allow(request.id, request.verification_code)
        assert api.get_authentication_status(request.id).granted is True
    finally:
        api.close()
        phone.close()
