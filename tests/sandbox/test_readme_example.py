"""The original ToopherPython README example, run against the live sandbox.

The example is kept as text and run statement by statement, unchanged except for the
``api_url=`` argument. Between statements a person acts on the phone (through the
control API), as they would while the script runs: the phone shows the literal
phrase "pairing phrase", and the requester has the literal placeholder credentials.
"""

from __future__ import annotations

import ast
import textwrap

README_EXAMPLE = textwrap.dedent(
    """\
    import toopher
    api = toopher.ToopherApi("<your consumer key>", "<your consumer secret>")
    pairing_status = api.pair("pairing phrase", "username@yourservice.com")
    auth = api.authenticate(pairing_status.id, "my computer")
    auth_status = api.get_authentication_status(auth.id)
    if (auth_status.pending == False and auth_status.granted == True):
        ...
    """
)


def with_api_url(source: str, api_url: str) -> str:
    old = 'toopher.ToopherApi("<your consumer key>", "<your consumer secret>")'
    assert old in source
    return source.replace(
        old, f'toopher.ToopherApi("<your consumer key>", "<your consumer secret>", '
             f'api_url="{api_url}")'
    )


def run_statements(source: str, namespace: dict, after: dict) -> None:
    """Exec each top-level statement; after the n-th, call ``after[n](namespace)``."""
    for index, node in enumerate(ast.parse(source).body):
        code = compile(ast.Module(body=[node], type_ignores=[]), "<README>", "exec")
        exec(code, namespace)  # noqa: S102 (our own fixed example text)
        if index in after:
            after[index](namespace)


def test_readme_example_runs_unchanged_but_for_api_url(toopher_sandbox):
    toopher_sandbox.new_requester("Your service", key="<your consumer key>",
                          secret="<your consumer secret>")
    phone = toopher_sandbox.new_phone("README phone", pairing_phrase="pairing phrase")

    def allow_pairing_on_phone(ns):
        shown = toopher_sandbox.wait_for_pending(phone["phone_id"], kind="pairings")
        assert shown["id"] == ns["pairing_status"].id
        assert shown["user_name"] == "username@yourservice.com"
        toopher_sandbox.respond_pairing(shown["id"], allow=True)

    def grant_on_phone(ns):
        shown = toopher_sandbox.wait_for_pending(phone["phone_id"])
        assert (shown["id"], shown["terminal_name"]) == (ns["auth"].id, "my computer")
        toopher_sandbox.respond_authentication(shown["id"], grant=True)

    namespace: dict = {}
    source = with_api_url(README_EXAMPLE, toopher_sandbox.api_url)
    run_statements(source, namespace, {2: allow_pairing_on_phone, 3: grant_on_phone})
    status = namespace["auth_status"]
    assert status.pending == False and status.granted == True  # noqa: E712 (as in the README)
