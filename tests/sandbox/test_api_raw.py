"""API v1 over raw HTTP: JSON shapes (§2), parameter aliases (§8), errors and bad input."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from requests_oauthlib import OAuth1

from .oauth_forge import auth_header, oauth_params, sign

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class Api:
    """Signed raw calls for one requester."""

    def __init__(self, requester):
        self.url = requester["api_url"]
        self.auth = OAuth1(requester["key"], requester["secret"])
        self.requester = requester

    def get(self, path, **params):
        return requests.get(f"{self.url}/{path}", params=params, auth=self.auth, timeout=10)

    def post(self, path, **data):
        return requests.post(f"{self.url}/{path}", data=data, auth=self.auth, timeout=10)

    def ok(self, method, path, **kw):
        response = getattr(self, method)(path, **kw)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("application/json")
        return response.json()


@pytest.fixture
def api(toopher_requester):
    return Api(toopher_requester)


@pytest.fixture
def pairing(api, toopher_sandbox, toopher_phone):
    data = api.ok("post", "pairings/create", pairing_phrase=toopher_phone.pairing_phrase,
                  user_name="ann")
    toopher_sandbox.respond_pairing(data["id"], allow=True)
    return api.ok("get", f"pairings/{data['id']}")


def assert_user(user, name):
    assert UUID4.match(user["id"])
    assert user["name"] == name
    assert isinstance(user["toopher_authentication_enabled"], bool)
    assert user["disable_toopher_auth"] is (not user["toopher_authentication_enabled"])
    assert isinstance(user["requester"], dict)


def test_shapes_and_legacy_aliases(api, pairing, toopher_sandbox):
    assert UUID4.match(pairing["id"])
    assert (pairing["pending"], pairing["enabled"], pairing["deactivated"]) == (False, True, False)
    assert pairing["totp_length"] == 6 and pairing["reason_code"] == 0
    assert_user(pairing["user"], "ann")

    terminal = api.ok("post", "user_terminals/create", user_name="ann", name="pc",
                      name_extra="t-1")
    assert UUID4.match(terminal["id"])
    assert terminal["requester_specified_id"] == terminal["name_extra"] == "t-1"
    assert_user(terminal["user"], "ann")

    auth = api.ok("post", "authentication_requests/initiate", pairing_id=pairing["id"],
                  terminal_name="pc", terminal_name_extra="t-1")
    assert UUID4.match(auth["id"])
    assert auth["pending"] is True and auth["granted"] is False and auth["automated"] is False
    assert auth["reason"] == "" and auth["reason_code"] == 0
    assert isinstance(auth["reason_code"], int) and auth["totp_valid"] is False
    assert auth["terminal"]["id"] == terminal["id"]
    assert auth["pairing"]["id"] == pairing["id"]
    assert UUID4.match(auth["action"]["id"]) and auth["action"]["name"] == "Log in"
    assert_user(auth["user"], "ann")


def test_error_body_is_integer_code(api):
    response = api.post("authentication_requests/initiate", user_name="nobody",
                        terminal_name_extra="x")
    assert response.status_code == 409
    assert response.json() == {"error_code": 705, "error_message": "No matching user exists."}


def test_success_without_content_is_empty_object(api, pairing):
    assert api.ok("post", "users/reset", user_name="ann") == {}
    assert api.ok("post", f"pairings/{pairing['id']}/send_reset_link",
                  reset_email="a@example.com") == {}


# --- aliases (§8) ---------------------------------------------------------------------------


def test_pairing_token_alias(api, toopher_sandbox):
    phone = toopher_sandbox.new_phone()
    data = api.ok("post", "pairings/create", pairing_token=phone["pairing_phrase"].upper(),
                  user_name="radius")
    assert data["pending"] is True


def test_pair_with_user_id_renames(api, toopher_sandbox):
    user = api.ok("post", "users/create", name="old name")
    phone = toopher_sandbox.new_phone()
    data = api.ok("post", "pairings/create", pairing_phrase=phone["pairing_phrase"],
                  user_id=user["id"], user_name="new name")
    assert data["user"]["id"] == user["id"] and data["user"]["name"] == "new name"


@pytest.mark.parametrize("key_param", ["requester_specified_terminal_id", "terminal_name_extra"])
def test_initiate_terminal_aliases(api, pairing, key_param):
    api.ok("post", "user_terminals/create", user_name="ann", name="pc", name_extra="k1")
    auth = api.ok("post", "authentication_requests/initiate", user_name="ann",
                  **{key_param: "k1"})
    assert auth["terminal"]["name"] == "pc"


@pytest.mark.parametrize("action_param", ["action_name", "action"])
def test_action_aliases(api, pairing, action_param):
    auth = api.ok("post", "authentication_requests/initiate", pairing_id=pairing["id"],
                  terminal_name="pc", **{action_param: "Wire money"})
    assert auth["action"]["name"] == "Wire money"


def test_initiate_empty_values_count_as_absent(api, pairing):
    # Python 1.1 and Radius send pairing_id="" and terminal_name="" with user_name.
    api.ok("post", "user_terminals/create", user_name="ann", name="pc", name_extra="k1")
    auth = api.ok("post", "authentication_requests/initiate", pairing_id="", terminal_name="",
                  user_name="ann", terminal_name_extra="k1", action_name="")
    assert auth["terminal"]["name"] == "pc" and auth["action"]["name"] == "Log in"


def test_initiate_with_name_creates_terminal(api, pairing):
    auth = api.ok("post", "authentication_requests/initiate", user_name="ann",
                  terminal_name="new box", requester_specified_terminal_id="k9")
    assert auth["terminal"]["requester_specified_id"] == "k9"
    again = api.ok("post", "authentication_requests/initiate", user_name="ann",
                   requester_specified_terminal_id="k9")
    assert again["terminal"]["id"] == auth["terminal"]["id"]


def test_same_terminal_name_with_other_extra_is_another_terminal(api, pairing):
    a = api.ok("post", "authentication_requests/initiate", pairing_id=pairing["id"],
               terminal_name="PC", terminal_name_extra="cookie-a")
    b = api.ok("post", "authentication_requests/initiate", pairing_id=pairing["id"],
               terminal_name="PC", terminal_name_extra="cookie-b")
    assert a["terminal"]["id"] != b["terminal"]["id"]


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "pc", "name_extra": "e1"},
        {"name": "pc", "requester_specified_id": "e1"},
        {"terminal_name": "pc", "requester_specified_id": "e1"},
        {"name": "pc", "terminal_name_extra": "e1"},
    ],
)
def test_terminal_create_aliases(api, pairing, fields):
    terminal = api.ok("post", "user_terminals/create", user_name="ann", **fields)
    assert (terminal["name"], terminal["requester_specified_id"]) == ("pc", "e1")


@pytest.mark.parametrize("param", ["name", "user_name"])
def test_users_by_name_aliases(api, param):
    api.ok("post", "users/create", name="findme")
    assert [u["name"] for u in api.ok("get", "users", **{param: "findme"})] == ["findme"]


@pytest.mark.parametrize("param", ["user_name", "name"])
def test_users_reset_aliases(api, pairing, param):
    api.ok("post", "users/reset", **{param: "ann"})
    assert api.ok("get", f"pairings/{pairing['id']}")["deactivated"] is True


@pytest.mark.parametrize(
    ("fields", "enabled"),
    [
        ({"toopher_authentication_enabled": "false"}, False),
        ({"toopher_authentication_enabled": "False"}, False),
        ({"disable_toopher_auth": "True"}, False),
        ({"disable_toopher_auth": "TRUE", "toopher_authentication_enabled": "false"}, False),
        ({"toopher_authentication_enabled": "true"}, True),
        ({"disable_toopher_auth": "0"}, True),
    ],
)
def test_user_update_flags(api, fields, enabled):
    user = api.ok("post", "users/create", name="flags")
    updated = api.ok("post", f"users/{user['id']}", **fields)
    assert updated["toopher_authentication_enabled"] is enabled
    assert updated["disable_toopher_auth"] is (not enabled)


@pytest.mark.parametrize("value", ["False", "false", "FALSE", "0"])
def test_booleans_case_insensitive(api, pairing, toopher_sandbox, value):
    first = api.ok("post", "authentication_requests/initiate", pairing_id=pairing["id"],
                   terminal_name="pc")
    toopher_sandbox.respond_authentication(first["id"], grant=True, automate=True)
    auto = api.ok("post", "authentication_requests/initiate", pairing_id=pairing["id"],
                  terminal_name="pc", automation_allowed="True")
    assert auto["automated"] is True
    manual = api.ok("post", "authentication_requests/initiate", pairing_id=pairing["id"],
                    terminal_name="pc", automation_allowed=value)
    assert manual["pending"] is True and manual["automation_allowed"] is False


def test_pairing_update_deactivates(api, pairing):
    data = api.ok("post", f"pairings/{pairing['id']}", deactivated="True")
    assert data["deactivated"] is True
    response = api.post("authentication_requests/initiate", pairing_id=pairing["id"],
                        terminal_name="pc")
    assert response.json()["error_code"] == 707


def test_user_pairings_filter(api, pairing, toopher_sandbox):
    phone = toopher_sandbox.new_phone()
    second = api.ok("post", "pairings/create", pairing_phrase=phone["pairing_phrase"],
                    user_name="ann")
    api.ok("post", f"pairings/{pairing['id']}", deactivated="true")
    user_id = pairing["user"]["id"]
    assert len(api.ok("get", f"users/{user_id}/pairings")) == 2
    active = api.ok("get", f"users/{user_id}/pairings", deactivated="0")
    assert [p["id"] for p in active] == [second["id"]]


def test_cancel(api, pairing):
    auth = api.ok("post", "authentication_requests/initiate", pairing_id=pairing["id"],
                  terminal_name="pc")
    cancelled = api.ok("post", f"authentication_requests/{auth['id']}/cancel")
    assert (cancelled["pending"], cancelled["granted"], cancelled["cancelled"]) == (
        False, False, True)


def test_denied_pairing_is_601(api, toopher_sandbox):
    phone = toopher_sandbox.new_phone()
    data = api.ok("post", "pairings/create", pairing_phrase=phone["pairing_phrase"],
                  user_name="den")
    toopher_sandbox.respond_pairing(data["id"], allow=False)
    response = api.post("authentication_requests/initiate", user_name="den", terminal_name="x")
    assert response.status_code == 409
    assert response.json() == {
        "error_code": 601,
        "error_message": "This pairing has not been authorized to authenticate.",
    }


def test_reset_link_with_security_question(api, pairing):
    link = api.ok("post", f"pairings/{pairing['id']}/generate_reset_link",
                  security_question="Pet?", security_answer="Rex")["url"]
    session = requests.Session()
    page = session.get(link, timeout=10)
    assert page.status_code == 200 and "Pet?" in page.text
    token = session.cookies.get("csrftoken")
    wrong = session.post(link, data={"answer": "Max", "csrfmiddlewaretoken": token}, timeout=10)
    assert wrong.status_code == 400
    assert api.ok("get", f"pairings/{pairing['id']}")["deactivated"] is False
    done = session.post(link, data={"answer": "rex", "csrfmiddlewaretoken": token}, timeout=10)
    assert done.status_code == 200 and "has been reset" in done.text
    assert api.ok("get", f"pairings/{pairing['id']}")["deactivated"] is True
    assert session.get(link, timeout=10).status_code == 404  # one time only


# --- bad input: 4xx JSON, nothing changes --------------------------------------------------------


def assert_4xx_json(response, status=400):
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error_code"], int) and body["error_message"]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("pairings/create", {"user_name": "x"}),
        ("pairings/create", {"pairing_phrase": "", "user_name": "x"}),
        ("pairings/create", {"pairing_phrase": "   ", "user_name": "x"}),
        ("pairings/create/qr", {}),
        ("pairings/create/sms", {"user_name": "x"}),
        ("authentication_requests/initiate", {}),
        ("authentication_requests/initiate", {"pairing_id": "", "user_name": ""}),
        ("users/create", {}),
        ("users/create", {"name": "x" * 201}),
        ("users/reset", {}),
        ("user_terminals/create", {"user_name": "ann", "name": "pc"}),
        ("authentication_requests/initiate", {"user_name": "a", "automation_allowed": "maybe"}),
        ("pairings/create/sms", {"user_name": "x", "phone_number": "5" * 500}),
    ],
)
def test_missing_wrong_or_huge_parameters_are_400(api, path, data):
    assert_4xx_json(api.post(path, **data))


def test_users_without_name_is_400(api):
    assert_4xx_json(api.get("users"))


def test_huge_value_is_rejected(api):
    assert_4xx_json(api.post("users/create", name="x" * 100_000))
    assert api.ok("get", "users", name="x" * 200) == []


def test_too_large_body_is_413(api):
    response = api.post("users/create", name="x", padding="y" * 400_000)
    assert response.status_code == 413
    assert response.json()["error_code"] == 413


@pytest.mark.parametrize(
    "bad_id", ["not-a-uuid", "0" * 300, str(uuid.uuid4()).upper() + "x"],
    ids=["not-a-uuid", "too-long", "uuid-and-more"],  # the same ids in every xdist worker
)
def test_malformed_ids_are_404(api, bad_id):
    for path in (f"pairings/{bad_id}", f"users/{bad_id}", f"user_terminals/{bad_id}",
                 f"authentication_requests/{bad_id}"):
        assert_4xx_json(api.get(path), 404)


def test_unknown_pairing_id_on_initiate_is_404(api):
    assert_4xx_json(api.post("authentication_requests/initiate", pairing_id=str(uuid.uuid4()),
                             terminal_name="x"), 404)
    assert_4xx_json(api.post("authentication_requests/initiate", pairing_id="garbage",
                             terminal_name="x"), 404)


def test_wrong_method_is_405(api):
    assert_4xx_json(api.get("users/create"), 405)
    assert_4xx_json(api.post("users", name="x"), 405)


def _signed_raw(requester, path, body: bytes, query: str = ""):
    """POST raw body bytes with a header signature over the query only."""
    url = f"{requester['api_url']}/{path}"
    oauth = oauth_params(requester["key"])
    sig = sign("POST", url, oauth, requester["secret"])
    return requests.post(
        f"{url}{'?' + query if query else ''}", data=body, timeout=10,
        headers={"Authorization": auth_header(oauth + [("oauth_signature", sig)]),
                 "Content-Type": "application/x-www-form-urlencoded"},
    )


@pytest.mark.parametrize(
    "body",
    [b"name=%FF%FE", b"name=\xff\xfe", b"name=caf%C3", b"name=caf\xc3"],
)
def test_invalid_utf8_in_body_is_400(toopher_requester, api, body):
    assert_4xx_json(_signed_raw(toopher_requester, "users/create", body))
    assert api.ok("get", "users", name="caf") == []


def test_nul_in_parameter_is_400(api):
    assert_4xx_json(api.post("users/create", name="a\x00b"))
    assert api.ok("get", "users", name="ab") == []


def test_invalid_utf8_in_query_is_400(toopher_requester):
    url = f"{toopher_requester['api_url']}/users?name=%FF"
    response = requests.get(
        url, auth=OAuth1(toopher_requester["key"], toopher_requester["secret"]), timeout=10
    )
    assert_4xx_json(response)


def test_unicode_names_work(api):
    user = api.ok("post", "users/create", name="Zoë Ørsted 測試")
    assert api.ok("get", f"users/{user['id']}")["name"] == "Zoë Ørsted 測試"


def test_v1_root_answers_without_signature(toopher_requester):
    response = requests.get(toopher_requester["api_url"], timeout=10)
    assert response.status_code == 200
    assert response.json()["api_url"] == toopher_requester["api_url"]


@pytest.mark.parametrize("path", ["v1/nothing", "v1/pairings/create/", "v1/users/a/b/c",
                                  "control/nothing", "control/phones/x/y/z"])
def test_unknown_paths_are_json_404(toopher_sandbox, path):
    for method in ("GET", "POST"):
        response = requests.request(method, f"{toopher_sandbox.base_url}/{path}", timeout=10)
        assert_4xx_json(response, 404)
