"""`make dev`: uv run python -m scripts.devstack [--check] [--port-offset N] [--timeout S] ..."""

import sys

from .cli import main

sys.exit(main())
