"""ToopherIframe: the spec vectors of §1.6 and §5.7, and postback validation (§5.6)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

import toopher
from toopher.iframe import ToopherIframe, encode_postback, postback_signature

from .oauth_check import signature as rfc5849_signature

KEY, SECRET = "abcdefg", "hijklmnop"
BASE = "https://api.toopher.test/v1"
INJECT = {"timestamp": 1000, "nonce": "12345678"}
OAUTH = ("oauth_nonce=12345678&oauth_timestamp=1000&oauth_version=1.0"
         "&oauth_signature_method=HMAC-SHA1&oauth_consumer_key=abcdefg")


@pytest.fixture
def iframe() -> ToopherIframe:
    return ToopherIframe(KEY, SECRET, BASE)


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# ---------------------------------------------------------------- §1.6 URL vectors

URL_VECTORS = [
    ("manage_user",
     lambda f: f.get_user_management_url("jdoe", **INJECT),
     "web/manage_user?username=jdoe&reset_email=&expires=1300&v=2",
     "SA7CAUj+5QcGO+MmdPv9ubbaozk="),
    ("authenticate-defaults",
     lambda f: f.get_authentication_url("jdoe", **INJECT),
     "web/authenticate?username=jdoe&reset_email=&session_token=&expires=1300"
     "&action_name=Log+In&requester_metadata=&v=2",
     "NkaWUjEPRLwgsQMEJGsIQEpyRT4="),
    ("authenticate-all-options",
     lambda f: f.get_authentication_url(
         "jdoe", "jdoe@example.com", "s9s7vsb", "it is a test", "metadata", ttl=100,
         allow_inline_pairing=False, automation_allowed=False, challenge_required=True,
         **INJECT),
     "web/authenticate?username=jdoe&reset_email=jdoe%40example.com&session_token=s9s7vsb"
     "&allow_inline_pairing=False&expires=1100&action_name=it+is+a+test"
     "&automation_allowed=False&requester_metadata=metadata&v=2&challenge_required=True",
     "hKogqI/gjKXpYIH+jNDhRSi22b4="),
    ("pair-python-1.1",
     lambda f: f.get_signed_url("web/pair", {"username": "jdoe",
                                             "reset_email": "jdoe@example.com", "v": "2"},
                                ttl=100, **INJECT),
     "web/pair?username=jdoe&reset_email=jdoe%40example.com&expires=1100&v=2",
     "UGlgBEUF6UZEhYPxevJeagqy6D4="),
    ("authenticate-python-1.1",
     lambda f: f.get_authentication_url(
         "jdoe", "jdoe@example.com", "s9s7vsb", "Log In", "None", ttl=100,
         automation_allowed=True, allow_inline_pairing=True, challenge_required=False,
         **INJECT),
     "web/authenticate?username=jdoe&automation_allowed=True&reset_email=jdoe%40example.com"
     "&session_token=s9s7vsb&v=2&allow_inline_pairing=True&requester_metadata=None"
     "&challenge_required=False&expires=1100&action_name=Log+In",
     "URVngBe35eP/iFOSQ5ZpuGEYcJs="),
]


@pytest.mark.parametrize(("build", "spec_url", "expected"),
                         [pytest.param(*v[1:], id=v[0]) for v in URL_VECTORS])
def test_iframe_url_vectors(iframe, build, spec_url, expected):
    url = build(iframe)
    params = query(url)
    assert params.pop("oauth_signature") == expected
    assert params == dict(parse_qsl(f"{spec_url.split('?')[1]}&{OAUTH}",
                                    keep_blank_values=True))
    assert url.startswith(f"{BASE}/{spec_url.split('?')[0]}?")


@pytest.mark.parametrize(("spec_url", "expected"),
                         [pytest.param(*v[2:], id=v[0]) for v in URL_VECTORS])
def test_independent_rfc5849_checker_reproduces_the_vectors(spec_url, expected):
    """The checker that verifies the REST client's headers agrees with the spec."""
    url = f"{BASE}/{spec_url}&{OAUTH}"
    params = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    assert rfc5849_signature("GET", url, params, SECRET) == expected


def test_iframe_url_expiry_and_fresh_nonce(iframe, monkeypatch):
    monkeypatch.setattr("toopher.iframe.time.time", lambda: 5000.5)
    first = query(iframe.get_authentication_url("jdoe"))
    second = query(iframe.get_authentication_url("jdoe"))
    assert first["expires"] == "5300"
    assert first["oauth_timestamp"] == "5000"
    assert first["oauth_nonce"] != second["oauth_nonce"]


