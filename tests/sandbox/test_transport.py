"""The standalone server's transport, byte by byte: chunked bodies, pipelining,
keep-alive after errors, garbage, slow clients, bodies over the limit."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from toopher_sandbox.transport import MAX_BODY

from .raw_http import Connection, chunked, signed_head


def assert_error(answer, status):
    assert answer.status == status, answer
    data = answer.json()
    assert data["error_code"] == status and isinstance(data["error_message"], str)


def test_chunked_body_without_parameters_keeps_the_connection(
    toopher_sandbox_process, toopher_requester
):
    with Connection(toopher_sandbox_process.base_url) as conn:
        head, _ = signed_head(conn, toopher_requester, "POST", "/v1/users/reset")
        conn.send(head + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        assert_error(conn.read(), 400)  # user_name is missing: the server read the body
        head, _ = signed_head(conn, toopher_requester, "GET", "/v1/users", {})
        conn.send(head.replace(b"/v1/users ", b"/v1/users?name=nobody ", 1) + b"\r\n")
        assert conn.read().status in (200, 401)  # a real answer, not a parse error


def test_chunked_body_with_parameters_is_signed_and_read(
    toopher_sandbox_process, toopher_requester
):
    with Connection(toopher_sandbox_process.base_url) as conn:
        head, body = signed_head(conn, toopher_requester, "POST", "/v1/users/create",
                                 {"name": "chunky monkey"})
        conn.send(head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body))
        answer = conn.read()
        assert answer.status == 200, answer
        assert answer.json()["name"] == "chunky monkey"
        head, body = signed_head(
            conn, toopher_requester, "POST", "/v1/users/create", {"name": "second"}
        )
        conn.send(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        assert conn.read().json()["name"] == "second"


def test_pipelined_requests_are_answered_in_order(toopher_sandbox_process, toopher_requester):
    with Connection(toopher_sandbox_process.base_url) as conn:
        heads = []
        for name in ("pipe one", "pipe two", "pipe three"):
            head, body = signed_head(
                conn, toopher_requester, "POST", "/v1/users/create", {"name": name}
            )
            heads.append(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        heads.insert(1, b"GET /v1/nothing/here HTTP/1.1\r\nHost: HOST\r\n\r\n")
        conn.send(b"".join(heads))
        answers = [conn.read() for _ in range(4)]
    assert [a.status for a in answers] == [200, 404, 200, 200]
    assert [answers[i].json()["name"] for i in (0, 2, 3)] == ["pipe one", "pipe two", "pipe three"]


@pytest.mark.parametrize(
    "request_bytes, status",
    [
        (b"GET /v1/users HTTP/1.1\r\nHost: HOST\r\n\r\n", 401),  # unsigned
        (b"DELETE /v1/users/create HTTP/1.1\r\nHost: HOST\r\n\r\n", 405),
        (b"GET /v1/pairings/%2F..%2F;x=1 HTTP/1.1\r\nHost: HOST\r\n\r\n", 404),
        (b"GET /control/phones HTTP/1.1\r\nHost: HOST\r\n\r\n", 405),
        (b"POST /control/phones HTTP/1.1\r\nHost: HOST\r\nContent-Length: 0\r\n\r\n", 401),
    ],
)
def test_keep_alive_after_an_error(toopher_sandbox_process, request_bytes, status):
    with Connection(toopher_sandbox_process.base_url) as conn:
        conn.send(request_bytes)
        assert_error(conn.read(), status)
        conn.send(b"GET /v1 HTTP/1.1\r\nHost: HOST\r\n\r\n")
        assert conn.read().json()["service"] == "toopher_sandbox"


@pytest.mark.parametrize(
    "garbage",
    [
        b"0\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # a TLS hello
        b"GET\r\n\r\n",
        b"GET /v1 HTTP/1.1\r\nHost: HOST\r\nContent-Length: nope\r\n\r\n",
        b"GET /v1 HTTP/1.1\r\nHost: HOST\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
        b"GET /v1 HTTP/1.1\r\nBad Header Line\r\n\r\n",
    ],
)
def test_garbage_gets_a_json_400_and_the_server_goes_on(toopher_sandbox_process, garbage):
    with Connection(toopher_sandbox_process.base_url) as conn:
        conn.send(garbage)
        assert_error(conn.read(), 400)
        assert conn.closed_by_peer()
    assert requests.get(toopher_sandbox_process.api_url, timeout=10).status_code == 200


def test_a_body_over_the_limit_is_a_json_413(toopher_sandbox_process):
    with Connection(toopher_sandbox_process.base_url) as conn:
        conn.send(b"POST /v1/users/create HTTP/1.1\r\nHost: HOST\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1))
        assert_error(conn.read(), 413)
    with Connection(toopher_sandbox_process.base_url) as conn:  # chunked, growing past the limit
        conn.send(b"POST /v1/users/create HTTP/1.1\r\nHost: HOST\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(MAX_BODY // 65536 + 2):
                conn.send(b"10000\r\n" + b"a" * 65536 + b"\r\n")
        except OSError:
            pass  # the server may close while we still send
        assert_error(conn.read(), 413)


def test_a_slow_client_is_served_and_holds_up_nobody(toopher_sandbox_process, toopher_requester):
    with Connection(toopher_sandbox_process.base_url) as slow:
        head, body = signed_head(
            slow, toopher_requester, "POST", "/v1/users/create", {"name": "slowpoke"}
        )
        data = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
        done = threading.Event()

        def trickle() -> None:
            for i in range(0, len(data), 16):
                slow.send(data[i:i + 16])
                time.sleep(0.02)
            done.set()

        sender = threading.Thread(target=trickle)
        sender.start()
        started = time.monotonic()
        for _ in range(5):
            assert requests.get(toopher_sandbox_process.api_url, timeout=10).status_code == 200
        assert time.monotonic() - started < 2.0
        assert not done.is_set()  # the others were answered while it was still sending
        sender.join(30)
        assert slow.read().json()["name"] == "slowpoke"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/pairings/abc;x=1",
        "/v1/pairings/a%2Fb",
        "/v1/users/..",
        "/v1/users/%2E%2E",
        "/v1/users/../pairings/x",
        "/v1/authentication_requests/x%2F..%2Fy",
        "/v1/user_terminals/%E2%98%83",
        "/v1/users/x/pairings;y=2",
    ],
)
def test_signed_odd_paths_are_404_not_401(toopher_sandbox_process, toopher_requester, path):
    """The signature is checked over the path as sent; then the path simply is not found."""
    with Connection(toopher_sandbox_process.base_url) as conn:
        head, _ = signed_head(conn, toopher_requester, "GET", path)
        conn.send(head + b"\r\n")
        assert_error(conn.read(), 404)
        wrong = dict(toopher_requester, secret="not-the-secret")
        head, _ = signed_head(conn, wrong, "GET", path)
        conn.send(head + b"\r\n")
        assert conn.read().status in (401, 404)  # unknown routes answer before the signature
