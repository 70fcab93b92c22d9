"""Random keys, secrets and tokens that are safe to pass on a command line."""

from __future__ import annotations

import secrets


def token(nbytes: int) -> str:
    """``secrets.token_urlsafe(nbytes)`` that does not begin with ``-``.

    A consumer key, secret or control token may be handed to ``python -m
    toopher_sandbox --key ...`` or to ``toopher-server rotatesecret KEY``: one
    beginning with ``-`` is taken by argparse for an option (``--key -abc`` is
    refused). Drawing again keeps the others uniform.
    """
    while True:
        value = secrets.token_urlsafe(nbytes)
        if not value.startswith("-"):
            return value