def test_iframe_url_drops_none_extras_and_signs_the_rest(iframe):
    url = iframe.get_authentication_url("jdoe", **INJECT, automation_allowed=None, extra="x y")
    params = query(url)
    assert "automation_allowed" not in params
    assert params["extra"] == "x y"
    sig = params.pop("oauth_signature")
    assert rfc5849_signature("GET", url, list(params.items()), SECRET) == sig


@pytest.mark.parametrize("ttl", [0, -5, "100", 1.5, True])
def test_bad_ttl_refused(iframe, ttl):
    with pytest.raises(ValueError):
        iframe.get_authentication_url("jdoe", ttl=ttl)


def test_iframe_refuses_plain_http_to_remote_hosts():
    with pytest.raises(ValueError):
        ToopherIframe(KEY, SECRET, "http://api.toopher.com/v1")
    assert ToopherIframe(KEY, SECRET, "http://127.0.0.1:8000/v1/").api_url.endswith("/v1")
    assert SECRET not in repr(ToopherIframe(KEY, SECRET, BASE))


# ---------------------------------------------------------------- §5.7 postback vectors

COMMON = {"session_token": "s9s7vsb", "timestamp": "1000"}
AUTH = {"id": "1", "pending": "false", "granted": "true", "automated": "false",
        "reason": "it is a test", "reason_code": "100", "terminal_id": "1",
        "terminal_name": "terminal name",
        "terminal_requester_specified_id": "requester specified id",
        "pairing_user_id": "1", "user_name": "user name",
        "user_toopher_authentication_enabled": "true", "action_id": "1",
        "action_name": "action name", "resource_type": "authentication_request", **COMMON}
PAIRING = {"id": "1", "enabled": "true", "pending": "false", "pairing_user_id": "1",
           "user_name": "user name", "user_toopher_authentication_enabled": "true",
           "resource_type": "pairing", **COMMON}
USER = {"id": "1", "name": "user name", "toopher_authentication_enabled": "true",
        "resource_type": "requester_user", **COMMON}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (AUTH, "s+fYUtChrNMjES5Xa+755H7BQKE="),
        ({**AUTH, "requester_metadata": ""}, "2CQouLu8dL3OA8N/mgHK6eeYHm4="),
        (PAIRING, "ucwKhkPpN4VxNbx3dMypWzi4tBg="),
        (USER, "RszgG9QE1rF9t7DVTGg+1I25yHM="),
        ({"foo": "bar", **COMMON}, "6d2c7GlQssGmeYYGpcf+V/kirOI="),
    ],
    ids=["authentication", "authentication+metadata", "pairing", "user", "python-1.1"],
)
def test_postback_signature_vectors(iframe, fields, expected):
    assert postback_signature(fields, SECRET) == expected
    # ...and each vector validates as a postback.
    iframe.validate_postback({**fields, "toopher_sig": expected}, "s9s7vsb", now=1001)


ODD = {"id": "1", "reason": "it's ~*fine* (ok)!", "session_token": "s9s7vsb",
       "timestamp": "1000", "terminal_name": "Büro PC"}


def test_encoding_variants_of_section_5_5():
    assert encode_postback(ODD) == (
        "id=1&reason=it%27s+%7E%2Afine%2A+%28ok%29%21&session_token=s9s7vsb"
        "&terminal_name=B%C3%BCro+PC&timestamp=1000")
    assert postback_signature(ODD, SECRET) == "TvERx4coEvE7XIDIHj382KLkWeo="
    assert postback_signature(ODD, SECRET, "python3") == "W02qdcenPk75TYG84Oki2RmudYE="
    assert postback_signature(ODD, SECRET, "java") == "+1p1y+cMBxLIyGD4SBmdrjqQeJU="


@pytest.mark.parametrize("sig", ["TvERx4coEvE7XIDIHj382KLkWeo=",
                                 "W02qdcenPk75TYG84Oki2RmudYE=",
                                 "+1p1y+cMBxLIyGD4SBmdrjqQeJU="])
def test_every_encoding_variant_validates(iframe, sig):
    assert iframe.validate_postback({**ODD, "toopher_sig": sig}, now=1000)["reason"] == ODD[
        "reason"]


# ---------------------------------------------------------------- process_postback


def signed(fields: dict[str, str], secret: str = SECRET) -> dict[str, str]:
    return {**fields, "toopher_sig": postback_signature(fields, secret)}


