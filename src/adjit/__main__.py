"""`python -m adjit bench ...` (same as the `adjit` console script)."""
import sys

from .bench.cli import main

sys.exit(main())
