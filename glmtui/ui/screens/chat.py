"""The chat screen: conversation, composer, status bar, and the generation loop.

One turn: the composer's text becomes a user message, an assistant message is mounted in its
"thinking" state, and an exclusive worker streams the reply into it. Stopping (Esc) or an error
keeps whatever arrived, marks the reply ``interrupted`` or ``error`` and says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static
from textual.worker import Worker, WorkerState

from glmtui.api.errors import ApiError, one_line
from glmtui.api.models import assumed_context_length, builtin_card
from glmtui.api.request import ChatRequest, build_request
from glmtui.chat.endpoints import (
    DEMO_PROVIDER,
    DEMO_URL,
    Route,
    profile_url,
    public_url,
    route_session,
    session_endpoint,
)
from glmtui.chat.keeper import Conflict, SessionKeeper
from glmtui.config import Settings
from glmtui.domain import Message, ModelCard, Session, auto_title
from glmtui.domain.params import ranges_for
from glmtui.domain.stats import (
    TurnStats,
    context_use,
    conversation_cost,
    estimate_conversation_tokens,
)
from glmtui.domain.text import visible_controls
from glmtui.ui.compat import StyledOnce
from glmtui.ui.items import Item, ReplyItem, UserItem
from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.conversation import ConversationView
from glmtui.ui.widgets.footer import KeyFooter
from glmtui.ui.widgets.kept_lines import KeptLines
from glmtui.ui.widgets.sidebar import ParameterSidebar, RequestSettings
from glmtui.ui.widgets.status import StatusBar, StatusInfo
from glmtui.ui.widgets.still_box import StillBox

if TYPE_CHECKING:
    from glmtui.api.client import ChatClient
    from glmtui.chat.catalog import ModelCatalog
    from glmtui.store import SessionStore

STATUS_REFRESH = 1.0
"""Seconds between status-bar refreshes while a reply streams (done in the conversation's
frames, so the status bar costs no frame of its own; drawing it costs ~1-3 ms, and the reply's
own header already shows its numbers twice a second)."""
STATUS_FALLBACK = 1.0
"""Seconds between status-bar refreshes while no frame is drawn (a stalled stream)."""
SIDEBAR_MIN_WIDTH = 100
"""Below this many columns the sidebar is hidden (Ctrl+B opens it as an overlay)."""
LARGE_REPLY = 1_000_000
"""A finished reply longer than this (characters) is saved in a thread."""
CHECKPOINT_INTERVAL = 3.0
"""Seconds between saves of a streaming reply (a crash loses at most this much)."""
WAITING_NOTE = "Streaming is off: waiting for the complete reply…"
"""Under the spinner of a reply asked for without streaming, until it arrives whole."""


@dataclass
class ChatContext:
    """What the chat screen needs from the app: settings, a client and the store."""

    settings: Settings
    make_client: Callable[[str, str | None], ChatClient]
    """Gives the API client for a provider profile, sending to a URL (None: wherever the
    profile sends; another URL gets no key). Called on first use, so httpx loads after the
    first frame."""
    model_card: ModelCard | None = None
    make_store: Callable[[], SessionStore] | None = None
    """Gives the session store (None: nothing is saved); called on first use."""

    @property
    def client(self) -> ChatClient:
        """The client of the configured provider."""
        return self.make_client(self.settings.provider.name, None)

    def client_for(self, provider: str, base_url: str | None = None) -> ChatClient:
        """The client of any provider profile (a session may use another than the default),
        sending to ``base_url`` (None: where the profile sends; anywhere else: without a key).
        """
        return self.make_client(provider, base_url)

    @cached_property
    def catalog(self) -> ModelCatalog:
        """Model cards and the catalogue of the configured provider (cached on disk)."""
        from glmtui.chat.catalog import ModelCatalog

        return ModelCatalog.from_settings(self.settings)

    @property
    def store(self) -> SessionStore | None:
        """Where sessions are saved, if anywhere."""
        return self.make_store() if self.make_store is not None else None


class ChatScreen(StyledOnce, KeptLines, Screen[None]):
    """A conversation with the model.

    | Key | Action |
    |---|---|
    | Enter | Send (in the composer) |
    | Ctrl+J | New line (in the composer) |
    | Esc | Stop the reply that is streaming; otherwise back to the composer |
    | Ctrl+R | Regenerate the last reply (retry after an error) |
    | Ctrl+N | New chat |
    | Ctrl+O | Sessions: browse, search, resume |
    | Ctrl+B | Parameters sidebar: go to it (pressed there: hide it); an overlay when narrow |
    | Ctrl+End | Jump to the newest text and follow it |
    | Ctrl+T | Show or hide reasoning in every reply |
    | F1 | Keys and help |
    | Ctrl+P | Command palette |
    """

    CSS_PATH = "chat.tcss"
    AUTO_FOCUS = "#composer"
    """Focus the composer directly: focusing the sidebar first restyles it twice."""

    BINDINGS = [
        Binding("escape", "stop", "Stop", priority=True, id="chat.stop"),
        Binding("escape", "focus_composer", "Composer", show=False, id="chat.focus_composer"),
        Binding("ctrl+r", "regenerate", "Regenerate", show=False, id="chat.regenerate"),
        Binding("ctrl+n", "new_chat", "New chat", show=False, id="chat.new"),
        Binding("ctrl+o", "sessions", "Sessions", id="chat.sessions"),
        Binding("ctrl+b", "toggle_sidebar", "Parameters", id="chat.parameters"),
        Binding("ctrl+end", "follow", "Follow", show=False, id="chat.follow"),
        Binding("ctrl+t", "toggle_reasoning", "Reasoning", show=False, id="chat.reasoning"),
        Binding("f1", "help", "Help", id="chat.help"),
        Binding("f2", "preview_request", "Request", show=False, id="chat.request_preview"),
        Binding("f3", "model_info", "Model", show=False, id="chat.model_info"),
        Binding("f4", "models", "Models", show=False, id="chat.models"),
    ]

    def __init__(self, context: ChatContext, session: Session | None = None) -> None:
        super().__init__()
        self.context = context
        settings = context.settings
        provider, base_url = session_endpoint(settings)
        self.session = session or Session(
            model=settings.model,
            provider=provider,
            base_url=base_url,
            system_prompt=settings.system_prompt,
            parameters=settings.parameters,
        )
        self.show_reasoning = settings.show_reasoning
        self.model_card = context.model_card or builtin_card(self.session.model)
        self._generation: Worker[None] | None = None
        self._stats: TurnStats | None = None
        self._editing: Message | None = None
        self._draft_before_edit = ""
        self._sidebar_wanted = True
        self._models_suggested = False
        self._model_ids: list[str] = []
        self._agreed: set[tuple[str, str]] = set()
        """(session id, recorded URL) pairs the user agreed to send to without a key."""
        self.keeper = SessionKeeper(
            lambda: context.store,
            on_error=lambda text: self.notify(text, severity="error", timeout=10, markup=False),
            on_saved=self._saved_again,
            on_conflict=self._conflict,
        )
        if session is not None:
            self.keeper.adopt(session)

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Everything but the conversation sits in a StillBox: Textual redraws every widget
        # placed directly on the screen at each frame of a streaming reply, but skips what is
        # inside a box the frame does not touch (see glmtui.ui.widgets.still_box).
        with StillBox(id="top-bar"):
            yield Header(icon="◆")
        with StillBox(id="sidebar-box"):
            yield self._make_sidebar(id="sidebar", deferred=True)  # fields after the 1st frame
        yield ConversationView(id="conversation")
        with StillBox(id="chat-bottom"):
            yield Static(id="edit-banner", markup=False)
            yield Composer(placeholder=self._placeholder(), id="composer")
            yield StatusBar(id="status-bar")
        with StillBox(id="bottom-bar"):
            yield KeyFooter()

    async def on_mount(self) -> None:
        self.title = "glmtui"
        self._sidebar_wanted = self.size.width >= SIDEBAR_MIN_WIDTH
        self._place_sidebar()
        self._update_titles()
        self.query_one("#edit-banner").display = False
        self.conversation.load([self._item_for(m) for m in self.session.messages])
        self.query_one(Composer).focus()
        self._refresh_status()
        self._warn_if_unconfigured()
        self.call_after_refresh(self._fetch_model_card)  # after the first frame

    # --- parameters ------------------------------------------------------------------------

    def _request_settings(self) -> RequestSettings:
        session = self.session
        return RequestSettings(
            session.provider, session.model, session.system_prompt, session.parameters
        )

    def _make_sidebar(self, *, id: str | None = None, deferred: bool = False) -> ParameterSidebar:
        settings = self.context.settings
        # In the demo nothing leaves this machine, whatever the sidebar says: it offers none.
        providers = [DEMO_PROVIDER] if settings.demo else list(settings.providers)
        if self.session.provider not in providers:
            providers.append(self.session.provider)
        return ParameterSidebar(
            self._request_settings(),
            providers=providers,
            thinking={name: profile.thinking for name, profile in settings.providers.items()},
            ranges=ranges_for(self._card_for_model()),
            models=self._model_ids,
            deferred=deferred,
            id=id,
        )

    def _card_for_model(self) -> ModelCard | None:
        card = self.model_card
        return card if card is not None and card.id == self.session.model else None

    def on_resize(self, event: events.Resize) -> None:
        self._place_sidebar()

    def _place_sidebar(self) -> None:
        """Docked at the right when there is room (and wanted); hidden in narrow terminals."""
        sidebar = self.query_one("#sidebar", ParameterSidebar)
        sidebar.display = self._sidebar_wanted and self.size.width >= SIDEBAR_MIN_WIDTH

    def action_toggle_sidebar(self) -> None:
        """Go to the parameters; from them, hide them. In a narrow terminal they open as an
        overlay.

        A docked sidebar that does not have the focus is focused (the first field), not
        hidden: the key's first use in a wide terminal is to reach it. Pressed again there,
        it hides the sidebar and goes back to the composer; pressed once more, it shows the
        sidebar again and focuses it.
        """
        if self.size.width < SIDEBAR_MIN_WIDTH:
            from glmtui.ui.screens.parameters import ParametersScreen

            self.app.push_screen(ParametersScreen(self._make_sidebar()), self._overlay_closed)
            return
        docked = self.query_one("#sidebar", ParameterSidebar)
        if docked.display and not docked.has_focus_within:
            docked.focus_first()
            return
        self._sidebar_wanted = not self._sidebar_wanted
        self._place_sidebar()
        sidebar = self.query_one("#sidebar", ParameterSidebar)
        if sidebar.display:
            sidebar.focus_first()
        else:
            self.query_one(Composer).focus()

    @on(ParameterSidebar.Changed)
    def _parameters_changed(self, event: ParameterSidebar.Changed) -> None:
        """A valid change: it applies to the next request and is saved with the session."""
        event.stop()
        self._apply_settings(event.settings, from_overlay=event.sidebar.id != "sidebar")

    def _commit_sidebar(self) -> None:
        """Take in a value typed into the docked sidebar but not yet committed with Enter."""
        sidebar = self.query_one("#sidebar", ParameterSidebar)
        sidebar.commit()
        if sidebar.settings != self._request_settings():
            self._apply_settings(sidebar.settings, from_overlay=False)

    def _overlay_closed(self, settings: RequestSettings | None) -> None:
        """The overlay commits the field being edited as it closes; take that in too."""
        if settings is not None and settings != self._request_settings():
            self._apply_settings(settings, from_overlay=True)

    def _apply_settings(self, changed: RequestSettings, *, from_overlay: bool) -> None:
        session = self.session
        model_changed = changed.model != session.model
        provider_changed = changed.provider != session.provider
        if provider_changed:  # the session now talks to that profile's server
            session.base_url = self._url_of(changed.provider)
        session.provider = changed.provider
        session.model = changed.model
        session.system_prompt = changed.system_prompt
        session.parameters = changed.parameters
        session.touch()
        self.keeper.save_now(session)
        if from_overlay:  # keep the docked sidebar in step
            self.query_one("#sidebar", ParameterSidebar).load(self._request_settings())
        if model_changed or provider_changed:
            self._update_titles()
            self._fetch_model_card()
        self._refresh_status()

    @on(ParameterSidebar.ResetRequested)
    def _parameters_reset(self, event: ParameterSidebar.ResetRequested) -> None:
        """Back to the config file's defaults (model and provider stay)."""
        event.stop()
        settings = self.context.settings
        self.session.parameters = settings.parameters
        self.session.system_prompt = settings.system_prompt
        self.session.touch()
        self.keeper.save_now(self.session)
        event.sidebar.load(self._request_settings())
        if event.sidebar.id != "sidebar":
            self.query_one("#sidebar", ParameterSidebar).load(self._request_settings())
        self.notify("Parameters reset to the config file's defaults.", timeout=3, markup=False)

    @on(ParameterSidebar.PreviewRequested)
    def _parameters_preview(self, event: ParameterSidebar.PreviewRequested) -> None:
        event.stop()
        self.action_preview_request()

    @on(ParameterSidebar.CompareRequested)
    def _parameters_compare(self, event: ParameterSidebar.CompareRequested) -> None:
        event.stop()
        self.action_compare()

    def next_request(self) -> ChatRequest:
        """Exactly what Enter would send now: the conversation plus the composer's text."""
        session = self.session
        draft = self.query_one(Composer).text
        messages = list(session.messages)
        if draft.strip():
            messages.append(Message("user", draft))
        upcoming = replace(session, messages=messages)
        return build_request(upcoming, thinking_style=self._thinking_style())

    def _thinking_style(self) -> str:
        providers = self.context.settings.providers
        profile = providers.get(self.route.provider) or providers.get(self.session.provider)
        return profile.thinking if profile is not None else "none"

    # --- where requests go -----------------------------------------------------------------

    @property
    def route(self) -> Route:
        """Where this session's requests go (see :func:`glmtui.chat.endpoints.route_session`)."""
        session = self.session
        return route_session(self.context.settings, session.provider, session.base_url)

    @property
    def demo(self) -> bool:
        """True when replies come from the offline demo (this run, or a demo session)."""
        return self.context.settings.demo or self.session.provider == DEMO_PROVIDER

    def _agreed_to(self, route: Route) -> bool:
        """Whether requests may go out now: a configured route, or the recorded URL the user
        agreed (for this session) to send to without a key."""
        return route.configured or (self.session.id, route.recorded) in self._agreed

    def _session_client(self) -> ChatClient:
        """The client for this session's route (the recorded URL, keyless, once agreed)."""
        route = self.route
        if route.configured:
            return self.context.client_for(route.provider, route.base_url)
        return self.context.client_for(self.session.provider, route.recorded)

    def _url_of(self, provider: str) -> str:
        """The API root a session of ``provider`` records (no credentials)."""
        if provider == DEMO_PROVIDER:
            return DEMO_URL
        return public_url(profile_url(self.context.settings, provider) or "")

    def _warn_if_unconfigured(self) -> None:
        """Say, as a session opens, that its server is not configured any more."""
        route = self.route
        if not self._agreed_to(route):
            self.notify(
                f"This chat was held with {route.recorded}, which no provider profile sends "
                "to now. Nothing is sent until you choose where (you are asked on sending).",
                severity="warning",
                timeout=10,
                markup=False,
            )

    def _check_endpoint(self, then: Callable[[], Awaitable[None]]) -> bool:
        """True when the session may send now; else ask where to, and run ``then`` once the
        user has chosen (nothing is sent if they cancel).

        A resumed session whose server no profile is configured for any more would otherwise
        go to the profile's server of today, with its key: the user picks the recorded URL
        (without a key) or today's (the session is updated), or cancels.
        """
        route = self.route
        if self._agreed_to(route):
            return True
        from glmtui.ui.screens.prompt import ChoiceScreen

        session = self.session
        current = f"{route.base_url} ({route.provider})"
        if route.provider == session.provider:
            now = f"The {session.provider} profile now sends to {route.base_url}."
        else:
            now = f"There is no {session.provider} profile now; {current} is the default."
        question = (
            f"This chat was held with {route.recorded}, and no provider profile is configured "
            f"for that server now. {now}\n\nWhere should this conversation go? Your key is "
            "only ever sent to the server it is configured for."
        )
        choices = [
            ("recorded", f"Send to {route.recorded} without a key"),
            ("current", f"Send to {current} from now on"),
            ("cancel", "Cancel: send nothing"),
        ]

        async def chosen(choice: str | None) -> None:
            if session is not self.session:
                return
            if choice == "recorded":
                self._agreed.add((session.id, route.recorded))
            elif choice == "current":
                session.provider = route.provider
                session.base_url = public_url(route.base_url)
                session.touch()
                self.keeper.save_now(session)
                self.query_one("#sidebar", ParameterSidebar).load(self._request_settings())
                self._update_titles()
            else:
                self.notify(
                    "Nothing was sent; your text is still in the composer.",
                    timeout=4,
                    markup=False,
                )
                return
            self._fetch_model_card()
            await then()

        self.app.push_screen(ChoiceScreen(question, choices, stacked=True), chosen)
        return False

    def _request_texts(self) -> dict[str, str]:
        from glmtui.chat.export import FORMATS, render

        request = self.next_request()
        base_url, key_variable = self._endpoint()
        return {fmt: render(request, fmt, base_url, key_variable) for fmt in FORMATS}

    def _endpoint(self) -> tuple[str, str | None]:
        """Where the session's requests go, and the variable holding the key (if one is needed)."""
        settings = self.context.settings
        route = self.route
        if route.provider == DEMO_PROVIDER:
            return DEMO_URL, None
        if not route.configured:
            return route.recorded, None  # no key goes there
        profile = settings.providers.get(route.provider, settings.provider)
        base_url = route.base_url
        variable = profile.api_key_env or "OXEN_API_KEY"
        needed = profile.key_required(base_url) or (
            profile.name == settings.provider.name and bool(settings.api_key)
        )
        return base_url, variable if needed else None

    def action_preview_request(self) -> None:
        """Show the next request as cURL, Python and JSON."""
        from glmtui.ui.screens.request_preview import RequestPreviewScreen

        self._commit_sidebar()
        draft = self.query_one(Composer).text.strip()
        note = (
            "Includes the text in the composer as the new message."
            if draft
            else "The composer is empty: this is the conversation as it stands."
        )
        self.app.push_screen(RequestPreviewScreen(self._request_texts(), note))

    def action_copy_request(self, fmt: str) -> None:
        """Copy the next request in one format."""
        self._commit_sidebar()
        self.app.copy_to_clipboard(self._request_texts()[fmt])
        names = {"curl": "cURL", "python": "Python", "json": "JSON"}
        self.notify(
            f"Request copied as {names.get(fmt, fmt)} (the key stays a variable).", markup=False
        )

    def action_compare(self) -> None:
        """Answer the last prompt with another model or parameter set, side by side."""
        from glmtui.domain.params import ParameterError, describe_set
        from glmtui.ui.screens.compare import CompareScreen, Contender, parse_alternative
        from glmtui.ui.screens.prompt import PromptScreen

        if self.generating:
            self.notify(
                "Wait for the reply to finish (or stop it with Esc).", timeout=3, markup=False
            )
            return
        messages = self.session.messages
        prompts = [index for index, message in enumerate(messages) if message.role == "user"]
        if not prompts:
            self.notify("Send a prompt first; compare answers it again.", timeout=3, markup=False)
            return

        async def again() -> None:
            self.action_compare()

        if not self._check_endpoint(again):
            return
        last = prompts[-1]
        history = replace(self.session, messages=messages[: last + 1])
        following = messages[last + 1] if last + 1 < len(messages) else None
        existing = following if following is not None and following.role == "assistant" else None
        session = self.session

        def validate(text: str) -> str | None:
            try:
                parse_alternative(text, session.model, session.parameters)
            except ParameterError as error:
                return str(error)
            return None

        def start(text: str | None) -> None:
            if text is None:
                return
            alternative = parse_alternative(text, session.model, session.parameters)
            client = self._session_client()
            priced = not self.demo  # canned demo replies cost nothing
            left = Contender(
                f"{session.model} (current) · {describe_set(session.parameters)}",
                session.model,
                session.parameters,
                client,
                self._thinking_style(),
                self._card_for_model(),
                existing,
                priced=priced,
            )
            right = Contender(
                f"{alternative.model} · {describe_set(alternative.parameters)}",
                alternative.model,
                alternative.parameters,
                client,
                self._thinking_style(),
                self._card_for_model() if alternative.model == session.model else None,
                priced=priced,
            )
            screen = CompareScreen(history, left, right, find_card=self._lookup_card)
            self.app.push_screen(screen, keep)

        def keep(reply: Message | None) -> None:
            if reply is None or reply is existing or session is not self.session:
                return
            if existing is not None and existing in session.messages:
                session.messages[session.messages.index(existing)] = reply
            else:
                session.messages.insert(last + 1, reply)
            session.touch()
            self.keeper.save_now(session)
            self.conversation.load([self._item_for(m) for m in session.messages])
            self._refresh_status()
            self.notify(f"Kept the reply from {reply.model}.", timeout=3, markup=False)

        self.app.push_screen(
            PromptScreen(
                "Compare the last prompt with…",
                session.model,
                help="A model id, then any parameter overrides, e.g. "
                "“zai-org-glm-4.7-flash temperature=0.2”.",
                validate=validate,
            ),
            start,
        )

    @property
    def conversation(self) -> ConversationView:
        """The conversation pane."""
        return self.query_one(ConversationView)

    @property
    def live_reply(self) -> ReplyItem | None:
        """The reply that is streaming now, if any."""
        for item in reversed(self.conversation.items):
            if isinstance(item, ReplyItem) and item.streaming:
                return item
        return None

    def _item_for(self, message: Message) -> Item:
        if message.role == "user":
            return UserItem(message)
        return ReplyItem(
            message, show_reasoning=self.show_reasoning, model_label=self._model_label()
        )

    def _model_label(self) -> str:
        """The model's name as shown (its card's name once known, else its id), made safe."""
        card = self.model_card
        name = card.name if card is not None and card.id == self.session.model else ""
        return visible_controls(name or self.session.model)

    def _placeholder(self) -> str:
        return f"Ask {self._model_label()}…  (Enter sends · Ctrl+J new line · F1 help)"

    def _update_titles(self) -> None:
        title = self.session.title or "New chat"
        demo = " (demo)" if self.demo else ""
        self.sub_title = visible_controls(f"{self.session.model}{demo} · {title}")
        self.query_one(Composer).placeholder = self._placeholder()
        hint = [
            visible_controls(f"New chat with {self.session.model}"),
            "",
            "Type below · Enter sends · Ctrl+J new line",
            "Ctrl+B parameters · F3 model info · Ctrl+O sessions · Ctrl+P commands",
        ]
        if self.context.settings.demo:
            hint += [
                "",
                "Demo mode: replies are canned and nothing leaves this machine.",
                "Set OXEN_API_KEY and run glmtui to talk to GLM-5.",
            ]
        self.conversation.empty_hint = tuple(hint)
        self.conversation.refresh()

    # --- model facts -----------------------------------------------------------------------

    @work(exclusive=True, group="model-card", exit_on_error=False)
    async def _fetch_model_card(self) -> None:
        """Get the model's card (context length, output limit, prices) without delaying the
        first frame: live, else the cached copy, else the built-in card."""
        model = self.session.model
        card = await self._lookup_card(model)
        if card is None or model != self.session.model:
            return  # unknown, or the model changed meanwhile
        self.model_card = card
        self.query_one("#sidebar", ParameterSidebar).set_ranges(ranges_for(card))
        self._update_titles()  # the composer names the model by its card's name
        self._refresh_status()

    async def _lookup_card(self, model: str) -> ModelCard | None:
        """A model's card from where this session's requests go: the configured provider's
        catalogue (live, else cached, else built in), or another profile's server. None when
        unknown, and without asking anyone while the session's server waits for the user's
        choice (see :meth:`_check_endpoint`)."""
        route = self.route
        settings = self.context.settings
        if settings.demo or (route.configured and route.provider == settings.provider.name):
            return (await self.context.catalog.card(model)).card
        if not self._agreed_to(route):
            return None
        with contextlib.suppress(ApiError):
            return await self._session_client().get_model(model)
        return None

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Typing a model id: complete it from the catalogue (fetched once, cached on disk)."""
        if event.widget.id == "model" and not self._models_suggested:
            self._models_suggested = True
            self._suggest_models()

    @work(exclusive=True, group="model-suggestions", exit_on_error=False)
    async def _suggest_models(self) -> None:
        result = await self.context.catalog.catalogue()
        # An id a terminal would obey (escape sequences) is no suggestion: the field draws it.
        ids = [card.id for card in result.cards if visible_controls(card.id) == card.id]
        if ids:
            self._model_ids = ids
            self.query_one("#sidebar", ParameterSidebar).suggest_models(ids)

    def action_model_info(self) -> None:
        """The current model's details: facts, prices, limits, parameters, description."""
        self.show_model_info(self.session.model)

    def show_model_info(self, model_id: str) -> None:
        """A model's details; "use" switches this chat to it."""
        from glmtui.ui.screens.model_info import ModelInfoScreen

        screen = ModelInfoScreen(self.context.catalog, model_id, current_model=self.session.model)
        self.app.push_screen(screen, self.use_model)

    def action_models(self) -> None:
        """Every model the provider offers: search, filter, inspect, use."""
        from glmtui.ui.screens.catalogue import CatalogueScreen

        self.app.push_screen(
            CatalogueScreen(self.context.catalog, self.session.model), self.use_model
        )

    def use_model(self, model_id: str | None) -> None:
        """Switch this session to ``model_id`` (None: the user backed out)."""
        if not model_id or model_id == self.session.model:
            return
        if visible_controls(model_id) != model_id:
            self.notify(
                f"“{model_id}” holds control characters; glmtui does not use it as a model id.",
                severity="warning",
                timeout=6,
                markup=False,
            )
            return
        self.session.model = model_id
        self.session.touch()
        self.keeper.save_now(self.session)
        self.model_card = builtin_card(model_id)
        sidebar = self.query_one("#sidebar", ParameterSidebar)
        sidebar.load(self._request_settings(), ranges_for(self._card_for_model()))
        self._update_titles()
        self._refresh_status()
        self._fetch_model_card()
        self.notify(f"This chat now uses {model_id}.", timeout=3, markup=False)

    @property
    def context_limit(self) -> int | None:
        """The model's context length, when known."""
        return self._context_window()[0]

    def _context_window(self) -> tuple[int | None, bool]:
        """The model's context length (None: unknown), and whether it is assumed rather than
        reported: the built-in card's, a length glmtui knows for the model, or one the
        catalogue marks as assumed. A length set in the provider's profile is the user's word.
        """
        profile = self.context.settings.providers.get(self.route.provider)
        configured = getattr(profile, "context_length", None)
        if isinstance(configured, int) and configured > 0:
            return configured, False
        card = self.model_card
        if card is not None and card.id == self.session.model and card.context_length:
            return card.context_length, card.builtin or card.context_assumed
        known = assumed_context_length(self.session.model)
        return known, known is not None

    # --- sending ---------------------------------------------------------------------------

    @property
    def generating(self) -> bool:
        """True while a reply streams."""
        return self._generation is not None and self._generation.is_running

    @on(Composer.Submitted)
    async def _submitted(self, event: Composer.Submitted) -> None:
        event.stop()
        if self.generating:
            self.notify(
                "A reply is still streaming. Press Esc to stop it, then send.",
                severity="warning",
                timeout=4,
                markup=False,
            )
            return
        if self.session.read_only:
            self.notify(
                "This session is read-only (saved by a newer glmtui). Duplicate it in the "
                "session browser (Ctrl+O, c) to continue it.",
                severity="warning",
                timeout=8,
                markup=False,
            )
            return
        self._commit_sidebar()
        composer = event.composer
        text = event.text
        if self._check_endpoint(lambda: self._send(composer, text)):
            await self._send(composer, text)

    async def _send(self, composer: Composer, text: str) -> None:
        """Send ``text`` as the next prompt (the composer empties; the draft is remembered)."""
        if self.generating:
            return
        if self._editing is not None:
            await self._truncate_from(self._editing)
            self._end_edit(restore_draft=False)
        composer.remember(text)
        composer.text = ""
        message = Message("user", text)
        self.session.messages.append(message)
        if not self.session.title:
            self.session.title = auto_title(text)
            self._update_titles()
        self.session.touch()
        self.conversation.append(UserItem(message))
        self.keeper.save_now(self.session)  # on disk before the request goes out
        await self._start_reply()

    async def _start_reply(self) -> None:
        reply = Message("assistant", "", status="streaming", model=self.session.model)
        self.session.messages.append(reply)
        item = ReplyItem(
            reply,
            show_reasoning=self.show_reasoning,
            streaming=True,
            model_label=self._model_label(),
        )
        conversation = self.conversation
        conversation.append(item)
        conversation.action_follow()
        self._generation = self._generate(reply, item)
        self.refresh_bindings()

    @work(exclusive=True, group="generation", exit_on_error=False)
    async def _generate(self, reply: Message, item: ReplyItem) -> None:
        """Stream one reply into ``item``; whatever happens, keep what arrived and say why."""
        conversation = self.conversation
        index = self.session.messages.index(reply)
        history = replace(self.session, messages=self.session.messages[:index])
        request = build_request(history, thinking_style=self._thinking_style())
        stats = TurnStats()
        stats.start(estimate_conversation_tokens(history.messages, history.system_prompt))
        self._stats = stats
        item.stats = stats
        status_at = 0.0

        def refresh_status(every: float) -> None:
            nonlocal status_at
            now = time.monotonic()
            if now - status_at >= every:
                status_at = now
                self._refresh_status()

        conversation.frame_hook = lambda: refresh_status(STATUS_REFRESH)
        # A blinking cursor redraws the screen twice a second: a fifth of the frames of a
        # slow stream. It holds still while the reply streams (typing works as ever).
        composer = self.query_one(Composer)
        blink, composer.cursor_blink = composer.cursor_blink, False
        ticker = self.set_interval(
            STATUS_FALLBACK, lambda: refresh_status(STATUS_FALLBACK), name="status-tick"
        )
        checkpoints = self.set_interval(
            CHECKPOINT_INTERVAL, lambda: self._checkpoint(reply, item), name="checkpoint"
        )
        from glmtui.ui.reply_stream import stream_into  # with the stream events, on first use

        stream = self._session_client().stream_chat(request)
        # Not streamed, the whole reply arrives at once, after a silence as long as it takes
        # to write: say what is awaited (the spinner above it counts the seconds).
        waiting = WAITING_NOTE if request.stream is False else ""
        try:
            await stream_into(stream, reply, item, stats, conversation, waiting=waiting)
            reply.status = "complete"
            reply.error = None
        except ApiError as error:
            reply.status = "error"
            reply.error = error.describe()
        except asyncio.CancelledError:
            reply.status = "interrupted"
            reply.error = None
            raise
        finally:
            ticker.stop()
            conversation.frame_hook = None
            composer.cursor_blink = blink
            checkpoints.stop()
            stats.finish()
            reply.content = item.content_text
            reply.reasoning = item.reasoning_text
            if stats.first_token_at is not None or stats.usage is not None:
                reply.usage = stats.final_usage()
            self.session.touch()
            if reply.status in ("complete", "error") and len(reply.content) > LARGE_REPLY:
                # Megabytes take a few hundred ms to encode and write: off the UI thread
                # (a checkpoint worker, ordered after the earlier ones by the keeper).
                self.run_worker(self.keeper.save_soon(self.session), group="checkpoint")
            else:
                self.keeper.save_now(self.session)
            with contextlib.suppress(Exception):  # the screen may be closing
                conversation.finish(item)
            self._stats = None
            self._refresh_status()
            self.refresh_bindings()

    def _checkpoint(self, reply: Message, item: ReplyItem) -> None:
        """Save the reply so far (marked interrupted on disk until it completes)."""
        reply.content = item.content_text
        reply.reasoning = item.reasoning_text
        self.run_worker(self.keeper.save_soon(self.session), group="checkpoint")

    def _saved_again(self) -> None:
        self.notify("Saved again.", timeout=3, markup=False)
        self._refresh_status()

    def _conflict(self, conflict: Conflict) -> None:
        """The file changed (or vanished) under us: ours is safe in a copy; ask what to keep."""
        from glmtui.ui.screens.prompt import ChoiceScreen

        self._update_titles()
        if any(isinstance(screen, ChoiceScreen) for screen in self.app.screen_stack):
            self.notify(conflict.message, severity="warning", timeout=12, markup=False)
            return
        original = conflict.original_title or "Untitled"
        if conflict.deleted:
            question = (
                f"“{original}” was deleted by another program while it was open here. "
                f"Nothing is lost: this conversation was saved as “{conflict.copy_title}”.\n\n"
                "Save it again under its own name, keep it as the copy, or close it "
                "(the copy goes to the trash)?"
            )
            choices = [("mine", "Save it again"), ("both", "Keep the copy"), ("close", "Close it")]
        else:
            question = (
                f"“{original}” was changed by another program (another glmtui, an editor, a "
                "sync) while it was open here. Nothing is lost: this conversation was saved "
                f"as “{conflict.copy_title}”, the other version is untouched.\n\n"
                "Keep both, use yours (overwriting the other version), or open the other one "
                "(yours stays as the copy)?"
            )
            choices = [("both", "Keep both"), ("mine", "Use mine"), ("theirs", "Open theirs")]

        async def chosen(choice: str | None) -> None:
            await self._resolve_conflict(conflict, choice or "both")

        self.app.push_screen(ChoiceScreen(question, choices), chosen)

    async def _resolve_conflict(self, conflict: Conflict, choice: str) -> None:
        if choice == "mine":
            if self.keeper.use_mine(self.session, conflict):
                what = "saved again" if conflict.deleted else "saved over the other version"
                self.notify(
                    f"“{self.session.title or 'Untitled'}” {what}.", timeout=4, markup=False
                )
        elif choice == "theirs":
            self.keeper.save_now(self.session)
            await self.open_session(conflict.original_id)
            self.notify(
                f"Opened the other version; yours is “{conflict.copy_title}” (Ctrl+O).",
                timeout=6,
                markup=False,
            )
        elif choice == "close":
            self.keeper.save_now(self.session)
            await self.action_new_chat()
            self.keeper.discard_copy(conflict)
            store = self.context.store
            where = f" ({store.trash_folder})" if store is not None else ""
            self.notify(
                f"Closed; “{conflict.copy_title}” is in the trash{where}.", timeout=8, markup=False
            )
        self._update_titles()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """One place for unexpected worker failures: show them, never crash the app."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(
                f"Unexpected error: {one_line(f'{type(error).__name__}: {error}', 200)}",
                severity="error",
                timeout=8,
                markup=False,
            )
        if event.worker is self._generation and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self.refresh_bindings()

    # --- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show Stop only while streaming; Regenerate only when there is something to redo."""
        if action == "stop":
            return self.generating
        if action == "focus_composer":
            return not self.generating
        if action == "regenerate":
            return None if self.generating or not self.session.messages else True
        return True

    def action_stop(self) -> None:
        """Stop the reply that is streaming; the partial text stays, marked interrupted."""
        if self._generation is not None:
            self._generation.cancel()

    def action_focus_composer(self) -> None:
        """Back to the composer (or cancel an edit)."""
        composer = self.query_one(Composer)
        if self._editing is not None and composer.has_focus:
            self._end_edit(restore_draft=True)
        composer.focus()

    async def action_regenerate(self) -> None:
        """Throw away the last reply and ask again (also: retry after an error)."""
        if self.generating:
            return
        messages = self.session.messages
        if not messages:
            self.notify("Nothing to regenerate yet.", timeout=3, markup=False)
            return
        if not self._check_endpoint(self.action_regenerate):
            return  # asked where to send; the reply stays until then
        if messages[-1].role == "assistant":
            await self._remove_message(messages[-1])
        if not messages or messages[-1].role != "user":
            self.notify(
                "The last message is not a prompt; send one first.", timeout=3, markup=False
            )
            return
        await self._start_reply()

    async def action_new_chat(self) -> None:
        """Start an empty conversation, with this one's model where this one's requests go
        (or, when that server waits for the user's choice, the configured provider)."""
        settings = self.context.settings
        route = self.route
        if route.configured and not settings.demo and route.provider != DEMO_PROVIDER:
            provider, base_url = route.provider, public_url(route.base_url)
        else:
            provider, base_url = session_endpoint(settings)
        model = self.session.model
        if provider != self.session.provider:  # another server: the model it is set up with
            profile = settings.providers.get(provider)
            active = provider == settings.provider.name or profile is None
            model = settings.model if active or profile is None else profile.model
        await self.show_session(
            Session(
                model=model,
                provider=provider,
                base_url=base_url,
                system_prompt=settings.system_prompt,
                parameters=settings.parameters,
            )
        )

    async def show_session(self, session: Session) -> None:
        """Switch the screen to ``session`` (stopping any reply that streams)."""
        if self.generating and self._generation is not None:
            self._generation.cancel()
            await self._generation.wait()
        old = self.session
        elsewhere = (session.model, session.provider, session.base_url) != (
            old.model,
            old.provider,
            old.base_url,
        )
        self.session = session
        self.keeper.adopt(session)
        self.conversation.load([self._item_for(m) for m in session.messages])
        self.query_one("#sidebar", ParameterSidebar).load(self._request_settings())
        if elsewhere:
            self._fetch_model_card()
        self._end_edit(restore_draft=False)
        self._update_titles()
        self._refresh_status()
        self.query_one(Composer).focus()
        if session.read_only:
            self.notify(
                "This session was saved by a newer glmtui: it is open read-only. "
                "Duplicate it in the session browser to continue it.",
                severity="warning",
                timeout=10,
                markup=False,
            )
        self._warn_if_unconfigured()

    async def open_session(self, session_id: str | Path) -> None:
        """Load a saved session by id (or by its file) and show it."""
        from glmtui.store import StoreError

        store = self.context.store
        if store is None:
            return
        try:
            session = store.load(session_id)
        except StoreError as error:
            self.notify(str(error), severity="error", timeout=8, markup=False)
            return
        await self.show_session(session)

    def action_sessions(self) -> None:
        """Open the session browser."""
        from glmtui.ui.screens.sessions import BrowserResult, SessionsScreen

        store = self.context.store
        if store is None:
            self.notify("Sessions are not saved in this mode.", timeout=3, markup=False)
            return
        self.keeper.save_now(self.session)

        async def chosen(result: BrowserResult | None) -> None:
            if result is None:
                return
            if result.action == "new":
                await self.action_new_chat()
            elif result.action == "open" and result.session_id != self.session.id:
                # By the row's file: with copies sharing an id, the id alone may name another.
                await self.open_session(result.path or result.session_id)

        self.app.push_screen(SessionsScreen(store), chosen)

    def action_rename(self) -> None:
        """Rename the current session."""
        from glmtui.ui.screens.prompt import PromptScreen

        def rename(title: str | None) -> None:
            if not title:
                return
            self.session.title = title
            self.session.touch()
            self.keeper.save_now(self.session)
            self._update_titles()

        self.app.push_screen(
            PromptScreen(
                "Rename this session",
                self.session.title,
                validate=lambda text: None if text else "A title cannot be empty.",
            ),
            rename,
        )

    async def _fork_from(self, message: Message) -> None:
        """Continue in a copy of the conversation that ends at ``message``."""
        from glmtui.store import StoreError

        store = self.context.store
        if store is None or message not in self.session.messages:
            return
        self.keeper.save_now(self.session)
        try:
            fork = store.fork(self.session, self.session.messages.index(message))
        except StoreError as error:
            self.notify(str(error), severity="error", timeout=8, markup=False)
            return
        await self.show_session(fork)
        self.notify(
            f"Forked into “{fork.title}”; the original is unchanged.", timeout=5, markup=False
        )

    def action_follow(self) -> None:
        """Jump to the newest text and keep following it."""
        self.conversation.action_follow()

    def action_toggle_reasoning(self) -> None:
        """Show or hide the reasoning section of every reply."""
        self.show_reasoning = not self.show_reasoning
        self.conversation.set_show_reasoning(self.show_reasoning)
        self.notify(
            f"Reasoning {'shown' if self.show_reasoning else 'hidden'}.", timeout=2, markup=False
        )

    def action_help(self) -> None:
        """Show the keys."""
        from glmtui.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Entries for the command palette ("category: action")."""
        yield SystemCommand("chat: stop", "Stop the streaming reply (Esc)", self.action_stop)
        yield SystemCommand(
            "chat: regenerate", "Regenerate the last reply (Ctrl+R)", self.action_regenerate
        )
        yield SystemCommand("chat: new", "Start a new chat (Ctrl+N)", self.action_new_chat)
        yield SystemCommand(
            "chat: follow", "Jump to the newest text (Ctrl+End)", self.action_follow
        )
        yield SystemCommand(
            "view: toggle reasoning",
            "Show or hide reasoning in every reply (Ctrl+T)",
            self.action_toggle_reasoning,
        )
        yield SystemCommand("help: keys", "Every key glmtui understands (F1)", self.action_help)
        yield SystemCommand(
            "view: toggle parameters",
            "Show or hide the parameter sidebar (Ctrl+B)",
            self.action_toggle_sidebar,
        )
        yield SystemCommand(
            "model: info",
            "The current model's facts, prices, limits and parameters (F3)",
            self.action_model_info,
        )
        yield SystemCommand(
            "model: catalogue",
            "Every model the provider offers: search, inspect, use (F4)",
            self.action_models,
        )
        yield SystemCommand(
            "request: preview",
            "The next request as cURL, Python and JSON (F2)",
            self.action_preview_request,
        )
        yield SystemCommand(
            "chat: compare",
            "Answer the last prompt with another model or parameters",
            self.action_compare,
        )
        for fmt, name in (("curl", "cURL"), ("python", "Python (httpx)"), ("json", "JSON")):
            yield SystemCommand(
                f"request: copy as {name}",
                "Copy the next request; the key is written as an environment variable",
                lambda fmt=fmt: self.action_copy_request(fmt),
            )
        if self.context.store is not None:
            yield SystemCommand(
                "session: browse",
                "Search, resume and manage sessions (Ctrl+O)",
                self.action_sessions,
            )
            yield SystemCommand("session: rename", "Rename this session", self.action_rename)
        conversation = self.conversation
        if conversation.items:
            if conversation.selected is None:
                conversation.selected = len(conversation.items) - 1
            item = conversation.selected_item
            yield SystemCommand(
                "message: copy", "Copy the selected message (c)", conversation.action_copy
            )
            yield SystemCommand(
                "message: copy code block", "Copy a code block (b)", conversation.action_copy_code
            )
            yield SystemCommand(
                "message: delete",
                "Delete the selected message (d)",
                lambda: conversation.action_request("delete"),
            )
            if self.context.store is not None:
                yield SystemCommand(
                    "session: fork from this message",
                    "Continue in a copy that ends at the selected message (f)",
                    lambda: conversation.action_request("fork"),
                )
            if isinstance(item, UserItem):
                yield SystemCommand(
                    "message: edit and resend",
                    "Edit this prompt and resend from here (e)",
                    lambda: conversation.action_request("edit"),
                )
            if isinstance(item, ReplyItem):
                yield SystemCommand(
                    "message: toggle reasoning",
                    "Fold or unfold this reply's reasoning (t)",
                    conversation.action_toggle_reasoning,
                )

    # --- message actions -------------------------------------------------------------------

    @on(ConversationView.ActionRequested)
    async def _message_action(self, event: ConversationView.ActionRequested) -> None:
        event.stop()
        message, action = event.message, event.action
        is_last = bool(self.session.messages) and message is self.session.messages[-1]
        if action == "delete":
            await self._delete(message)
        elif action == "edit":
            self._begin_edit(message)
        elif action in ("regenerate", "retry"):
            if is_last:
                await self.action_regenerate()
            else:
                self.notify(f"Only the last reply can be {action}d.", timeout=3, markup=False)
        elif action == "copy_code":
            self._pick_code_block(message)
        elif action == "fork":
            await self._fork_from(message)

    async def _delete(self, message: Message) -> None:
        if self.generating and message.status == "streaming" and self._generation:
            self._generation.cancel()
            await self._generation.wait()
        await self._remove_message(message)
        self.notify("Message deleted.", timeout=2, markup=False)

    async def _remove_message(self, message: Message) -> None:
        if message in self.session.messages:
            self.session.messages.remove(message)
            self.session.touch()
            self.keeper.save_now(self.session)
        self.conversation.remove_message(message)
        self._refresh_status()

    async def _truncate_from(self, message: Message) -> None:
        """Remove ``message`` and everything after it (edit-and-resend)."""
        if message not in self.session.messages:
            return
        index = self.session.messages.index(message)
        for later in list(self.session.messages[index:]):
            await self._remove_message(later)

    def _begin_edit(self, message: Message) -> None:
        if self.generating:
            self.notify(
                "Stop the streaming reply first (Esc).", severity="warning", timeout=3, markup=False
            )
            return
        composer = self.query_one(Composer)
        if self._editing is None:
            self._draft_before_edit = composer.text
        self._editing = message
        composer.text = message.content
        composer.move_cursor(composer.document.end)
        later = len(self.session.messages) - self.session.messages.index(message) - 1
        banner = self.query_one("#edit-banner", Static)
        replaced = f" and the {later} message{'s' if later != 1 else ''} after it" if later else ""
        banner.update(
            f"Editing an earlier prompt: Enter resends it, replacing it{replaced}. Esc cancels."
        )
        banner.display = True
        composer.focus()

    def _end_edit(self, *, restore_draft: bool) -> None:
        if self._editing is None:
            return
        self._editing = None
        self.query_one("#edit-banner").display = False
        if restore_draft:
            self.query_one(Composer).text = self._draft_before_edit
        self._draft_before_edit = ""

    def _pick_code_block(self, message: Message) -> None:
        from glmtui.domain.markdown import code_blocks
        from glmtui.ui.screens.code_picker import CodeBlockPicker

        blocks = code_blocks(message.content)

        def copy(index: int | None) -> None:
            if index is not None:
                self.app.copy_to_clipboard(blocks[index].code)
                self.notify(
                    f"Code block {index + 1} copied to the clipboard.", timeout=2, markup=False
                )

        self.app.push_screen(CodeBlockPicker(blocks), copy)

    # --- status ----------------------------------------------------------------------------

    def _refresh_status(self) -> None:
        """Recompute the status bar: live numbers while streaming, else the last reply's.

        Canned demo replies cost nothing, so no cost is shown for them; a cost worked out from
        estimated token counts, and a context window glmtui assumes, are marked as such.
        """
        stats = self._stats
        messages = self.session.messages
        card = self.model_card
        pricing = card.pricing if card is not None and card.id == self.session.model else None
        cost = None
        if pricing is not None and not self.demo:
            cost = conversation_cost(messages, pricing)
        guessed = any(
            m.usage is not None and m.usage.estimated and m.usage.cost is None for m in messages
        )
        limit, assumed = self._context_window()
        base = StatusInfo(
            model=self._model_label(),
            demo=self.demo,
            cost=cost,
            cost_estimated=cost is not None and guessed,
            context_assumed=assumed,
        )
        pending = 0
        if self.keeper.unsaved:
            base = replace(base, note="⚠ not saved")
        if stats is not None:
            pending = stats.completion_tokens if stats.first_token_at is not None else 0
            info = replace(
                base,
                streaming=True,
                time_to_first_token=stats.time_to_first_token,
                tokens_per_second=stats.tokens_per_second,
                prompt_tokens=stats.usage.prompt_tokens if stats.usage else stats.prompt_estimate,
                completion_tokens=stats.completion_tokens,
                estimated=stats.estimated,
            )
        else:
            last = next((m for m in reversed(messages) if m.usage is not None), None)
            usage = last.usage if last is not None else None
            info = base
            if usage is not None:
                info = replace(
                    base,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                    reasoning_tokens=usage.reasoning_tokens,
                    estimated=usage.estimated,
                )
        settled = [m for m in messages if m.status != "streaming"]
        info = replace(
            info,
            context=context_use(settled, self.session.system_prompt, limit, pending),
        )
        self.query_one(StatusBar).show(info)