def as_2_0(fields: dict[str, str], **framework: str) -> dict[str, str]:
    """The 2.0 helper's form: one field holding jQuery.param(payload + framework args)."""
    return {"toopher_iframe_data": urlencode({**fields, **framework}), **framework}


def test_authentication_postback_2_0_form(iframe):
    result = iframe.process_postback(as_2_0(signed(AUTH)), "s9s7vsb", now=1000)
    assert isinstance(result, toopher.AuthenticationRequest)
    assert (result.id, result.pending, result.granted, result.automated) == (
        "1", False, True, False)
    assert (result.reason, result.reason_code) == ("it is a test", 100)
    assert (result.terminal_id, result.terminal_name) == ("1", "terminal name")
    assert result.terminal.requester_specified_id == "requester specified id"
    assert (result.user_id, result.user_name) == ("1", "user name")
    assert result.user.toopher_authentication_enabled is True
    assert result.action_name == "action name"
    assert result.session_token == "s9s7vsb"
    assert bool(result)


def test_postback_as_the_raw_toopher_iframe_data_string(iframe):
    data = urlencode(signed(AUTH))
    assert iframe.process_postback(data, "s9s7vsb", now=1000).granted is True


def test_authentication_postback_1_x_form_with_list_values(iframe):
    data = {key: [value] for key, value in signed(AUTH).items()}  # parse_qs / MultiDict style
    assert iframe.process_postback(data, "s9s7vsb", now=1000).granted is True


def test_pairing_and_user_postbacks(iframe):
    pairing = iframe.process_postback(as_2_0(signed(PAIRING)), now=1000)
    assert isinstance(pairing, toopher.Pairing)
    assert (pairing.enabled, pairing.pending, pairing.user_name) == (True, False, "user name")
    user = iframe.process_postback(as_2_0(signed(USER)), now=1000)
    assert isinstance(user, toopher.User)
    assert user.name == "user name" and user.toopher_authentication_enabled is True


def test_1_x_result_without_resource_type(iframe):
    fields = {"id": "1", "pending": "false", "granted": "true", "terminal_name": "t",
              "reason": "", **COMMON}
    result = iframe.process_postback(signed(fields), "s9s7vsb", now=1000)
    assert isinstance(result, toopher.AuthenticationRequest) and result.granted


def test_unknown_resource_type(iframe):
    fields = {**USER, "resource_type": "banana"}
    with pytest.raises(toopher.ToopherApiError, match="resource type is not valid"):
        iframe.process_postback(signed(fields), now=1000)


def test_framework_fields_are_removed_before_validation(iframe):
    # 2.0: framework_post_args end up inside toopher_iframe_data
    data = as_2_0(signed(AUTH), csrfmiddlewaretoken="tok", next="/home")
    with pytest.raises(toopher.SignatureValidationError):
        iframe.process_postback(data, "s9s7vsb", now=1000)
    result = iframe.process_postback(data, "s9s7vsb", now=1000,
                                     framework_fields=("csrfmiddlewaretoken", "next"))
    assert result.granted
    # 1.x: they are top-level fields
    data = {**signed(AUTH), "csrfmiddlewaretoken": "tok"}
    with pytest.raises(toopher.SignatureValidationError):
        iframe.process_postback(data, now=1000)
    assert iframe.process_postback(data, now=1000, framework_fields=["csrfmiddlewaretoken"])


@pytest.mark.parametrize("missing", ["toopher_sig", "timestamp", "session_token"])
def test_missing_required_keys(iframe, missing):
    data = signed(AUTH)
    del data[missing]
    with pytest.raises(toopher.SignatureValidationError, match=f"Missing required keys: {missing}"):
        iframe.process_postback(data, now=1000)


@pytest.mark.parametrize("field", ["granted", "pending", "user_name", "session_token",
                                   "timestamp", "id"])
def test_tampered_field_fails_and_does_not_leak_the_right_signature(iframe, field):
    data = signed(AUTH)
    data[field] = data[field] + "0"
    with pytest.raises(toopher.SignatureValidationError, match="signature") as info:
        iframe.process_postback(data, now=1000)
    right = postback_signature({k: v for k, v in data.items() if k != "toopher_sig"}, SECRET)
    assert right not in str(info.value)


def test_signature_with_the_wrong_secret_fails(iframe):
    with pytest.raises(toopher.SignatureValidationError):
        iframe.process_postback(signed(AUTH, "not the secret"), now=1000)


