"""``python -m glmtui``: the same as the ``glmtui`` command."""

from __future__ import annotations

import sys

from glmtui.cli import main

if __name__ == "__main__":
    sys.exit(main())
