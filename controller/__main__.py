"""`python -m controller` is `psctl`."""

from controller.cli import main

raise SystemExit(main())
