"""The ``pytest11`` entry point of django-toopher: inert unless a project opts in.

pytest loads every installed ``pytest11`` entry point in every project, so this
module only adds the ``toopher_fixtures`` ini option; the fixtures live in
:mod:`django_toopher.pytest_plugin`, loaded when a project asks for them.
"""

from __future__ import annotations

import importlib
from typing import Any

PLUGIN = "django_toopher.pytest_plugin"


def pytest_addoption(parser: Any) -> None:
    parser.addini(
        "toopher_fixtures",
        type="bool",
        default=False,
        help=f"load the django_toopher fixtures (the same as -p {PLUGIN})",
    )


def pytest_configure(config: Any) -> None:
    if config.getini("toopher_fixtures") and not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.register(importlib.import_module(PLUGIN), PLUGIN)
