"""What every part of the chat screen may use: one base class naming it, so each part is
typed on its own and the parts never import each other or the screen."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from textual.notifications import SeverityLevel
from textual.screen import Screen

from glmtui.chat.compaction import shown_count
from glmtui.chat.controller import ConversationController
from glmtui.chat.endpoints import (
    DEMO_PROVIDER,
    Route,
    provider_options,
    route_session,
    session_profile,
)
from glmtui.config import Settings
from glmtui.domain import Message, ModelCard, Session
from glmtui.ui.compacted import CompactedItem, SummaryItem
from glmtui.ui.items import Item, ReplyItem, UserItem
from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.conversation import ConversationView
from glmtui.ui.widgets.sidebar import ParameterSidebar, RequestSettings

if TYPE_CHECKING:
    from collections.abc import Callable

    from glmtui.api.client import ChatClient
    from glmtui.api.models import ModelTraits
    from glmtui.api.request import ProviderOptions
    from glmtui.chat.catalog import ModelCatalog
    from glmtui.domain.stats import TurnStats
    from glmtui.store import SessionStore
    from glmtui.ui.tool_host import ToolRuntime


@dataclass
class ChatContext:
    """What the chat screen needs from the app: settings, clients and the store."""

    settings: Settings
    make_client: Callable[[str, str | None], ChatClient]
    """Gives the API client for a provider profile, sending to a URL (None: wherever the
    profile sends; another URL gets no key). Called on first use, so httpx loads after the
    first frame."""
    model_card: ModelCard | None = None
    make_store: Callable[[], SessionStore] | None = None
    """Gives the session store (None: nothing is saved); called on first use."""
    tools: ToolRuntime | None = None
    """The app's MCP servers (None: no tools this run)."""

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


