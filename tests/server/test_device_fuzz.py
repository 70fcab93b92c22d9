"""The device API answers any input with its JSON (a result or an error code), never a 500,
and a refused decision leaves the request pending (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toopher_server.device_errors import DeviceApiError
from toopher_server.devicesig import DeviceSignatureError
from toopher_server.models import AuthenticationRequest

from .device_client import API, DeviceClient, authentication, new_requester, paired

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.server.urls")]

CODES = {
    cls.code for cls in [*DeviceSignatureError.__subclasses__(), *DeviceApiError.__subclasses__()]
} | {"invalid_key"}
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

segment = st.one_of(
    st.sampled_from(
        ["devices", "me", "pairing_phrases", "pairings", "authentication_requests", "decision",
         "otp_seed", "claim", "00000000-0000-4000-8000-000000000000", "%00", "..", "%E2%82%AC"]
    ),
    st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="#?%/"),
            max_size=12),
)  # fmt: skip
query = st.one_of(
    st.just(""),
    st.builds(lambda k, v: f"?{k}={v}", st.sampled_from(["state", "limit", "x"]),
              st.text(st.characters(min_codepoint=48, max_codepoint=122), max_size=6)),
)  # fmt: skip
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)  # fmt: skip


@pytest.fixture
def phone() -> DeviceClient:
    cache.clear()
    client = DeviceClient()
    assert client.enrol().status_code == 201
    return client


def answered_as_json(response: Any) -> dict[str, Any]:
    assert response.status_code < 500, response.content
    body = response.json()
    if response.status_code >= 400:
        assert body["error"] in CODES, body
    return body


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    segments=st.lists(segment, max_size=4),
    tail=query,
    body=st.binary(max_size=64),
    sign=st.booleans(),
)
def test_any_call_gets_json_and_never_a_500(
    phone: DeviceClient, method: str, segments: list[str], tail: str, body: bytes, sign: bool
) -> None:
    path = "/".join([API, *segments]) + tail
    answered_as_json(phone.call(method, path, body, sign=sign))


@FUZZ
@given(value=json_value, raw=st.binary(max_size=40))
def test_signed_junk_decisions_change_nothing(
    phone: DeviceClient, value: object, raw: bytes
) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone, "fuzz@example.com"))
    path = f"{API}/authentication_requests/{auth.id}/decision"
    for body in (json.dumps(value).encode(), raw):
        answered_as_json(phone.call("POST", path, body))
    assert AuthenticationRequest.objects.get(pk=auth.pk).pending is True


@FUZZ
@given(value=json_value)
def test_signed_junk_enrolments_get_json(value: object) -> None:
    cache.clear()
    client = DeviceClient()
    body = json.dumps({"jwk": value, "label": value} if value is not None else value).encode()
    answered_as_json(client.call("POST", f"{API}/devices", body))
