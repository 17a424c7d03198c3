"""`python -m harness.cli`."""

import sys

from harness.cli.commands import main

sys.exit(main())
