"""Process start → first frame, headless: ``python -m tests.benchmarks.first_frame ours|naive``.

``ours`` runs ``glmtui --demo`` itself (``glmtui.cli.main``), with ``App.run`` made headless at
120x40; it exits right after the chat screen's first frame. ``naive`` runs the baseline screen
the same way. The process prints one line, ``FIRST_FRAME {json}``, with wall-clock times
(``time.time()``, comparable with the parent's launch time):

* ``imported``: the app is built and starts running (its modules are imported);
* ``first_frame``: the first frame of the chat screen (glmtui) or of the app (naive) is drawn.

With ``--modules`` the line also lists the modules loaded at that frame (``modules``), so a
test can check that what the first frame does not need is still imported on first use.

Nothing is imported before the app imports it (Textual is patched the moment ``textual.app``
has loaded), so the process starts as ``glmtui`` does.

The frame is detected by wrapping ``Screen._compositor_refresh`` (private Textual API), and
counts only if it would reach a terminal: Textual discards a frame drawn while the app batches
updates (``App._batch_count``, private), as it does while it starts up. (glmtui's chat screen
was once pushed inside that batch: its first frame counted here while a terminal showed
nothing until a later frame redrew the screen.)
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

    from textual.app import App
    from textual.screen import Screen


class _WhenLoaded:
    """Calls ``then(module)`` right after the module ``name`` is first executed.

    A meta path finder needs only ``find_spec``; it does not subclass
    ``importlib.abc.MetaPathFinder`` because importing ``importlib.abc`` pulls in
    ``importlib.resources`` (20–30 ms here), which ``glmtui`` does not import to start.
    """

    def __init__(self, name: str, then: Callable[[ModuleType], None]) -> None:
        self.name = name
        self.then = then

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = next(
            filter(None, (finder.find_spec(fullname, path, target) for finder in sys.meta_path)),
            None,
        )
        assert spec is not None
        assert spec.loader is not None
        loader = spec.loader
        execute = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            self.then(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def main() -> None:
    """Run the named app until its first frame; print the times."""
    args = sys.argv[1:]
    which = next((arg for arg in args if not arg.startswith("--")), "ours")
    modules = "--modules" in args
    sys.meta_path.insert(0, _WhenLoaded("textual.app", lambda module: _patch(which, modules)))
    if which == "ours":
        from glmtui.cli import main as glmtui_main

        glmtui_main(["--demo"])
    else:
        from tests.benchmarks.naive import NaiveChatApp

        NaiveChatApp().run()
    print("FIRST_FRAME " + json.dumps(_times), flush=True)


_times: dict[str, Any] = {}


def _patch(which: str, modules: bool) -> None:
    """Make ``App.run`` headless at 120x40 and note the first displayed frame (and, with
    ``modules``, what is imported by then)."""
    from textual.app import App
    from textual.screen import Screen

    screen_name = "ChatScreen" if which == "ours" else ""
    times = _times
    original_refresh = Screen._compositor_refresh

    def refresh(screen: Screen[Any]) -> None:
        batched = screen.app._batch_count > 0  # Textual does not display this frame
        original_refresh(screen)
        if "first_frame" in times or screen is not screen.app.screen or batched:
            return
        if not screen_name or type(screen).__name__ == screen_name:
            times["first_frame"] = time.time()
            if modules:
                times["modules"] = sorted(sys.modules)
            screen.app.exit()

    original_run = App.run

    def run(app: App[Any], **_options: Any) -> Any:
        times["imported"] = time.time()
        return original_run(app, headless=True, size=(120, 40))

    Screen._compositor_refresh = refresh  # type: ignore[method-assign, assignment]
    App.run = run  # type: ignore[method-assign, assignment]


if __name__ == "__main__":
    main()
