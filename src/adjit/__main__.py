"""`python -m adjit bench ...` (same as the `adjit` console script)."""
import sys

from .cli import main

sys.exit(main())
