"""What an administrator does in the example's admin: pick users, run an action, confirm.

The helpers drive Django's changelist the way a person does (checkbox, action menu,
"Go", "Yes, I'm sure") and return the messages the admin then shows.
"""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import expect

from .flows import expect_account_page, log_in
from .server import ExampleServer

#: What an admin action may take, in seconds: a call to the sandbox and a few writes.
ACTION_BUDGET_S = 5.0

ACTIONS = {
    "disable": "Disable Toopher for selected users",
    "enable": "Enable Toopher for selected users",
    "reset_pairing": "Reset Toopher pairing of selected users",
    "forget_terminals": "Forget Toopher terminals of selected users",
}


def admin_session(browser: Any, server: ExampleServer, username: str, password: str) -> Any:
    """A page of a browser profile of its own (other cookies than the user's), logged
    in as an administrator without a phone (the password alone). Close its context."""
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    log_in(page, server, username, password)
    expect_account_page(page, username)
    return page


def run_user_action(page: Any, server: ExampleServer, target: str, key: str) -> tuple[
    list[str], float
]:
    """Run the action ``key`` on the user ``target``; return its messages and seconds."""
    page.goto(server.url(f"/admin/auth/user/?q={target}"))
    page.get_by_role("checkbox", name=re.compile(rf"Select this object.* {re.escape(target)}$")
                     ).check()
    page.get_by_label("Action:").select_option(label=ACTIONS[key])
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", name="Are you sure?")).to_be_visible()
    started = time.monotonic()
    page.get_by_role("button", name=re.compile("Yes, I.m sure")).click()
    messages = page.locator("ul.messagelist li")
    expect(messages.first).to_be_visible()
    return [m.strip() for m in messages.all_inner_texts()], time.monotonic() - started
