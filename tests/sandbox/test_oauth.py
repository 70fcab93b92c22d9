"""OAuth 1.0a verification of API v1 (spec §1.3), against the live sandbox."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
import requests
from oauthlib.oauth1 import Client
from requests_oauthlib import OAuth1

from .oauth_forge import auth_header, oauth_params, query_signed_url, sign

OAUTH_ERROR = {"error_code": 401, "error_message": "Not a valid OAuth signed request"}


def users_url(requester):
    return f"{requester['api_url']}/users"


def create_user(requester, name):
    response = requests.post(
        f"{requester['api_url']}/users/create", data={"name": name},
        auth=OAuth1(requester["key"], requester["secret"]), timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("signature_type", ["AUTH_HEADER", "QUERY"])
def test_get_signed_in_header_or_query(toopher_requester, signature_type):
    create_user(toopher_requester, "ann")
    auth = OAuth1(
        toopher_requester["key"], toopher_requester["secret"], signature_type=signature_type
    )
    response = requests.get(
        users_url(toopher_requester), params={"name": "ann"}, auth=auth, timeout=10
    )
    assert response.status_code == 200, response.text
    assert [u["name"] for u in response.json()] == ["ann"]


@pytest.mark.parametrize("signature_type", ["AUTH_HEADER", "QUERY", "BODY"])
def test_post_signed_in_header_query_or_body(toopher_requester, signature_type):
    auth = OAuth1(
        toopher_requester["key"], toopher_requester["secret"], signature_type=signature_type
    )
    response = requests.post(
        f"{toopher_requester['api_url']}/users/create", data={"name": f"via {signature_type}"},
        auth=auth, timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == f"via {signature_type}"


def test_wrong_secret_is_401_json(toopher_requester):
    auth = OAuth1(toopher_requester["key"], toopher_requester["secret"] + "x")
    response = requests.post(
        f"{toopher_requester['api_url']}/users/create", data={"name": "nope"}, auth=auth, timeout=10
    )
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == OAUTH_ERROR
    assert requests.get(
        users_url(toopher_requester), params={"name": "nope"},
        auth=OAuth1(toopher_requester["key"], toopher_requester["secret"]), timeout=10,
    ).json() == []


def test_tampered_parameter_is_401(toopher_requester):
    url = query_signed_url(
        users_url(toopher_requester),
        [("name", "ann")],
        toopher_requester["key"],
        toopher_requester["secret"],
    )
    response = requests.get(url.replace("name=ann", "name=bob"), timeout=10)
    assert response.status_code == 401
    assert response.json() == OAUTH_ERROR


def test_unknown_key_and_missing_oauth_are_401(toopher_requester):
    auth = OAuth1("no-such-key", toopher_requester["secret"])
    assert requests.get(users_url(toopher_requester), params={"name": "a"}, auth=auth,
                        timeout=10).status_code == 401
    response = requests.get(users_url(toopher_requester), params={"name": "a"}, timeout=10)
    assert response.status_code == 401
    assert response.json() == OAUTH_ERROR


def test_replayed_nonce_is_401(toopher_requester):
    client = Client(toopher_requester["key"], client_secret=toopher_requester["secret"])
    uri, headers, _ = client.sign(f"{users_url(toopher_requester)}?name=ann", http_method="GET")
    first = requests.get(uri, headers=headers, timeout=10)
    assert first.status_code == 200, first.text
    replay = requests.get(uri, headers=headers, timeout=10)
    assert replay.status_code == 401
    assert replay.json() == OAUTH_ERROR


def test_same_nonce_under_another_key_is_fine(toopher_sandbox, toopher_requester):
    other = toopher_sandbox.new_requester()
    for creds in (toopher_requester, other):
        url = query_signed_url(users_url(creds), [("name", "x")], creds["key"], creds["secret"],
                               nonce="sharednonce123")
        assert requests.get(url, timeout=10).status_code == 200


@pytest.mark.parametrize("skew", [-3600, 3600, -301])
def test_timestamp_outside_window_is_401(toopher_requester, skew):
    client = Client(toopher_requester["key"], client_secret=toopher_requester["secret"],
                    timestamp=str(int(time.time()) + skew))
    uri, headers, _ = client.sign(f"{users_url(toopher_requester)}?name=ann", http_method="GET")
    response = requests.get(uri, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json() == OAUTH_ERROR


def test_timestamp_inside_window_is_fine(toopher_requester):
    client = Client(toopher_requester["key"], client_secret=toopher_requester["secret"],
                    timestamp=str(int(time.time()) - 200))
    uri, headers, _ = client.sign(f"{users_url(toopher_requester)}?name=ann", http_method="GET")
    assert requests.get(uri, headers=headers, timeout=10).status_code == 200


def test_only_hmac_sha1(toopher_requester):
    auth = OAuth1(
        toopher_requester["key"], toopher_requester["secret"], signature_method="PLAINTEXT"
    )
    response = requests.get(
        users_url(toopher_requester), params={"name": "a"}, auth=auth, timeout=10
    )
    assert response.status_code == 401


def test_extra_oauth_parameter_is_signed_and_accepted(toopher_requester):
    # python-oauth2 1.5 adds oauth_body_hash to GET requests (spec §1.3).
    url = query_signed_url(
        users_url(toopher_requester),
        [("name", "ann")],
        toopher_requester["key"],
        toopher_requester["secret"],
        oauth_body_hash="2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
    )
    assert requests.get(url, timeout=10).status_code == 200


def test_dotnet_duplicates_between_query_and_body(toopher_requester):
    """.NET sends the same parameters in the query and the body (spec §1.3)."""
    url = f"{toopher_requester['api_url']}/users/create"
    params = [("name", "dotnet user")]
    for signed in (params, params + params):  # collapsed, then RFC-strict
        oauth = oauth_params(toopher_requester["key"])
        sig = sign("POST", url, signed + oauth, toopher_requester["secret"])
        response = requests.post(
            f"{url}?{urlencode(params)}", data=dict(params),
            headers={"Authorization": auth_header(oauth + [("oauth_signature", sig)])},
            timeout=10,
        )
        if signed is params:
            assert response.status_code == 200, response.text
        else:  # same user again: signature accepted, then a 409 for the duplicate name
            assert response.status_code == 409, response.text


def test_requesters_are_isolated(toopher_sandbox, toopher_requester, toopher_phone):
    mine = OAuth1(toopher_requester["key"], toopher_requester["secret"])
    other = toopher_sandbox.new_requester()
    theirs = OAuth1(other["key"], other["secret"])
    api = toopher_requester["api_url"]
    pairing = requests.post(f"{api}/pairings/create", auth=mine, timeout=10, data={
        "pairing_phrase": toopher_phone.pairing_phrase, "user_name": "ann"}).json()
    toopher_sandbox.respond_pairing(pairing["id"], allow=True)
    user_id = pairing["user"]["id"]
    terminal = requests.post(f"{api}/user_terminals/create", auth=mine, timeout=10, data={
        "user_name": "ann", "name": "pc", "name_extra": "t1"}).json()
    auth = requests.post(f"{api}/authentication_requests/initiate", auth=mine, timeout=10,
                         data={"pairing_id": pairing["id"], "terminal_name": "pc"}).json()

    forbidden = [
        ("GET", f"pairings/{pairing['id']}", {}),
        ("POST", f"pairings/{pairing['id']}", {"deactivated": "true"}),
        ("GET", f"qr/pairings/{pairing['id']}", {}),
        ("POST", f"pairings/{pairing['id']}/generate_reset_link", {}),
        ("POST", "authentication_requests/initiate", {"pairing_id": pairing["id"]}),
        ("GET", f"authentication_requests/{auth['id']}", {}),
        ("POST", f"authentication_requests/{auth['id']}/otp_auth", {"otp": "123456"}),
        ("GET", f"users/{user_id}", {}),
        ("POST", f"users/{user_id}", {"toopher_authentication_enabled": "false"}),
        ("GET", f"users/{user_id}/pairings", {}),
        ("GET", f"user_terminals/{terminal['id']}", {}),
        ("POST", f"user_terminals/{terminal['id']}", {"name_extra": "x"}),
    ]
    for method, path, data in forbidden:
        kwargs = {"params": data} if method == "GET" else {"data": data}
        response = requests.request(method, f"{api}/{path}", auth=theirs, timeout=10, **kwargs)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error_code"] == 403
    assert requests.get(f"{api}/users", params={"name": "ann"}, auth=theirs,
                        timeout=10).json() == []
    for path, data in [("authentication_requests/initiate", {"user_name": "ann"}),
                       ("users/reset", {"user_name": "ann"})]:
        response = requests.post(f"{api}/{path}", data=data, auth=theirs, timeout=10)
        assert response.json()["error_code"] == 705
    # Nothing changed for the owner.
    check = requests.get(f"{api}/pairings/{pairing['id']}", auth=mine, timeout=10).json()
    assert (check["enabled"], check["deactivated"]) == (True, False)
    assert check["user"]["toopher_authentication_enabled"] is True
    assert requests.get(f"{api}/user_terminals/{terminal['id']}", auth=mine,
                        timeout=10).json()["name_extra"] == "t1"
    assert requests.get(f"{api}/authentication_requests/{auth['id']}", auth=mine,
                        timeout=10).json()["pending"] is True


@pytest.mark.parametrize("where", ["header", "query", "body", "header+query", "header+body"])
@pytest.mark.parametrize("token", ["", "a-token"])
def test_an_oauth_token_anywhere(toopher_requester, where, token):
    """Two-legged: a correctly signed request with an empty ``oauth_token`` is no token;
    a non-empty one, or one beside the other oauth_ parameters' place, is a 401 JSON."""
    create_user(toopher_requester, "tok")
    url = users_url(toopher_requester)
    params = [("name", "tok")]
    oauth = oauth_params(toopher_requester["key"], oauth_token=token)
    method = "POST" if "body" in where else "GET"
    if method == "POST":
        url = f"{toopher_requester['api_url']}/users/create"
        params = [("name", f"tok-{where.replace('+', '-')}-{len(token)}")]
    headers, query, body = {}, list(params) if method == "GET" else [], []
    if method == "POST":
        body = list(params)
    if where == "header+query":  # the token apart from the other oauth_ parameters
        oauth = oauth_params(toopher_requester["key"])
        query.append(("oauth_token", token))
    if where == "header+body":
        oauth = oauth_params(toopher_requester["key"])
        body.append(("oauth_token", token))
    signed = oauth + [("oauth_signature", sign(method, url, query + body + oauth,
                                               toopher_requester["secret"]))]
    if where.startswith("header"):
        headers["Authorization"] = auth_header(signed)
    elif where == "query":
        query += signed
    else:
        body += signed
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    response = requests.request(method, url, params=query, data=urlencode(body) or None,
                                headers=headers, timeout=10)
    alone = where in {"header", "query", "body"}
    if alone and not token:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 401, response.text
        assert response.json() == OAUTH_ERROR
