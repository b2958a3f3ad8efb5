"""`python -m bot` is the same as the `rltr-mktg` command."""

from bot.cli import main

raise SystemExit(main())