class ChatScreenBase(Screen[None]):
    """The chat screen's shared state and widgets (see :mod:`glmtui.ui.chat`)."""

    context: ChatContext
    controller: ConversationController
    model_card: ModelCard | None
    show_reasoning: bool
    _agreed: set[tuple[str, str]]
    """(session id, recorded URL) pairs the user agreed to send to without a key."""

    @property
    def session(self) -> Session:
        """The open conversation (changed only through :attr:`controller`)."""
        return self.controller.session

    @property
    def conversation(self) -> ConversationView:
        """The conversation pane."""
        return self.query_one(ConversationView)

    @property
    def composer(self) -> Composer:
        """Where the user writes."""
        return self.query_one(Composer)

    _keys_in_force: dict[str, str] | None = None

    def keys_in_force(self) -> dict[str, str] | None:
        """Binding id → keys, with the config's ``[keymap]`` applied; None without a keymap
        (checking one imports every screen's bindings, which a plain start never needs)."""
        settings = self.context.settings
        if not settings.keymap:
            return None
        if self._keys_in_force is None:
            from glmtui.ui.keymap import check_keymap

            self._keys_in_force = check_keymap(settings.keymap, settings.config_path).keys()
        return self._keys_in_force

    def key_text(self, binding_id: str, default: str) -> str:
        """How hints write a binding's keys: ``default`` (its key as shipped, e.g. "Ctrl+R")
        unless the ``[keymap]`` moved it, so every hint names the key that works."""
        keys = self.keys_in_force()
        if keys is None or binding_id not in keys:
            return default
        from glmtui.ui.keymap import key_label

        return key_label(keys[binding_id])

    @property
    def sidebar(self) -> ParameterSidebar:
        """The docked parameter sidebar."""
        return self.query_one("#sidebar", ParameterSidebar)

    @property
    def generating(self) -> bool:
        """True while a reply streams."""
        return self.controller.generating

    @property
    def route(self) -> Route:
        """Where this session's requests go (see :func:`glmtui.chat.endpoints.route_session`)."""
        session = self.session
        return route_session(self.context.settings, session.provider, session.base_url)

    @property
    def demo(self) -> bool:
        """True when replies come from the offline demo (this run, or a demo session)."""
        return self.context.settings.demo or self.session.provider == DEMO_PROVIDER

    def agreed_to(self, route: Route) -> bool:
        """Whether requests may go out now: a configured route, or the recorded URL the user
        agreed (for this session) to send to without a key."""
        return route.configured or (self.session.id, route.recorded) in self._agreed

    def session_client(self, session: Session | None = None) -> ChatClient:
        """The client for the session's route (the recorded URL, keyless, once agreed)."""
        session = session or self.session
        route = route_session(self.context.settings, session.provider, session.base_url)
        if route.configured:
            return self.context.client_for(route.provider, route.base_url)
        return self.context.client_for(session.provider, route.recorded)

    def thinking_style(self, session: Session | None = None) -> str:
        """The thinking switch of the profile the session's requests go through."""
        profile = session_profile(self.context.settings, session or self.session)
        return profile.thinking if profile is not None else "none"

    def provider_options(self, session: Session | None = None) -> ProviderOptions:
        """What else the session's provider wants in a request (reasoning resent in tool
        loops, ``tool_stream``), what it does not take (its limits, JSON mode), and what the
        model's thinking takes (from its card when it is the one known, else glmtui's table).
        """
        from dataclasses import replace

        session = session or self.session
        options = provider_options(self.context.settings, session)
        traits = self.model_traits(session.model)
        return replace(
            options,
            thinking=traits.thinking,
            json_mode=options.json_mode and traits.json_mode is not False,
        )

    def model_traits(self, model: str | None = None) -> ModelTraits:
        """What ``model`` (the session's by default) takes: its thinking control and JSON
        mode, from its card when that is the card known, else glmtui's table by its id."""
        from glmtui.api.models import model_traits

        return model_traits(self.model_card, model or self.session.model)

    def request_settings(self) -> RequestSettings:
        """What the sidebar edits, as the session holds it now."""
        session = self.session
        return RequestSettings(
            session.provider, session.model, session.system_prompt, session.parameters
        )

    def card_for_model(self) -> ModelCard | None:
        """The model's card, when the one known is the session model's."""
        card = self.model_card
        return card if card is not None and card.id == self.session.model else None

    def model_label(self) -> str:
        """The model's name as shown (its card's name once known, else its id), made safe."""
        from glmtui.domain.text import visible_controls

        card = self.card_for_model()
        return visible_controls((card.name if card is not None else "") or self.session.model)

    def say(
        self, text: str, *, severity: SeverityLevel = "information", timeout: float = 3
    ) -> None:
        """A notification of glmtui's own words (never parsed as markup)."""
        self.notify(text, severity=severity, timeout=timeout, markup=False)

    def items_for(self, messages: list[Message]) -> list[Item]:
        """The conversation's items for ``messages``: one per prompt and reply; a tool
        message is drawn in the block of the call it answers, not as an item of its own; a
        run of compacted messages is one folded item."""
        results = {m.tool_call_id: m for m in messages if m.role == "tool" and m.tool_call_id}
        live = self.controller.live_reply if self.generating else None
        last_calls = next((m for m in reversed(messages) if m.tool_calls), None)
        items: list[Item] = []
        fold: list[Message] = []
        for message in [*messages, None]:
            if message is not None and message.compacted:
                fold.append(message)
                continue
            if fold:
                items.append(CompactedItem(fold, lambda m: self.item_for(m, results)))
                fold = []
            if message is None or message.role == "tool":
                continue
            # While a turn runs, the calls of its last reply that have no answer yet are
            # waiting their turn; in any other reply they never will be answered.
            queued = self.generating and message is last_calls and live is None
            items.append(self.item_for(message, results, queued=queued))
        return items

    def item_for(
        self,
        message: Message,
        results: dict[str, Message] | None = None,
        *,
        queued: bool = False,
    ) -> Item:
        """The conversation's item for ``message`` (``results``: the conversation's tool
        messages by call id, to draw a reply's calls with their answers)."""
        if message.summary_of:
            replaced = set(message.summary_of)
            shown = shown_count([m for m in self.session.messages if m.id in replaced])
            label = self.model_label()
            return SummaryItem(message, replaced=shown, model_label=label)
        if message.role == "user":
            return UserItem(message)
        label = self.model_label()
        return ReplyItem(
            message,
            show_reasoning=self.show_reasoning,
            model_label=label,
            tool_results=results,
            pending="queued" if queued else "cancelled",
        )

    def placeholder(self) -> str:
        """The composer's placeholder: it names the model."""
        send, newline = self.key_text("chat.send", "Enter"), self.key_text("chat.newline", "Ctrl+J")
        return f"Ask {self.model_label()}…  ({send} sends · {newline} new line · F1 help)"

    def update_titles(self) -> None:
        """The header, the composer's placeholder and the empty conversation's hint."""
        from glmtui.domain.text import visible_controls

        title = self.session.title or "New chat"
        demo = " (demo)" if self.demo else ""
        self.sub_title = visible_controls(f"{self.session.model}{demo} · {title}")
        self.composer.placeholder = self.placeholder()
        hint = [
            visible_controls(f"New chat with {self.session.model}"),
            "",
            f"Type below · {self.key_text('chat.send', 'Enter')} sends"
            f" · {self.key_text('chat.newline', 'Ctrl+J')} new line",
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

    # Provided by the screen (and its parts), used across them.
    def refresh_status(self) -> None:
        """Recompute the status bar."""
        raise NotImplementedError

    def fetch_model_card(self) -> object:
        """Get the session model's card (in a worker)."""
        raise NotImplementedError

    def end_edit(self, *, restore_draft: bool) -> None:
        """Leave edit-and-resend mode."""
        raise NotImplementedError

    def action_compare(self) -> None:
        """Answer the last prompt with another model or parameters, side by side."""
        raise NotImplementedError

    def check_endpoint(self, then: Callable[[], object]) -> bool:
        """True when the session may send now; else ask where to and run ``then`` after."""
        raise NotImplementedError

    def show_stream(self, item: ReplyItem, stats: TurnStats, *, waiting: bool) -> None:
        """Draw ``item`` as the reply that streams now (its text arrives as events)."""
        raise NotImplementedError

    def end_stream(self) -> None:
        """The reply that streamed ended: draw its final form."""
        raise NotImplementedError
