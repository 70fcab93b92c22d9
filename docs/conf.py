"""Sphinx configuration of the documentation site: ``make docs`` builds it into
``docs/_build/html`` with warnings as errors (``-W -n``: nitpicky)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# autodoc imports django_toopher, which needs configured settings (the test suite's).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
import django  # noqa: E402

django.setup()

import toopher  # noqa: E402

project = "django-toopher"
author = "django-toopher contributors"
copyright = "django-toopher contributors"  # noqa: A001 - Sphinx's name
release = toopher.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: `page.md#some-heading` links resolve to the heading's anchor.
myst_heading_anchors = 4
myst_enable_extensions = ["deflist", "fieldlist", "html_image"]

# autodoc: the public API, in source order, signatures with their type hints.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
autoclass_content = "both"

# Nitpicky, except for names of other projects: the build is offline, so there is no
# intersphinx inventory to resolve Django's, requests' or the standard library's names.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(django|requests|oauthlib|requests_oauthlib|pytest|_pytest)(\..*)?"),
    (r"py:.*", r"(typing|collections|contextlib|enum|datetime|dataclasses|abc)(\..*)?"),
    (r"py:class", r"(Any|Callable|Iterator|Iterable|Mapping|Sequence|Self|NoneType)"),
    (r"py:class", r"(HttpRequest|HttpResponse|AbstractBaseUser|Session|PreparedRequest)"),
    (r"py:class", r"(str|int|float|bool|bytes|dict|list|tuple|set|type|object)"),
]

html_theme = "furo"
html_title = f"django-toopher {release}"
html_static_path: list[str] = []
