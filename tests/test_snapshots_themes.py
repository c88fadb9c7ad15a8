"""The chat screen in every bundled theme: a finished exchange with its reasoning unfolded.

One snapshot per theme file in ``themes/``, at 120x48, so a change to a theme (or to how glmtui
draws with one) shows up as a picture to look at. Each should read as: the header; your prompt
on its tinted band with the theme's primary bar; the reply with its reasoning unfolded (muted
italics behind a thin rule), a heading, inline code, a Python block that uses most token kinds
(import, decorator, docstring, comment, keywords, constants, numbers, an escape, an f-string, a
class) and a diff block, on the code background; the message box; the status bar (GLM-5,
in 21 · out 96 (thinking 18), the context gauge and a cost); the footer.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.pilot import Pilot

from glmtui.domain import Session
from glmtui.ui.items import ReplyItem
from glmtui.ui.themes import bundled_themes_dir, load_themes
from tests.server import LoopbackServer
from tests.ui_helpers import FIXED_TIME, chat, make_app, sample_session, settle

BUNDLED = sorted(load_themes(None).themes)

ANSWER = """\
### A cached greeting

Use `functools.cache` so each greeting is built once:

```python
import functools


@functools.cache
def greet(name: str, times: int = 2) -> str:
    \"\"\"Greet someone, politely.\"\"\"
    if not name or name is None:  # nothing to greet
        raise ValueError("empty name\\n")
    return f"Hello, {name}! " * times


class Greeter:
    polite = True
```

The change, as a diff:

```diff
@@ -1 +1 @@
-def greet(name):
+def greet(name: str, times: int = 2) -> str:
```
"""


def theme_session() -> Session:
    """The sample exchange with an answer that shows off every kind of code token."""
    session = sample_session()
    reply = replace(session.messages[1], content=ANSWER)
    return replace(session, messages=[session.messages[0], reply])


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("glmtui.domain.utc_now", lambda: FIXED_TIME)


async def unfolded(pilot: Pilot[int]) -> None:
    """Settle and unfold the reply's reasoning (the test app's cursors do not blink)."""
    await settle(pilot)
    view = chat(pilot.app).conversation
    for item in view.items:
        if isinstance(item, ReplyItem):
            item.reasoning_open = True
            view.redraw(item)
    await pilot.pause()


def test_every_theme_file_is_snapshotted() -> None:
    folder = bundled_themes_dir()
    assert folder is not None
    assert len(BUNDLED) == len(list(folder.glob("*.toml"))) >= 5


@pytest.mark.parametrize("theme", BUNDLED)
def test_finished_exchange_in_theme(snap_compare, server: LoopbackServer, theme: str) -> None:
    """You should see the finished exchange described in the module docstring, in ``theme``:
    body text, the reasoning and every code token clearly readable on their backgrounds."""
    app = make_app(server, session=theme_session(), theme=theme)
    assert snap_compare(app, terminal_size=(120, 48), run_before=unfolded)
