"""``python -m sasview_saxsim_plugin.cli`` = ``saxsim``."""

import sys

from .commands import main

sys.exit(main())
