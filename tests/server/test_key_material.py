"""One rule for the service's keys: a setting, else the environment, else derived from
SECRET_KEY (``keys.key_material``), for the secret box and the audit key alike."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.test import override_settings

from toopher_server import audit, keys
from toopher_server.auditchain import generate_key


def text(value: object) -> str:
    return str(value or "").strip()


def test_the_setting_wins_then_the_environment_then_secret_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOME_KEY_VAR", "from-env")
    assert keys.key_material("from-setting", "SOME_KEY_VAR", text, b"l") == (
        "setting", "from-setting")
    assert keys.key_material("", "SOME_KEY_VAR", text, b"l") == ("environment", "from-env")
    monkeypatch.delenv("SOME_KEY_VAR")
    with override_settings(SECRET_KEY="s" * 50):
        expected = hmac.new(b"s" * 50, b"l", hashlib.sha256).digest()
        assert keys.key_material(None, "SOME_KEY_VAR", text, b"l") == ("derived", expected)


def test_the_audit_key_follows_the_same_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    from_env, from_setting = generate_key(), generate_key()
    monkeypatch.setenv("TOOPHER_AUDIT_KEY", from_env)
    with override_settings(TOOPHER_SERVER_AUDIT_KEY=from_setting):
        by_setting = audit.audit_key()
    by_env = audit.audit_key()
    monkeypatch.delenv("TOOPHER_AUDIT_KEY")
    derived = audit.audit_key()
    assert len({by_setting, by_env, derived}) == 3
    assert not audit.audit_key_is_explicit()
