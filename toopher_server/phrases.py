"""Two-word pairing phrases ("awkward turtle"), as the Toopher app generated them."""

import secrets
from functools import cache
from importlib import resources

MAX_PHRASE_LENGTH = 100


@cache
def _words(name: str) -> tuple[str, ...]:
    text = resources.files("toopher_server").joinpath("words", name).read_text("utf-8")
    return tuple(w.strip() for w in text.splitlines() if w.strip())


def generate_phrase() -> str:
    """A random adjective + noun phrase."""
    return f"{secrets.choice(_words('adjectives.txt'))} {secrets.choice(_words('nouns.txt'))}"


def normalize_phrase(phrase: str) -> str:
    """Lowercase a phrase and collapse its whitespace, as the app's matching did."""
    return " ".join(phrase.lower().split())
