"""First run without a key: where to get one, paste it (saved privately), or try the demo.

The pasted key is tried on the provider before it is saved. Only a rejection stops it: when
the server cannot be reached (offline, or in trouble) the key is saved anyway, and the user is
told it was not checked and why, never that it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Markdown, Static

from glmtui.api.errors import OXEN_KEY_URL
from glmtui.domain.text import visible_controls
from glmtui.ui.widgets.footer import KeyFooter


@dataclass(frozen=True)
class KeyCheckResult:
    """What trying a key on the provider found."""

    rejected: str = ""
    """Why the key cannot be used ("" when it may be): it is not saved."""
    checked_with: str = ""
    """The host that accepted the key ("" when it was not checked)."""
    unchecked: str = ""
    """Why the key could not be checked, e.g. "could not reach hub.oxen.ai (…)"."""


KeyCheck = Callable[[str], Awaitable[KeyCheckResult]]
"""Tries a key on the provider."""


@dataclass(frozen=True)
class FirstRunChoice:
    """What the user chose: a key to save and use, or the offline demo."""

    api_key: str | None = None
    demo: bool = False
    check: KeyCheckResult = KeyCheckResult()
    """What trying the key found (nothing, when there was no check)."""


def mask(key: str) -> str:
    """A key shown safely: the last four characters only."""
    return "…" + key[-4:] if len(key) > 8 else "…"


class FirstRunScreen(Screen[FirstRunChoice | None]):
    """Shown when no API key is configured for a provider that needs one.

    | Key | Action |
    |---|---|
    | Enter | Save the pasted key and start |
    | F2 | Continue in the offline demo |
    | Ctrl+Q | Quit |
    """

    BINDINGS = [
        Binding("f2", "demo", "Offline demo", id="first_run.demo"),
    ]

    DEFAULT_CSS = """
    FirstRunScreen { align: center middle; }
    FirstRunScreen > VerticalScroll {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $panel; padding: 0 2;
    }
    FirstRunScreen .title { text-style: bold; color: $text-primary; width: 100%; margin: 1 0; }
    FirstRunScreen Markdown { background: transparent; margin: 0; padding: 0; }
    FirstRunScreen Markdown > MarkdownParagraph:last-child { margin: 0; }
    FirstRunScreen Input { margin: 1 0 0 0; }
    FirstRunScreen .problem { color: $text-error; height: auto; }
    FirstRunScreen .problem.checking { color: $text-muted; }
    FirstRunScreen Horizontal { height: auto; margin: 0 0 1 0; }
    FirstRunScreen Button { margin: 0 1 0 0; }
    """

    def __init__(self, config_path: Path, env_var: str, check: KeyCheck | None = None) -> None:
        super().__init__()
        self.config_path = config_path
        self.env_var = env_var
        self.check = check

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Welcome to glmtui", classes="title")
            # The address as text, not only a link: over SSH a link is not clickable.
            yield Markdown(
                "glmtui chats with **GLM-5** on Oxen.ai, which needs an API key. Copy yours "
                f"from your Oxen.ai profile settings, `{OXEN_KEY_URL}`, and paste it below. "
                "It is checked with the server, then saved to "
                f"`{visible_controls(str(self.config_path))}`, readable only by you "
                "(mode 0600).\n\n"
                f"Or set `{self.env_var}` in your shell, or log in with the oxen CLI. "
                "No key yet? The offline demo shows everything glmtui does."
            )
            yield Input(placeholder="Paste your API key", password=True, id="key")
            yield Static("", classes="problem", markup=False)
            with Horizontal():
                yield Button("Save key and start", variant="primary", id="save")
                yield Button("Try the offline demo (F2)", id="demo")
                yield Button("Quit", id="quit")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        key = self.query_one(Input).value.strip()
        if not key:
            self._problem("Paste a key first, or choose the offline demo.")
            return
        if any(c.isspace() for c in key):
            self._problem("That does not look like a key: it contains spaces.")
            return
        self._verify_and_save(key)

    @work(exclusive=True)
    async def _verify_and_save(self, key: str) -> None:
        result = KeyCheckResult()
        if self.check is not None:
            self._problem("Checking the key…", error=False)
            result = await self.check(key)
            if result.rejected:
                self._problem(result.rejected)
                return
        self.dismiss(FirstRunChoice(api_key=key, check=result))

    def _problem(self, text: str, *, error: bool = True) -> None:
        widget = self.query_one(".problem", Static)
        widget.update(text)
        widget.set_class(not error, "checking")

    @on(Button.Pressed, "#demo")
    def action_demo(self) -> None:
        """Continue without a key, in the offline demo."""
        self.dismiss(FirstRunChoice(demo=True))

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        self.dismiss(None)