def test_added_unsigned_field_fails(iframe):
    with pytest.raises(toopher.SignatureValidationError):
        iframe.process_postback({**signed(AUTH), "granted_extra": "true"}, now=1000)


@pytest.mark.parametrize(("now", "ok"), [(1000, True), (1299.9, True), (1300, False),
                                          (99999, False), (1000 - 60, True), (1000 - 61, False)])
def test_ttl(iframe, now, ok):
    data = signed(AUTH)
    if ok:
        iframe.process_postback(data, now=now)
    else:
        with pytest.raises(toopher.SignatureValidationError):
            iframe.process_postback(data, now=now)


def test_custom_ttl_and_real_clock(iframe, monkeypatch):
    monkeypatch.setattr("toopher.iframe.time.time", lambda: 1050.0)
    iframe.process_postback(signed(AUTH), ttl=51)
    with pytest.raises(toopher.SignatureValidationError, match="TTL expired"):
        iframe.process_postback(signed(AUTH), ttl=50)


def test_non_integer_timestamp(iframe):
    with pytest.raises(toopher.SignatureValidationError, match="timestamp"):
        iframe.process_postback(signed({**AUTH, "timestamp": "soon"}), now=1000)


@pytest.mark.parametrize(("token", "ok"), [("s9s7vsb", True), (None, True),
                                            ("other", False), ("", False),
                                            ("s9s7vsb ", False)])
def test_session_token(iframe, token, ok):
    data = signed(AUTH)
    if ok:
        assert iframe.process_postback(data, token, now=1000)
    else:
        with pytest.raises(toopher.SignatureValidationError, match="Session token"):
            iframe.process_postback(data, token, now=1000)


@pytest.mark.parametrize("data", [None, 5, ["a"], {"toopher_sig": 5}])
def test_garbage_postbacks_raise_a_clear_error(iframe, data):
    with pytest.raises(toopher.SignatureValidationError):
        iframe.process_postback(data, now=1000)


def error_result(code: str, message: str) -> dict[str, str]:
    return {"error_code": code, "error_message": message, "requester_metadata": "",
            **COMMON}


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [("704", "The specified user has disabled Toopher authentication.",
      toopher.UserDisabledError),
     ("705", "No matching user exists.", toopher.UserUnknownError),
     ("707", "Pairing has been deactivated", toopher.PairingDeactivatedError),
     ("601", "Pairing has not been authorized to authenticate", toopher.PairingDeactivatedError),
     ("999", "Other", toopher.ToopherApiError)],
)
def test_signed_error_results_raise_mapped_errors(iframe, code, message, expected):
    with pytest.raises(toopher.ToopherApiError) as info:
        iframe.process_postback(as_2_0(signed(error_result(code, message))), "s9s7vsb",
                                now=1000)
    assert type(info.value) is expected
    assert info.value.error_code == int(code)


# ---------------------------------------------------------------- is_authentication_granted


@pytest.mark.parametrize(
    ("fields", "granted"),
    [
        (AUTH, True),
        ({**AUTH, "granted": "false"}, False),
        ({**AUTH, "pending": "true"}, False),
        ({**AUTH, "pending": "true", "granted": "true"}, False),
        (PAIRING, False),
        (USER, False),
        (error_result("704", "opted out"), True),
        (error_result("705", "unknown"), False),
        (error_result("707", "deactivated"), False),
    ],
)
def test_is_authentication_granted(iframe, fields, granted):
    assert iframe.is_authentication_granted(as_2_0(signed(fields)), "s9s7vsb",
                                            now=1000) is granted


def test_opted_out_grant_can_be_refused(iframe):
    data = signed(error_result("704", "opted out"))
    assert iframe.is_authentication_granted(data, now=1000, allow_opted_out=False) is False


@pytest.mark.parametrize(
    "data",
    [
        {**AUTH, "toopher_sig": "forged"},  # forged grant
        {**error_result("704", "opted out"), "toopher_sig": "forged"},  # forged opt-out
        signed({**AUTH, "granted": "true"}, "wrong secret"),
    ],
)
def test_forged_postbacks_are_never_granted(iframe, data):
    assert iframe.is_authentication_granted(data, now=1000) is False


def test_expired_or_replayed_grants_are_refused(iframe):
    data = signed(AUTH)
    assert iframe.is_authentication_granted(data, "s9s7vsb", now=1400) is False
    assert iframe.is_authentication_granted(data, "another-session", now=1000) is False
