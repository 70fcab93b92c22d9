"""The iframe (spec §5) against the live sandbox, driven like a browser, checked with
``toopher.ToopherIframe``."""

from __future__ import annotations

import html
import json
import re
import time
from urllib.parse import urlencode

import pytest
import requests

import toopher
from toopher.errors import PairingDeactivatedError, UserDisabledError, UserUnknownError

from .oauth_forge import query_signed_url


class Frame:
    """A browser session inside the iframe."""

    def __init__(self, base_url: str):
        self.session = requests.Session()
        self.flow_url = None
        self.base_url = base_url
        self.page = ""

    def open(self, url: str) -> str:
        response = self.session.get(url, timeout=10)
        return self._keep(response)

    def _keep(self, response) -> str:
        self.status = response.status_code
        self.page = response.text
        return self.mode

    @property
    def mode(self) -> str:
        return re.search(r'data-mode="([a-z_]+)"', self.page)[1]

    @property
    def state(self) -> str:
        return html.unescape(re.search(r'name="state" value="([^"]+)"', self.page)[1])

    @property
    def origin(self) -> str:
        return "/".join(self.base_url.split("/", 3)[:3])

    @property
    def refresh_url(self) -> str:
        return self.origin + html.unescape(re.search(r'url=([^"]+)">', self.page)[1])

    def post(self, action: str, **fields) -> str:
        action_url = html.unescape(re.search(r'<form method="post" action="([^"]+)"',
                                             self.page)[1])
        response = self.session.post(self.origin + action_url, timeout=10,
                                     data={"state": self.state, "action": action, **fields})
        return self._keep(response)

    def refresh(self) -> str:
        return self._keep(self.session.get(self.refresh_url, timeout=10))

    @property
    def payload(self) -> dict:
        raw = re.search(r'<script id="toopher-payload" type="application/json">(.*?)</script>',
                        self.page, re.S)[1]
        return json.loads(raw)


@pytest.fixture
def tools(toopher_requester, toopher_sandbox):
    api = toopher.ToopherApi(
        toopher_requester["key"], toopher_requester["secret"], api_url=toopher_requester["api_url"]
    )
    iframe = toopher.ToopherIframe(toopher_requester["key"], toopher_requester["secret"],
                                   api_url=toopher_requester["api_url"])
    return api, iframe, Frame(toopher_sandbox.base_url)


def test_authenticate_with_inline_pairing_and_terminal_naming(
    tools, toopher_sandbox, toopher_phone
):
    api, iframe, frame = tools
    url = iframe.get_authentication_url("ivy", reset_email="ivy@example.com",
                                        request_token="tok123", requester_metadata="meta")
    assert frame.open(url) == "pair"
    assert frame.post("pair", pairing_phrase="no such phrase") == "pair"
    assert "not waiting on any phone" in frame.page
    assert frame.post("pair", pairing_phrase=toopher_phone.pairing_phrase) == "wait_pairing"
    pending = toopher_sandbox.wait_for_pending(toopher_phone.phone_id, kind="pairings")
    toopher_sandbox.respond_pairing(pending["id"], allow=True)
    assert frame.refresh() == "name_terminal"
    assert frame.post("name_terminal", terminal_name="Ivy's laptop") == "wait_auth"
    shown = toopher_sandbox.wait_for_pending(toopher_phone.phone_id)
    assert (shown["terminal_name"], shown["action_name"]) == ("Ivy's laptop", "Log In")
    toopher_sandbox.respond_authentication(shown["id"], grant=True)
    assert frame.refresh() == "result"

    payload = frame.payload
    assert payload["resource_type"] == "authentication_request"
    assert (payload["session_token"], payload["requester_metadata"]) == ("tok123", "meta")
    assert payload["granted"] == "true" and payload["pending"] == "false"
    result = iframe.process_postback(payload, request_token="tok123")
    assert result.granted is True and result.terminal_name == "Ivy's laptop"
    # The 2.0 helper posts one field, toopher_iframe_data.
    assert iframe.is_authentication_granted({"toopher_iframe_data": urlencode(payload)},
                                            request_token="tok123")

    # Same browser, next login: the terminal is remembered, the phone is asked at once.
    url = iframe.get_authentication_url("ivy", request_token="tok456")
    assert frame.open(url) == "wait_auth"
    shown = toopher_sandbox.wait_for_pending(toopher_phone.phone_id)
    assert shown["terminal_name"] == "Ivy's laptop"
    toopher_sandbox.respond_authentication(shown["id"], grant=False, reason="no")
    assert frame.refresh() == "result"
    assert iframe.is_authentication_granted(frame.payload, request_token="tok456") is False


def paired_user(api, sandbox, phone, name):
    pairing = api.pair(phone.pairing_phrase, name)
    sandbox.respond_pairing(pairing.id, allow=True)
    return pairing


def test_otp_fallback_and_reset_email(tools, toopher_sandbox, toopher_phone):
    api, iframe, frame = tools
    pairing = paired_user(api, toopher_sandbox, toopher_phone, "otto")
    frame.open(iframe.get_authentication_url("otto", reset_email="otto@example.com"))
    assert frame.mode == "name_terminal"
    assert frame.post("name_terminal", terminal_name="Desk") == "wait_auth"
    assert frame.post("reset") == "wait_auth"
    assert "reset link was sent" in frame.page
    assert any(m["to"] == "otto@example.com" for m in toopher_sandbox.messages())
    assert frame.post("otp", otp=toopher_sandbox.otp(pairing.id)) == "result"
    result = iframe.process_postback(frame.payload)
    assert result.granted is True and result.raw["reason"] == "OTP valid"


