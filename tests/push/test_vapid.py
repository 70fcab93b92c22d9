"""The VAPID key: made once, sealed, never replaced without ``--force``, re-sealed with the
ring, and made by ``toopher-server init``."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from toopher_server.push import vapid
from toopher_server.push.models import VapidKey
from toopher_server.secretbox import SecretBoxError, generate_key

from ..server.test_cli import run

pytestmark = pytest.mark.django_db

def test_made_once_and_kept() -> None:
    first, new = vapid.make_key()
    again, new_again = vapid.make_key()
    assert new and not new_again
    assert again.public_key == first.public_key == vapid.current().public_key


def test_the_command_refuses_to_replace_without_force() -> None:
    out = StringIO()
    call_command("makevapidkey", stdout=out)
    public = VapidKey.objects.get().public_key
    assert public in out.getvalue()
    with pytest.raises(CommandError, match="orphans every push subscription"):
        call_command("makevapidkey")
    assert VapidKey.objects.get().public_key == public
    call_command("makevapidkey", "--force", stdout=StringIO())
    assert VapidKey.objects.get().public_key != public
    assert vapid.current().public_key == VapidKey.objects.get().public_key


def test_the_private_key_is_bound_to_its_row_and_ring() -> None:
    row, _ = vapid.make_key()
    assert "PRIVATE" not in row.private_key_sealed
    another_ring = override_settings(TOOPHER_SERVER_SECRET_KEYS=generate_key())
    with another_ring, pytest.raises(SecretBoxError):
        vapid.current()  # another ring: no key, and no new one made in its place
    assert VapidKey.objects.get().public_key == row.public_key


def test_reencryptsecrets_reseals_it_under_the_new_first_key() -> None:
    old, new = generate_key(), generate_key()
    with override_settings(TOOPHER_SERVER_SECRET_KEYS=old):
        row, _ = vapid.make_key()
        pem = vapid.current().private_pem
    with override_settings(TOOPHER_SERVER_SECRET_KEYS=f"{new},{old}"):
        out = StringIO()
        call_command("reencryptsecrets", stdout=out)
        assert "VAPID" in out.getvalue()
        assert vapid.reencrypt() == 0
    with override_settings(TOOPHER_SERVER_SECRET_KEYS=new):
        assert vapid.current().private_pem == pem
        assert vapid.current().public_key == row.public_key


def test_init_makes_it_and_a_second_init_keeps_it(tmp_path: Path) -> None:
    env_file = str(tmp_path / "server.env")
    first = run(tmp_path, "init", "--env-file", env_file, "--no-requester")
    assert first.returncode == 0, first.stderr
    assert "Made the VAPID key" in first.stdout
    again = run(tmp_path, "init", "--env-file", env_file, "--no-requester")
    assert again.returncode == 0, again.stderr
    assert "Kept the VAPID key" in again.stdout
