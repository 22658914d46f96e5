"""`python -m app.cli`: the `tasks` command line, as the entry point runs it."""

import sys

from app.cli import main

sys.exit(main())
