"""GlmApp: the Textual application. Kept thin: it wires settings and the client to screens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.color import Color
from textual.screen import Screen

from glmtui.api.errors import ApiError, AuthError
from glmtui.config import ConfigError, Settings, save_api_key
from glmtui.connect import make_client
from glmtui.domain import Session
from glmtui.ui.screens.chat import ChatContext, ChatScreen

if TYPE_CHECKING:
    from glmtui.api.client import ChatClient
    from glmtui.store import SessionStore
    from glmtui.ui.screens.first_run import FirstRunChoice


READ_INTERVAL = 1 / 30
"""Seconds between socket reads while streaming: well under a frame, far fewer wakeups."""


def theme_variable_defaults(colors: dict[str, str]) -> dict[str, str]:
    """glmtui's own CSS variables, derived from a theme's generated colours.

    Themes may set any of these in their ``variables``; these defaults keep every theme
    (Textual's built-in ones included) readable.
    """

    def mix(base: str, over: str, amount: float) -> str:
        return Color.parse(base).blend(Color.parse(over), amount).hex

    background = colors["background"]
    return {
        "user-message-background": mix(background, colors["primary"], 0.12),
        "user-message-border": colors["primary"],
        "assistant-message-background": mix(background, colors["foreground"], 0.03),
        "assistant-message-border": colors["secondary"],
        "message-focus-background": mix(background, colors["accent"], 0.12),
        "reasoning-foreground": mix(colors["foreground"], background, 0.35),
        "reasoning-title": mix(colors["foreground"], background, 0.25),
        "reasoning-border": mix(background, colors["foreground"], 0.25),
        "code-block-background": mix(background, colors["foreground"], 0.07),
        "composer-background": colors["surface"],
        "composer-border": mix(background, colors["foreground"], 0.25),
        "composer-border-focus": colors["primary"],
        "status-bar-background": colors["panel"],
        "status-bar-foreground": colors["foreground"],
    }


class GlmApp(App[int]):
    """The glmtui application.

    | Key | Action |
    |---|---|
    | Ctrl+P | Command palette |
    | Ctrl+Q | Quit |
    """

    TITLE = "glmtui"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit")]

    def __init__(
        self,
        settings: Settings,
        *,
        client: ChatClient | None = None,
        session: Session | None = None,
        store: SessionStore | None = None,
        open_browser: bool = False,
    ) -> None:
        """
        Args:
            settings: Resolved settings.
            client: The API client (default: one made from the settings on first use).
            session: A conversation to show first (``--session``).
            store: Where sessions are saved (default: the data dir's store).
            open_browser: Open the session browser first (``--sessions``).
        """
        super().__init__()
        self.settings = settings
        self._client = client
        self._initial_session = session
        self._store = store
        self._open_browser = open_browser

    @property
    def client(self) -> ChatClient:
        """The API client for the current settings (created on first use)."""
        if self._client is None:
            self._client = make_client(self.settings, read_interval=READ_INTERVAL)
        return self._client

    def get_theme_variable_defaults(self) -> dict[str, str]:
        colors = self.current_theme.to_color_system().generate()
        return theme_variable_defaults(colors)

    def on_mount(self) -> None:
        self._apply_theme(self.settings.theme)
        if self.settings.key_required:
            from glmtui.ui.screens.first_run import FirstRunScreen

            env_var = self.settings.provider.api_key_env or "OXEN_API_KEY"
            self.push_screen(
                FirstRunScreen(self.settings.config_path, env_var, self._check_key),
                self._first_run_done,
            )
        else:
            self._open_chat()

    def _apply_theme(self, name: str) -> None:
        if name in self.available_themes:
            self.theme = name
        else:
            self.notify(
                f"Theme '{name}' not found; using textual-dark.", severity="warning", timeout=6
            )

    @property
    def store(self) -> SessionStore:
        """The session store (opened on first use)."""
        if self._store is None:
            from glmtui.store import SessionStore

            self._store = SessionStore.from_settings(self.settings)
        return self._store

    def _open_chat(self) -> None:
        session, self._initial_session = self._initial_session, None
        context = ChatContext(self.settings, lambda: self.client, make_store=lambda: self.store)
        screen = ChatScreen(context, session)
        self.push_screen(screen)
        if self._open_browser:
            self._open_browser = False
            self.call_after_refresh(screen.action_sessions)

    async def _check_key(self, key: str) -> str | None:
        """Try the key on the models endpoint; only a rejection stops it being saved."""
        from glmtui.api.client import ChatClient

        probe = ChatClient(self.settings.base_url, key)
        try:
            await probe.list_models()
        except AuthError:
            return "That key was rejected by the server. Check it and paste it again."
        except ApiError:
            return None  # offline or server trouble: the key may still be right
        finally:
            await probe.aclose()
        return None

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
            try:
                save_api_key(self.settings.config_path, self.settings.provider.name, choice.api_key)
                self.notify(
                    f"Key {mask(choice.api_key)} saved to {self.settings.config_path}.", timeout=5
                )
            except ConfigError as error:
                self.notify(f"{error} The key is used for this run only.", severity="error")
        if self._client is not None:
            await self._client.aclose()
        self._client = None
        self._open_chat()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, ChatScreen):
            yield from screen.palette_commands()

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._store is not None:
            self._store.close()
