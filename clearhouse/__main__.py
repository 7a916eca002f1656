"""`python -m clearhouse` runs the CLI."""

from clearhouse.cli import main

raise SystemExit(main())
