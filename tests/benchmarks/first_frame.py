"""Process start → first frame, headless: ``python -m tests.benchmarks.first_frame ours|naive``.

``ours`` does what ``glmtui --demo`` does (import the CLI, parse ``--demo``, load the settings,
run :class:`~glmtui.ui.app.GlmApp`), but headless at 120x40 and exiting right after the chat
screen's first frame. ``naive`` runs the baseline screen the same way. The process prints one
line, ``FIRST_FRAME {json}``, with wall-clock times (``time.time()``, comparable with the
parent's launch time):

* ``imported``: the app's modules are imported;
* ``first_frame``: the first frame of the chat screen (glmtui) or of the app (naive) is drawn.

The frame is detected by wrapping ``Screen._compositor_refresh`` (private Textual API).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def main() -> None:
    """Run the named app until its first frame; print the times."""
    which = sys.argv[1] if len(sys.argv) > 1 else "ours"
    app: Any
    if which == "ours":
        from glmtui.cli import build_parser
        from glmtui.config import Overrides, load_settings
        from glmtui.ui.app import GlmApp

        args = build_parser().parse_args(["--demo"])
        app = GlmApp(load_settings(Overrides(demo=bool(args.demo))))
        screen_name = "ChatScreen"
    else:
        from tests.benchmarks.naive import NaiveChatApp

        app = NaiveChatApp()
        screen_name = ""
    imported = time.time()
    from textual.screen import Screen

    original = Screen._compositor_refresh
    times: dict[str, float] = {"imported": imported}

    def refresh(screen: Screen[Any]) -> None:
        original(screen)
        if "first_frame" in times or screen is not screen.app.screen:
            return
        if not screen_name or type(screen).__name__ == screen_name:
            times["first_frame"] = time.time()
            screen.app.exit()

    Screen._compositor_refresh = refresh  # type: ignore[method-assign, assignment]
    app.run(headless=True, size=(120, 40))
    print("FIRST_FRAME " + json.dumps(times), flush=True)


if __name__ == "__main__":
    main()
