#!/usr/bin/env python
"""Django's command-line utility for the django-toopher example site."""

import os
import sys
from pathlib import Path


def main() -> None:
    """Run a management command with the example settings."""
    # Make ``example_project`` and ``demo_site`` importable from any working directory.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
