"""Make the README's and the docs' screenshot (docs/assets/chat.svg) with the app itself.

The picture should show what glmtui is, not a mock-up of it: this runs the real app headless
in the offline demo (no key, no network), asks the demo backend a question, waits for the reply
to finish, unfolds its reasoning (Shift+Tab, t) and saves Textual's SVG export of the screen.
The demo's reply carries the things worth seeing: reasoning apart from the answer, a table and
a highlighted code block.

Run it from the repository root after a change to how the chat screen looks::

    .venv/bin/python docs/tools/screenshot.py

Nothing is written outside a temporary folder except the SVG: the config and the session the
demo saves live in a folder that is removed at the end.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glmtui.ui.screens.chat import ChatScreen

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "docs" / "assets" / "chat.svg"
SIZE = (120, 50)
"""Columns and rows: wide enough for the docked parameter sidebar (100+ columns), tall enough
for the whole exchange."""
PROMPT = "What does glmtui show while GLM-5 answers?"


def finished(screen: ChatScreen) -> bool:
    """Whether the chat screen's last message is a completed reply."""
    messages = screen.session.messages
    return bool(messages) and messages[-1].role == "assistant" and messages[-1].status == "complete"


async def shoot() -> str:
    """Run the demo, let one reply finish, and return the screen as SVG."""
    from glmtui.config import Overrides, load_settings
    from glmtui.ui.app import GlmApp
    from glmtui.ui.screens.chat import ChatScreen

    with tempfile.TemporaryDirectory(prefix="glmtui-shot-") as tmp:
        os.environ["GLMTUI_DATA_DIR"] = str(Path(tmp) / "data")
        settings = load_settings(Overrides(demo=True), config_path=Path(tmp) / "config.toml")
        # Instant replies and a still cursor: the picture does not depend on timing.
        settings = replace(settings, demo_pace=0, cursor_blink=False)
        app = GlmApp(settings)
        async with app.run_test(size=SIZE) as pilot:
            while not (isinstance(app.screen, ChatScreen) and app.screen.is_mounted):
                await pilot.pause(0.05)
            screen = app.screen
            composer = screen.query_one("#composer")
            composer.focus()
            composer.text = PROMPT  # type: ignore[attr-defined]
            await pilot.press("enter")
            while not finished(screen):
                await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            await pilot.pause()
            # Shift+Tab selects the newest message, t unfolds its reasoning, Esc goes back to
            # the composer; End shows the newest text, as after a reply.
            await pilot.press("shift+tab", "t", "end", "escape")
            await app.workers.wait_for_complete()
            await pilot.pause(0.5)
            return app.export_screenshot(title="glmtui")


def main() -> int:
    """Write the screenshot; the path goes to stdout."""
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    svg = asyncio.run(shoot())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(svg, encoding="utf-8")
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