@pytest.mark.parametrize("setup", ["disabled", "deactivated", "unknown"])
def test_error_results_are_signed(tools, toopher_sandbox, toopher_phone, setup):
    api, iframe, frame = tools
    expected = {"disabled": UserDisabledError, "deactivated": PairingDeactivatedError,
                "unknown": UserUnknownError}[setup]
    if setup != "unknown":
        pairing = paired_user(api, toopher_sandbox, toopher_phone, "err")
        if setup == "disabled":
            api.set_toopher_enabled_for_user("err", False)
        else:
            toopher_sandbox.deactivate_pairing(pairing.id)
    url = iframe.get_authentication_url("err", request_token="t", allow_inline_pairing=False)
    assert frame.open(url) == "result"
    with pytest.raises(expected):
        iframe.process_postback(frame.payload, request_token="t")
    assert iframe.is_authentication_granted(frame.payload, request_token="t") is (
        setup == "disabled")


def test_manage_user_pairs_then_manages(tools, toopher_sandbox, toopher_phone):
    api, iframe, frame = tools
    assert frame.open(iframe.get_user_management_url("mia")) == "pair"
    assert frame.post("pair", pairing_phrase=toopher_phone.pairing_phrase) == "wait_pairing"
    toopher_sandbox.respond_pairing(
        toopher_sandbox.wait_for_pending(toopher_phone.phone_id, "pairings")["id"]
    )
    assert frame.refresh() == "result"
    pairing = iframe.process_postback(frame.payload)
    assert pairing.enabled is True and pairing.user_name == "mia"

    assert frame.open(iframe.get_user_management_url("mia")) == "manage"
    assert frame.post("disable") == "result"
    user = iframe.process_postback(frame.payload)
    assert user.raw["toopher_authentication_enabled"] == "false"
    assert api.get_user_by_name("mia").raw["toopher_authentication_enabled"] is False

    assert frame.open(iframe.get_user_management_url("mia")) == "manage"
    assert frame.post("unpair") == "result"
    assert iframe.process_postback(frame.payload).enabled is False
    assert api.get_pairing_status(pairing.id).raw["deactivated"] is True


def test_entry_url_is_checked(tools):
    api, iframe, frame = tools
    url = iframe.get_authentication_url("a")
    assert frame.open(url) == "pair"
    frame.open(url)  # the same nonce again
    assert (frame.status, frame.mode) == (401, "error")
    frame.open(iframe.get_authentication_url("a").replace("username=a", "username=b"))
    assert frame.status == 401
    frame.open(iframe.get_authentication_url("a", timestamp=int(time.time()) - 3600))
    assert frame.status == 401  # outside the OAuth clock window


def test_expired_url_is_refused(tools, toopher_requester):
    url = query_signed_url(f"{toopher_requester['api_url']}/web/authenticate",
                           [("username", "a"), ("v", "2"), ("expires", str(int(time.time()) - 5))],
                           toopher_requester["key"], toopher_requester["secret"])
    frame = tools[2]
    frame.open(url)
    assert (frame.status, frame.mode) == (403, "error") and "expired" in frame.page


def test_tampered_state_is_refused(tools):
    api, iframe, frame = tools
    frame.open(iframe.get_authentication_url("a"))
    response = frame.session.post(frame.base_url + "/v1/web/flow",
                                  data={"state": frame.state[:-3] + "xyz", "action": "pair"},
                                  timeout=10)
    assert response.status_code == 400


def test_helper_script_and_error_page(toopher_sandbox):
    js = requests.get(f"{toopher_sandbox.base_url}/static/toopher-web.js", timeout=10)
    assert js.status_code == 200 and "toopher-api-complete" in js.text
    page = requests.get(f"{toopher_sandbox.api_url}/web/error.html", params={"message": "<b>x</b>"},
                        timeout=10)
    assert page.status_code == 200 and "&lt;b&gt;x&lt;/b&gt;" in page.text


def test_v1_host_page_appends_unsigned_terminal_name(tools, toopher_sandbox, toopher_phone):
    api, iframe, frame = tools
    paired_user(api, toopher_sandbox, toopher_phone, "wp")
    url = iframe.get_signed_url("web/auth", {"username": "wp", "action_name": "Log In"})
    assert frame.open(url + "&terminal_name=" + "Front%20desk") == "wait_auth"
    assert toopher_sandbox.wait_for_pending(toopher_phone.phone_id)["terminal_name"] == "Front desk"
    # Any other unsigned addition still breaks the signature.
    url = iframe.get_signed_url("web/auth", {"username": "wp"})
    frame.open(url + "&action_name=Pay")
    assert frame.status == 401


def test_oauth_token_in_the_entry_url(tools, toopher_requester):
    """Two-legged: an empty oauth_token is no token; a real one is refused, never a 500."""
    frame = tools[2]
    params = [("username", "a"), ("v", "2"), ("expires", str(int(time.time()) + 300))]
    url = f"{toopher_requester['api_url']}/web/authenticate"
    frame.open(query_signed_url(url, params, toopher_requester["key"], toopher_requester["secret"],
                                oauth_token=""))
    assert frame.status == 200 and frame.mode == "pair"
    frame.open(query_signed_url(url, params, toopher_requester["key"], toopher_requester["secret"],
                                oauth_token="a-token"))
    assert (frame.status, frame.mode) == (401, "error")
