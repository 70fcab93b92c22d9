"""Transport: timeouts, refused connections, TLS failures, connection reuse, URLs."""

from __future__ import annotations

import pickle
import ssl
import time

import pytest
import requests
import urllib3

import toopher

from .conftest import API_URL, KEY, SECRET, pairing_json

PID = "5a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (requests.exceptions.ConnectTimeout("connect timed out"), toopher.ToopherTimeoutError),
        (requests.exceptions.ReadTimeout("read timed out"), toopher.ToopherTimeoutError),
        (requests.exceptions.SSLError("certificate verify failed"), toopher.ToopherTLSError),
        (requests.exceptions.ConnectionError("Connection refused"),
         toopher.ToopherConnectionError),
        (requests.exceptions.ChunkedEncodingError("broken"), toopher.ToopherTransportError),
        (requests.exceptions.ContentDecodingError("bad gzip"), toopher.ToopherTransportError),
        # low-level errors that can leak through requests
        (ConnectionResetError("reset by peer"), toopher.ToopherConnectionError),
        (TimeoutError("timed out"), toopher.ToopherTimeoutError),
        (ssl.SSLError("bad record mac"), toopher.ToopherTLSError),
        (urllib3.exceptions.ProtocolError("aborted"), toopher.ToopherConnectionError),
        (urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out"),
         toopher.ToopherTimeoutError),
        (urllib3.exceptions.DecodeError("bad"), toopher.ToopherTransportError),
    ],
)
def test_requests_exceptions_become_transport_errors(mocked, api, raised, expected):
    mocked.add("GET", f"{API_URL}/pairings/{PID}", body=raised)
    with pytest.raises(expected) as info:
        api.get_pairing_status(PID)
    exc = info.value
    assert type(exc) is expected
    assert isinstance(exc, toopher.ToopherTransportError)
    assert exc.is_service_failure is True
    assert exc.status_code is None
    assert exc.__cause__ is raised


def test_real_read_timeout(silent_port):
    client = toopher.ToopherApi(KEY, SECRET, f"http://127.0.0.1:{silent_port}/v1",
                                timeout=(2.0, 0.3))
    started = time.monotonic()
    with pytest.raises(toopher.ToopherTimeoutError) as info:
        client.get_pairing_status(PID)
    assert time.monotonic() - started < 2.0
    assert "Timed out" in str(info.value)
    assert info.value.is_service_failure


def test_real_connection_refused(refused_port):
    client = toopher.ToopherApi(KEY, SECRET, f"http://127.0.0.1:{refused_port}/v1")
    with pytest.raises(toopher.ToopherConnectionError) as info:
        client.pair("awkward turtle", "jdoe")
    assert "Could not connect" in str(info.value)
    assert info.value.is_service_failure


def test_real_tls_failure(json_server):
    """https:// to a server that speaks plain HTTP fails the TLS handshake."""
    port = json_server.server_address[1]
    client = toopher.ToopherApi(KEY, SECRET, f"https://127.0.0.1:{port}/v1")
    with pytest.raises(toopher.ToopherTLSError) as info:
        client.get_pairing_status(PID)
    assert "TLS" in str(info.value)
    assert info.value.is_service_failure


def test_one_connection_is_reused_across_calls(json_server):
    port = json_server.server_address[1]
    with toopher.ToopherApi(KEY, SECRET, f"http://127.0.0.1:{port}/v1") as client:
        client.get_pairing_status(PID)
        client.pair("awkward turtle", "jdoe")
        client.get_pairing_status(PID)
        client.pair_qr("jdoe")
    peers = json_server.peers
    assert len(peers) == 4
    assert len(set(peers)) == 1, f"expected one kept-alive connection, saw {set(peers)}"


def test_separate_clients_have_separate_sessions():
    a = toopher.ToopherApi(KEY, SECRET, API_URL)
    b = toopher.ToopherApi(KEY, SECRET, API_URL)
    assert isinstance(a.session, requests.Session)
    assert a.session is not b.session


@pytest.mark.parametrize(("timeout", "expected"), [(3, 3.0), (2.5, 2.5), ((1, 9), (1.0, 9.0)),
                                                   ([2, 4], (2.0, 4.0))])
def test_configured_timeout_reaches_every_call(mocked, timeout, expected):
    mocked.add("GET", f"{API_URL}/pairings/{PID}", json=pairing_json())
    mocked.add("POST", f"{API_URL}/users/reset", json={})
    mocked.add("GET", f"{API_URL}/qr/pairings/{PID}", body=b"png")
    client = toopher.ToopherApi(KEY, SECRET, API_URL, timeout=timeout)
    client.get_pairing_status(PID)
    client.reset_user("jdoe")
    client.get_qr_code_image(PID)
    assert [c.request.req_kwargs["timeout"] for c in mocked.calls] == [expected] * 3


@pytest.mark.parametrize("timeout", [None, 0, -1, "5", (1,), (1, None), (0, 5), True, (1, 2, 3),
                                     float("inf"), (1, float("nan"))])
def test_invalid_timeouts_are_refused(timeout):
    with pytest.raises(ValueError, match="timeout"):
        toopher.ToopherApi(KEY, SECRET, API_URL, timeout=timeout)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/v1", "http://127.9.8.7/v1", "http://[::1]:8000/v1",
     "http://localhost:8000/v1/", "http://LOCALHOST/v1", "https://api.example.com/v1"],
)
def test_allowed_urls(url):
    assert toopher.ToopherApi(KEY, SECRET, url).api_url == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    ["http://api.toopher.com/v1", "http://10.0.0.5/v1", "http://127.0.0.1.evil.test/v1",
     "http://localhost.evil.test/v1"],
)
def test_plain_http_refused_for_non_loopback_hosts(url):
    with pytest.raises(ValueError, match="allow_insecure_http"):
        toopher.ToopherApi(KEY, SECRET, url)
    client = toopher.ToopherApi(KEY, SECRET, url, allow_insecure_http=True)
    assert client.api_url == url


@pytest.mark.parametrize(
    "url", ["", "   ", "ftp://api.toopher.com/v1", "api.toopher.com/v1", "https:///v1",
            "https://api.toopher.com/v1?x=1", "https://user:pw@api.toopher.com/v1", 5],
)
def test_bad_urls_refused(url):
    with pytest.raises(ValueError):
        toopher.ToopherApi(KEY, SECRET, url)


@pytest.mark.parametrize(("key", "secret"), [("", SECRET), (KEY, ""), (None, SECRET),
                                             (KEY, None)])
def test_credentials_required(key, secret):
    with pytest.raises(ValueError):
        toopher.ToopherApi(key, secret, API_URL)


def test_injected_session_is_used_and_not_closed(mocked):
    session = requests.Session()
    closed = []
    session.close = lambda: closed.append(True)
    mocked.add("GET", f"{API_URL}/pairings/{PID}", json=pairing_json())
    with toopher.ToopherApi(KEY, SECRET, API_URL, session=session) as client:
        assert client.session is session
        client.get_pairing_status(PID)
    assert closed == []
    assert session.auth is None  # the client signs per request; it does not alter the session


def test_own_session_is_closed_by_close_and_context_manager():
    client = toopher.ToopherApi(KEY, SECRET, API_URL)
    closed = []
    client.session.close = lambda: closed.append(True)
    with client as entered:
        assert entered is client
    assert closed == [True]


def test_client_does_not_pickle():
    with pytest.raises(TypeError, match="does not pickle"):
        pickle.dumps(toopher.ToopherApi(KEY, SECRET, API_URL))
