"""An interactive walk-through of the Toopher API, like the original ``demo.py``.

Run it against the sandbox (``python -m toopher_sandbox``) or any
Toopher-compatible service::

    python -m toopher.demo --api-url http://127.0.0.1:8000/v1 --key KEY --secret SECRET

It pairs a phone, authenticates with the stored pairing id (polling with a
progress display, with an OTP fallback), then runs the zero-storage flow and
explains each of its errors (704 to 707) and what an application does about it.
Credentials can also come from ``TOOPHER_CONSUMER_KEY``, ``TOOPHER_CONSUMER_SECRET``
and ``TOOPHER_API_URL``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from .api import DEFAULT_API_URL, ToopherApi
from .errors import (
    PairingDeactivatedError,
    TerminalUnknownError,
    ToopherApiError,
    UserDisabledError,
    UserUnknownError,
)
from .resources import AuthenticationRequest, Pairing

__all__ = ["Demo", "build_parser", "main"]

DEFAULT_USER_NAME = "demo@toopher.com"
DEFAULT_TERMINAL_NAME = "my computer"

#: What an application does about each zero-storage error (spec §3.2, §6.2).
ADVICE = {
    UserDisabledError: ("704: the user has turned Toopher off (opted out).",
                        "Let the user in with the password alone."),
    UserUnknownError: ("705: Toopher knows no such user, or the user has no pairing.",
                       "Start pairing (or let the user in, if enrollment is optional)."),
    TerminalUnknownError: ("706: this terminal (browser/device) has no name yet.",
                           "Ask the user to name it, call create_user_terminal(), retry."),
    PairingDeactivatedError: ("707/601: the pairing was removed in the app, reset, or "
                              "never authorized.", "Pair again."),
}


def advice_for(exc: ToopherApiError) -> tuple[str, str] | None:
    """(what happened, what to do) for a zero-storage error, else ``None``."""
    for cls, text in ADVICE.items():
        if isinstance(exc, cls):
            return text
    return None


class Demo:
    """The walk-through, with its input, output and clock injectable (for tests)."""

    def __init__(self, api: ToopherApi, *, user_name: str | None = None,
                 input_fn: Callable[[str], str] = input, out: TextIO | None = None,
                 sleep: Callable[[float], None] = time.sleep, poll_interval: float = 1.0,
                 poll_timeout: float = 60.0, sms: bool = False) -> None:
        self.api = api
        self.user_name = user_name
        self.input_fn = input_fn
        self.out = out if out is not None else sys.stdout
        self.sleep = sleep
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self.sms = sms
        self.terminal_ids: dict[str, str] = {}

    # ------------------------------------------------------------------ tiny UI

    def say(self, text: str = "", end: str = "\n") -> None:
        self.out.write(text + end)
        self.out.flush()

    def rule(self, char: str = "-") -> None:
        self.say(char * 72)

    def ask(self, prompt: str, default: str | None = None) -> str:
        shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
        while True:
            answer = self.input_fn(shown).strip()
            if answer:
                return answer
            if default is not None:
                return default
            self.say("Please enter a value to continue.")

    def _polls(self) -> int:
        return max(1, int(self.poll_timeout / self.poll_interval))

    # ------------------------------------------------------------------ steps

    def run(self) -> int:
        """Run every step; return a process exit code."""
        self.rule("=")
        self.say("Toopher library demo")
        self.say(f"API: {self.api.api_url}")
        self.rule("=")
        user_name = self.user_name or self.ask("Enter a user name for this pairing",
                                                DEFAULT_USER_NAME)
        while True:
            pairing = self.pair(user_name)
            if pairing is not None:
                break
        self.authenticate_stored(pairing)
        self.authenticate_zero_storage(user_name)
        self.say()
        self.say("Demo finished. Goodbye!")
        return 0

    def pair(self, user_name: str) -> Pairing | None:
        """Step 1: pair, then poll until the phone answers. ``None`` means retry."""
        self.say()
        self.say("Step 1: pair the user with a phone")
        self.rule()
        try:
            if self.sms:
                self.say('Non-US numbers should start with a "+" and the country code.')
                number = self.ask("Enter a mobile number")
                self.say("Sending pairing request...")
                pairing = self.api.pair_sms(number, user_name)
            else:
                self.say("Pairing phrases are shown in the Toopher app (tap '+').")
                phrase = self.ask("Enter the pairing phrase")
                self.say("Sending pairing request...")
                pairing = self.api.pair(phrase, user_name)
        except ToopherApiError as exc:
            self.say(f"The pairing was not accepted (reason: {exc})")
            return None
        self.say(f"Pairing {pairing.id} created; approve it on the phone.")
        self.say("Waiting for the phone", end="")
        for _ in range(self._polls()):
            try:
                pairing = self.api.get_pairing_status(pairing.id)
            except ToopherApiError as exc:
                self.say(f"\nCould not check the pairing status (reason: {exc})")
                return None
            if not pairing.pending:
                break
            self.say(".", end="")
            self.sleep(self.poll_interval)
        self.say()
        if pairing.pending:
            self.say("The phone did not answer in time. Let's try again.")
            return None
        if not pairing.enabled:
            self.say("The pairing has been denied. Let's try again.")
            return None
        self.say("Pairing complete.")
        return pairing

    def authenticate_stored(self, pairing: Pairing) -> AuthenticationRequest | None:
        """Step 2: authenticate with the stored pairing id (the classic flow)."""
        self.say()
        self.say("Step 2: authenticate with the stored pairing id")
        self.rule()
        terminal_name = self.ask("Enter a terminal name for this request",
                                 DEFAULT_TERMINAL_NAME)
        terminal_id = self.terminal_ids.setdefault(terminal_name, uuid.uuid4().hex)
        self.say("Sending authentication request...")
        try:
            auth = self.api.authenticate(pairing.id, terminal_name,
                                         terminal_name_extra=terminal_id)
        except ToopherApiError as exc:
            self.say(f"Error initiating authentication (reason: {exc})")
            self.explain(exc)
            return None
        return self.wait_for(auth)

    def authenticate_zero_storage(self, user_name: str) -> AuthenticationRequest | None:
        """Step 3: zero-storage authentication by user name and terminal id."""
        self.say()
        self.say("Step 3: zero-storage authentication (user name + terminal id)")
        self.rule()
        self.say("The site stores nothing but a random id per browser, here a new one:")
        terminal_id = uuid.uuid4().hex
        self.say(f"  terminal id = {terminal_id}")
        for _attempt in range(3):
            self.say("Sending authentication request by user name...")
            try:
                auth = self.api.authenticate_by_user_name(user_name, terminal_id)
            except TerminalUnknownError as exc:
                self.explain(exc)
                name = self.ask("Name this terminal", "demo terminal")
                try:
                    self.api.create_user_terminal(user_name, name, terminal_id)
                except ToopherApiError as exc2:
                    self.say(f"Could not name the terminal (reason: {exc2})")
                    return None
                self.say(f"Terminal named {name!r}; retrying.")
                continue
            except ToopherApiError as exc:
                self.say(f"Error initiating authentication (reason: {exc})")
                self.explain(exc)
                return None
            return self.wait_for(auth)
        self.say("Giving up after three attempts.")
        return None

    def wait_for(self, auth: AuthenticationRequest) -> AuthenticationRequest | None:
        """Poll an authentication request, offering the OTP fallback; print the result."""
        if auth.requires_otp:
            self.say("This user must answer with a one-time password (reason code 708).")
        poll = not auth.requires_otp
        while True:
            if auth.pending and poll:
                self.say("Waiting for the phone", end="")
                for _ in range(self._polls()):
                    try:
                        auth = self.api.get_authentication_status(auth.id)
                    except ToopherApiError as exc:
                        self.say(f"\nCould not check the status (reason: {exc})")
                        return None
                    if not auth.pending:
                        break
                    self.say(".", end="")
                    self.sleep(self.poll_interval)
                self.say()
            if not auth.pending:
                automation = "automatically " if auth.automated else ""
                result = "granted" if auth.granted else "denied"
                reason = f" (reason: {auth.reason})" if auth.reason else ""
                self.say(f"The request was {automation}{result}!{reason}")
                return auth
            answer = self.input_fn(
                "No answer yet. Type the OTP shown in the app, press return to keep "
                "waiting, or 'q' to give up: "
            ).strip()
            if answer.lower() == "q":
                self.say("Gave up waiting.")
                return None
            poll = not answer
            if answer:
                try:
                    auth = self.api.authenticate_with_otp(auth.id, answer)
                except ToopherApiError as exc:
                    self.say(f"The OTP was not accepted (reason: {exc})")

    def explain(self, exc: ToopherApiError) -> None:
        text = advice_for(exc)
        if text is not None:
            what, todo = text
            self.say(f"  What happened: {what}")
            self.say(f"  What to do:    {todo}")
        elif exc.is_service_failure:
            self.say("  The service failed: an application chooses to fail closed "
                     "(deny) or, if configured, open.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m toopher.demo",
                                     description="Toopher library usage demo")
    parser.add_argument("--api-url", default=os.environ.get("TOOPHER_API_URL"),
                        help=f"API base URL (default $TOOPHER_API_URL or {DEFAULT_API_URL})")
    parser.add_argument("--key", default=os.environ.get("TOOPHER_CONSUMER_KEY"),
                        help="consumer key (default $TOOPHER_CONSUMER_KEY)")
    parser.add_argument("--secret", default=os.environ.get("TOOPHER_CONSUMER_SECRET"),
                        help="consumer secret (default $TOOPHER_CONSUMER_SECRET)")
    parser.add_argument("--user-name", help="user name to pair (prompted if absent)")
    parser.add_argument("--sms", action="store_true", help="pair by SMS instead of phrase")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds (1)")
    parser.add_argument("--poll-timeout", type=float, default=60.0, help="seconds (60)")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        help="allow http:// to a non-loopback host")
    return parser


def main(argv: Sequence[str] | None = None, *, input_fn: Callable[[str], str] = input,
         out: TextIO | None = None, sleep: Callable[[float], None] = time.sleep,
         api_factory: Callable[..., Any] = ToopherApi) -> int:
    """Entry point of ``python -m toopher.demo``; returns the exit code."""
    args = build_parser().parse_args(argv)
    stream = out if out is not None else sys.stdout
    try:
        key = args.key or input_fn("TOOPHER_CONSUMER_KEY=").strip()
        secret = args.secret or input_fn("TOOPHER_CONSUMER_SECRET=").strip()
        try:
            api = api_factory(key, secret, args.api_url,
                              allow_insecure_http=args.allow_insecure_http)
        except ValueError as exc:
            stream.write(f"Error: {exc}\n")
            return 2
        with api:
            demo = Demo(api, user_name=args.user_name, input_fn=input_fn, out=stream,
                        sleep=sleep, poll_interval=args.poll_interval,
                        poll_timeout=args.poll_timeout, sms=args.sms)
            return demo.run()
    except (KeyboardInterrupt, EOFError):
        stream.write("\nInterrupted.\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
