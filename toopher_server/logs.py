"""Logging for the service: one line per record on stderr, with secrets masked.

:class:`RedactSecrets` is a logging filter that masks the values of OAuth signatures,
secrets, tokens, passwords and keys in a record's message (``secret=...``,
``"secret": "..."``, an ``Authorization: OAuth ...`` header), whatever logged it:
Django, gunicorn's error log, a library. The service never logs a secret on purpose;
this is the net under that rule.
"""

from __future__ import annotations

import logging
import re

_NAMES = (
    r"[\w-]*(?:secret|signature|token|password|passwd|private_key|api_key|_keys|sessionid)"
    r"[\w-]*"
)
_PAIR = re.compile(
    rf"""(?ix)
    (["']?{_NAMES}["']?\s*[:=]\s*)      # name= / "name": / name:
    (?:"[^"]*"|'[^']*'|[^\s&;}}'"]+)    # its value
    """
)
_OAUTH_HEADER = re.compile(r"(?i)(\bOAuth\s+)(?=[\w-]+=)[^\r\n]+")
MASK = "********"


def redact(text: str) -> str:
    """``text`` with the value of every secret-looking name replaced by ``********``."""
    text = _OAUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
    return _PAIR.sub(lambda m: m.group(1) + MASK, text)


class RedactSecrets(logging.Filter):
    """Mask secret-looking values in the formatted message (and drop its arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record: leave it to the handler
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
