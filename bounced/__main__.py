"""`python -m bounced` runs the command-line interface."""

from bounced.cli import main

raise SystemExit(main())
