"""`python -m cli …`: the same as `courier …`."""

import sys

from cli.main import main

sys.exit(main())
