"""`python -m bot` does what `shopmax-bot` does."""

import sys

from bot.cli import main

sys.exit(main())
