"""``python -m toopher``: the same interactive walk-through as ``python -m toopher.demo``."""

import sys

from .demo import main

sys.exit(main())
