"""GlmApp: the Textual application. Kept thin: it wires settings and the client to screens."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import Command, CommandPalette
from textual.content import Content
from textual.markup import MarkupError
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, TextArea

from glmtui import startup_gc
from glmtui.api.errors import ApiError, AuthError, one_line
from glmtui.api.pacing import ReadPacing
from glmtui.chat.endpoints import client_settings, make_client, public_url
from glmtui.config import ConfigError, Settings, save_api_key, update_config_file
from glmtui.domain import Session
from glmtui.domain.text import visible_controls
from glmtui.paths import user_themes_dir
from glmtui.ui.clipboard import Clipboard
from glmtui.ui.compat import use_whole_pastes
from glmtui.ui.screens.chat import ChatContext, ChatScreen
from glmtui.ui.theme_picker import ThemeCommands, ThemePicked
from glmtui.ui.themes import fallback_theme, load_themes, theme_variable_defaults
from glmtui.ui.tool_host import HostFactory, ToolRuntime, mcp_host_factory
from glmtui.ui.widgets.conversation import FRAME_INTERVAL, SLOWEST_FRAME, TOKENS_PER_FRAME

if TYPE_CHECKING:
    from glmtui.api.client import ChatClient
    from glmtui.store import SessionStore
    from glmtui.ui.screens.first_run import FirstRunChoice, KeyCheckResult


READ_PACING = ReadPacing(FRAME_INTERVAL, SLOWEST_FRAME, TOKENS_PER_FRAME, behind=0.002)
"""Reads while a reply streams follow the conversation's frame policy: one read per frame
(30 a second when fast, about 5 tokens a read when slow), a little after the frame is due,
so that each read is drawn at once."""
THEME_PREVIEW_DELAY = 0.12
"""Seconds a theme must stay highlighted in the picker before it is previewed: restyling the
whole screen takes a noticeable fraction of a second, so holding an arrow key previews only
where it stops instead of queueing a restyle per row."""


class GlmApp(App[int]):
    """The glmtui application.

    | Key | Action |
    |---|---|
    | Ctrl+P | Command palette |
    | Ctrl+Q | Quit |
    """

    TITLE = "glmtui"
    CSS_PATH = "screens/chat.tcss"
    """The chat screen's stylesheet (the screen names it too), read with the app's own CSS: a
    pushed screen that brings a stylesheet the app has not read makes Textual parse the whole
    stylesheet again (~10 ms of startup here)."""
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit")]

    def __init__(
        self,
        settings: Settings,
        *,
        client: ChatClient | None = None,
        session: Session | None = None,
        store: SessionStore | None = None,
        open_browser: bool = False,
        model_info: str | None = None,
        tool_host: HostFactory | None = None,
    ) -> None:
        """
        Args:
            settings: Resolved settings.
            client: The API client (default: one made from the settings on first use).
            session: A conversation to show first (``--session``).
            store: Where sessions are saved (default: the data dir's store).
            open_browser: Open the session browser first (``--sessions``).
            model_info: Open this model's details first (``--model-info ID``).
            tool_host: Makes the MCP host (default: one for the config's ``[mcp]`` servers,
                if any); tests pass a fake.
        """
        super().__init__()
        use_whole_pastes()  # pastes holding escape sequences arrive whole (glmtui.ui.compat)
        self.settings = settings
        self.clipboard_settings = Clipboard(settings.clipboard, settings.clipboard_command)
        """How copies reach the clipboard (every copy goes through glmtui.ui.clipboard)."""
        self._client = client
        self._initial_session = session
        self._store = store
        self._secrets: set[str] = set()
        """Keys of other provider profiles this run used: masked in saved sessions too."""
        self._open_browser = open_browser
        self._model_info = model_info
        self._theme_before_preview: str | None = None
        """The theme to go back to if the theme picker is closed without a choice."""
        self._theme_preview: Timer | None = None
        self._other_clients: dict[str, ChatClient] = {}
        """Clients of other endpoints than the configured one, by (kind, name or URL)."""
        self._theme_notes = self._choose_theme(settings.theme, self._register_themes())
        """What went wrong choosing the theme, told once the app is up."""
        self.tools = ToolRuntime(self, tool_host or mcp_host_factory(settings))
        """The MCP servers: started after the first frame, stopped when the app ends."""
        self._sigterm: signal.Handlers | Callable[..., object] | int | None = None
        """SIGTERM's handler before this app took it (it is put back as the app ends); None
        while the app does not handle SIGTERM."""

    @property
    def client(self) -> ChatClient:
        """The API client for the current settings (created on first use)."""
        if self._client is None:
            self._client = make_client(self.settings, read_pacing=READ_PACING)
        return self._client

    def client_for(self, provider: str, base_url: str | None = None) -> ChatClient:
        """The client for a provider profile (the configured one, or another a session uses).

        Other profiles take their own base URL, model and key variable from the config; in the
        demo everything goes to the demo backend, and a session saved from the demo goes there
        too. A key goes only where its profile sends now: asked for another ``base_url`` (a
        session's recorded one, which the user agreed to send to), the client sends no key.

        Args:
            provider: The profile's name.
            base_url: Where to send; None for wherever the profile sends.
        """
        name, chosen = client_settings(self.settings, provider, base_url)
        if chosen is self.settings:
            return self.client
        if chosen.api_key:
            self._secrets.add(chosen.api_key)
            if self._store is not None:
                self._store.add_secret(chosen.api_key)  # an echo of it is masked when saved
        return self._cached_client(name, chosen)

    def _cached_client(self, key: str, settings: Settings) -> ChatClient:
        """One client per endpoint for the app's lifetime (each keeps its connections)."""
        client = self._other_clients.get(key)
        if client is None:
            client = self._other_clients[key] = make_client(settings, read_pacing=READ_PACING)
        return client

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """glmtui's variables and code styles for the current theme, where it leaves them out.

        The theme's own variables are passed in too, so derived colours follow the ones it
        does set (code colours are measured against its ``code-block-background``).
        """
        theme = self.current_theme
        colors = theme.to_color_system().generate()
        return theme_variable_defaults({**colors, **theme.variables})

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Textual's notification, with every control character shown, never obeyed.

        Notices quote what users, files and servers supply (theme names, titles, model ids,
        error bodies); an escape sequence in one must not retitle the window or write the
        clipboard, whichever screen raised it. glmtui's own notices pass ``markup=False``;
        markup that does not parse is shown as it is rather than failing to draw.
        """
        message, title = visible_controls(message), visible_controls(title)
        if markup:
            try:
                Content.from_markup(message)
            except MarkupError:
                markup = False
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header's title line, on every screen: control characters shown, never obeyed
        (a session title or a model name comes from a file or a server)."""
        return super().format_title(visible_controls(title), visible_controls(sub_title))

    def on_mount(self) -> None:
        self._apply_keymap()
        if self._theme_notes:
            self.notify(
                "\n\n".join(self._theme_notes),
                title="Themes",
                severity="warning",
                timeout=12,
                markup=False,
            )
        # Not pushed here: Textual runs on_mount inside its start-up batch, and a frame drawn
        # in a batch is thrown away; a terminal showed nothing of the chat screen until
        # something redrew all of it (~0.3 s later on the reference machine).
        self.call_later(self._open_first_screen)
        self._handle_sigterm()

    def _apply_keymap(self) -> None:
        """Remap keys as the config's ``[keymap]`` says, on every screen (footer, help and
        palette show the keys in force). Entries that cannot be used keep their binding's
        default keys and are told in one notice naming the file and lines: a keymap problem
        never stops glmtui."""
        from glmtui.ui.keymap import check_keymap

        if not self.settings.keymap:
            return
        keymap = check_keymap(self.settings.keymap, self.settings.config_path)
        if keymap.overrides:
            self.set_keymap(keymap.overrides)
        if keymap.problems:
            self.notify(
                keymap.notice(self.settings.config_path),
                title="Keys",
                severity="warning",
                timeout=15,
                markup=False,
            )

    def _handle_sigterm(self) -> None:
        """Exit cleanly on SIGTERM (``kill``, a closing terminal multiplexer, a service
        manager): MCP servers killed at once, the terminal restored, the streaming reply kept
        as interrupted. Without a handler the process died where it stood, the terminal left
        in raw mode. Only where the loop can take signals (the main thread, not Windows)."""
        before = signal.getsignal(signal.SIGTERM)
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._terminated)
        except (NotImplementedError, RuntimeError, ValueError):
            return
        self._sigterm = before if before is not None else signal.SIG_DFL

    def _terminated(self) -> None:
        self.tools.kill_now()
        self.exit(return_code=128 + signal.SIGTERM)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Text fields on every screen blink as the ``cursor_blink`` setting says.

        Applied when a field takes focus (the only time its cursor shows), so fields of
        screens opened later, and of screens added later, follow it too. Only ever turns
        blinking off: the chat screen stills the composer's cursor while a reply streams.
        """
        widget = event.widget
        if not self.settings.cursor_blink and isinstance(widget, Input | TextArea):
            widget.cursor_blink = False

    def _open_first_screen(self) -> None:
        """The first-run screen when a key is needed, else the chat."""
        if self.settings.key_required:
            from glmtui.ui.screens.first_run import FirstRunScreen

            env_var = self.settings.provider.api_key_env or "OXEN_API_KEY"
            self.push_screen(
                FirstRunScreen(self.settings.config_path, env_var, self._check_key),
                self._first_run_done,
            )
        else:
            self._open_chat()
        # The CLI paused garbage collection for the start (see glmtui.startup_gc).
        self.screen.call_after_refresh(startup_gc.resume)
        self.screen.call_after_refresh(self.tools.start)  # MCP servers: after the 1st frame

    def _register_themes(self) -> str:
        """Register the bundled and the user's theme files; returns their problems, if any."""
        catalog = load_themes(user_themes_dir(self.settings.config_path))
        for theme in catalog.themes.values():
            self.register_theme(theme)
        return catalog.describe_problems()

    def _choose_theme(self, name: str, problems: str = "") -> list[str]:
        """Use ``name``, or the fallback if there is no such theme; returns what to tell.

        Called from ``__init__``, before anything is styled. Skipped theme files and a
        missing theme are told in one notice, so a broken file that held the configured theme
        reads as one story, not two warnings.
        """
        notes = [f"Skipped theme files:\n{problems}"] if problems else []
        if name in self.available_themes:
            self.theme = name
        else:
            fallback = fallback_theme(self.available_themes)
            self.theme = fallback
            folder = user_themes_dir(self.settings.config_path)
            notes.append(
                f"There is no theme '{name}' (bundled, in {folder} or Textual's); using "
                f"'{fallback}'. Ctrl+P → Theme lists them all."
            )
        return notes

    def action_change_theme(self) -> None:
        """Open the theme picker: a theme previews as it is highlighted, Enter keeps it (and
        saves it to the config), Escape goes back to the theme from before."""
        self._theme_before_preview = self.theme
        self.push_screen(
            CommandPalette(providers=[ThemeCommands], placeholder="Search for themes…")
        )

    def on_command_palette_option_highlighted(
        self, event: CommandPalette.OptionHighlighted
    ) -> None:
        if self._theme_before_preview is None:
            return
        option = event.highlighted_event.option
        if isinstance(option, Command) and option.hit.text in self.available_themes:
            name = option.hit.text
            self._stop_theme_preview()
            self._theme_preview = self.set_timer(
                THEME_PREVIEW_DELAY, lambda: self._preview_theme(name)
            )

    def _preview_theme(self, name: str) -> None:
        if self._theme_before_preview is not None:
            self.theme = name

    def _stop_theme_preview(self) -> None:
        if self._theme_preview is not None:
            self._theme_preview.stop()
            self._theme_preview = None

    def on_command_palette_closed(self, event: CommandPalette.Closed) -> None:
        # A choice arrives as ThemePicked; only a close without one restores the old theme.
        if self._theme_before_preview is not None and not event.option_selected:
            self._stop_theme_preview()
            self.theme, self._theme_before_preview = self._theme_before_preview, None

    def on_theme_picked(self, event: ThemePicked) -> None:
        self._stop_theme_preview()
        self._theme_before_preview = None
        if event.name not in self.available_themes:
            return
        self.theme = event.name
        path = self.settings.config_path
        try:
            update_config_file(path, {"theme": event.name})
        except ConfigError as error:
            self.notify(
                f"{error} The theme is used for this run only.", severity="error", markup=False
            )
            return
        self.settings = replace(self.settings, theme=event.name)
        note = " (GLMTUI_THEME is set and overrides it)" if os.environ.get("GLMTUI_THEME") else ""
        self.notify(f"Theme '{event.name}' saved to {path}{note}.", timeout=4, markup=False)

    @property
    def store(self) -> SessionStore:
        """The session store (opened on first use)."""
        if self._store is None:
            from glmtui.store import SessionStore

            self._store = SessionStore.from_settings(self.settings)
            for secret in self._secrets:  # keys of other profiles used before the store
                self._store.add_secret(secret)
        return self._store

    def _open_chat(self) -> None:
        session, self._initial_session = self._initial_session, None
        context = ChatContext(
            self.settings, self.client_for, make_store=lambda: self.store, tools=self.tools
        )
        screen = ChatScreen(context, session)
        self.push_screen(screen)
        if self._open_browser:
            self._open_browser = False
            self.call_after_refresh(screen.action_sessions)
        elif self._model_info:
            model_id, self._model_info = self._model_info, None
            self.call_after_refresh(screen.show_model_info, model_id)

    async def _check_key(self, key: str) -> KeyCheckResult:
        """Try the key on the models endpoint; only a rejection stops it being saved.

        Offline, or with the server in trouble, the key may still be right: it is saved, and
        the user is told it was not checked and why.
        """
        from glmtui.ui.screens.first_run import KeyCheckResult

        host = urlsplit(public_url(self.settings.base_url)).netloc or self.settings.base_url
        probe = make_client(replace(self.settings, api_key=key))  # its timeouts and retries
        try:
            await probe.list_models()
        except AuthError:
            return KeyCheckResult(
                rejected="That key was rejected by the server. Check it and paste it again."
            )
        except ApiError as error:
            reason = one_line(error.message, 160).rstrip(".")
            reason = reason[:1].lower() + reason[1:] if reason[1:2].islower() else reason
            if error.kind in ("network", "timeout"):
                return KeyCheckResult(unchecked=f"could not reach {host} ({reason})")
            return KeyCheckResult(unchecked=f"{host} could not check it ({reason})")
        finally:
            await probe.aclose()
        return KeyCheckResult(checked_with=host)

    async def _first_run_done(self, choice: FirstRunChoice | None) -> None:
        if choice is None:
            self.exit(0)
            return
        if choice.demo:
            self.settings = replace(self.settings, demo=True)
        elif choice.api_key:
            from glmtui.ui.screens.first_run import mask

            self.settings = replace(
                self.settings, api_key=choice.api_key, api_key_source="config file"
            )
            if self._store is not None:
                self._store.add_secret(choice.api_key)
            path = self.settings.config_path
            try:
                save_api_key(path, self.settings.provider.name, choice.api_key)
            except ConfigError as error:
                self.notify(
                    f"{error} The key is used for this run only.", severity="error", markup=False
                )
            else:
                key = mask(choice.api_key)
                if choice.check.checked_with:
                    where = f"checked with {choice.check.checked_with} and saved to {path}"
                    self.notify(f"Key {key} {where}.", timeout=5, markup=False)
                else:
                    why = choice.check.unchecked or "nothing checked it"
                    self.notify(
                        f"Key {key} saved to {path}, not checked: {why}.",
                        severity="warning",
                        timeout=12,
                        markup=False,
                    )
        if self._client is not None:
            await self._client.aclose()
        for client in self._other_clients.values():
            await client.aclose()
        self._client = None
        self._other_clients.clear()
        self._open_chat()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, ChatScreen):
            yield from screen.palette_commands()

    async def on_unmount(self) -> None:
        if self._sigterm is not None:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
            signal.signal(signal.SIGTERM, self._sigterm)
            self._sigterm = None
        await self.tools.close()  # after the screens: a stopped turn has saved its calls
        if self._client is not None:
            await self._client.aclose()
        for client in self._other_clients.values():
            await client.aclose()
        if self._store is not None:
            self._store.close()
