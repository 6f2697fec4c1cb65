"""`python -m codegrad` runs the command line."""

from codegrad.cli import main

raise SystemExit(main())
