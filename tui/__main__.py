"""`python -m tui`: the same as the `dbreview` command."""

import sys

from tui.cli import main

sys.exit(main())
