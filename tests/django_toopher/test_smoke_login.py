from __future__ import annotations

from tests.django_toopher.conftest import session_user_id


def test_paired_login_waits_for_phone_then_logs_in(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, login
):
    response = login(client, toopher_paired_user, "/private/")
    assert response.status_code == 302
    assert session_user_id(client) is None
    response = client.get("/private/")
    assert response.status_code == 302
    assert response["Location"] == "/toopher/pending/"
    response = client.get("/toopher/pending/")
    assert response.status_code == 200, response.content
    assert response.templates[0].name == "django_toopher/name_terminal.html"
    response = client.post("/toopher/pending/terminal/", {"name": "Work laptop"})
    assert response.status_code == 302
    response = client.get("/toopher/pending/")
    assert response.status_code == 200
    item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    response = client.get("/toopher/pending/status/")
    data = response.json()
    assert data["status"] == "granted", data
    assert data["redirect"] == "/private/"
    assert str(session_user_id(client)) == str(toopher_paired_user.pk)
    assert client.get("/private/").content == b"private: alice"
