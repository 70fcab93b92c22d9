"""The Toopher admin actions in the example site, as the demo runs them: the sandbox is
mounted in the same process, with its tables in a database of its own.

Each action must answer within a few seconds (it used to hang on the shared SQLite
file for 15 s and fail with ToopherTimeoutError), do what it says, and name the user
as the user is called (``demo``, not ``Demo``).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .admin_steps import ACTION_BUDGET_S, admin_session, run_user_action
from .flows import (
    approved_login,
    expect_account_page,
    log_in,
    log_out,
    open_phone,
    pair_from_scratch,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _paired_user(context, server, make_user):
    """A user with a paired phone and one named browser; their page is logged out."""
    username, password = make_user(server)
    page = context.new_page()
    phone = open_phone(context, server)
    pair_from_scratch(page, phone, server, username, password)
    approved_login(page, phone, server, username, password)
    log_out(page)
    return username, password, page, phone


def _act(admin, server, target, key):
    messages, seconds = run_user_action(admin, server, target, key)
    assert seconds < ACTION_BUDGET_S, f"{key} took {seconds:.1f}s: {messages}"
    assert not any("could not be reached" in m for m in messages), messages
    assert len(messages) == 1, messages
    # The user's name as it is, never capitalised by the admin's template.
    assert target in messages[0], messages
    return messages[0]


@pytest.mark.parametrize("server_name", ["stored_server", "zero_storage_server"])
def test_every_admin_action_works_against_the_mounted_sandbox(
    browser, context, request, make_user, server_name
):
    server = request.getfixturevalue(server_name)
    target, password, page, phone = _paired_user(context, server, make_user)
    admin_name, admin_password = make_user(server)
    admin = admin_session(browser, server, admin_name, admin_password)
    try:
        _walk_through_the_actions(admin, server, target, password, page, phone,
                                  stored=server_name == "stored_server")
    finally:
        admin.context.close()


def _walk_through_the_actions(admin, server, target, password, page, phone, *, stored):

    assert "Toopher disabled" in _act(admin, server, target, "disable")
    # Disabled: the password alone logs the user in, no push.
    log_in(page, server, target, password)
    expect_account_page(page, target)
    log_out(page)

    assert "Toopher enabled" in _act(admin, server, target, "enable")
    approved_login(page, phone, server, target, password)
    log_out(page)

    assert re.search(r"\b1 terminal forgotten", _act(admin, server, target, "forget_terminals"))
    assert "pairing reset" in _act(admin, server, target, "reset_pairing")
    log_in(page, server, target, password)
    if stored:
        # Stored-ID mode: no pairing here any more, so the password alone logs in.
        expect_account_page(page, target)
    else:
        # Zero-storage mode: Toopher knows the user, whose pairing is gone: pair again.
        expect(page.get_by_role("heading", name="Pair your phone again")).to_be_visible()
