"""Compare: the last prompt answered by a second model (or parameter set), side by side.

The current reply stays on the left (or is generated, if there is none); the alternative streams
on the right. Each pane shows its tokens, time and cost (or "billed by time" for a model whose
cost no token count gives). Keep either: the chosen reply becomes the conversation's last
reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static

from glmtui.api.errors import ApiError
from glmtui.api.request import ProviderOptions, build_request
from glmtui.chat.controller import stream_reply
from glmtui.chat.formatting import cost as format_cost
from glmtui.chat.formatting import count
from glmtui.domain import Message, ModelCard, Parameters, Session
from glmtui.domain.costs import reply_cost
from glmtui.domain.params import ParameterError, check, ranges_for
from glmtui.domain.stats import TurnStats, estimate_conversation_tokens
from glmtui.domain.text import visible_controls
from glmtui.ui.chat.painter import ReplyPainter
from glmtui.ui.items import ReplyItem
from glmtui.ui.widgets.conversation import ConversationView
from glmtui.ui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from glmtui.api.client import ChatClient
    from glmtui.ui.screens.chat import ChatScreen

CardLookup = Callable[[str], Awaitable[ModelCard | None]]
"""Gives a model's card by its id (None: unknown)."""


@dataclass(frozen=True)
class Contender:
    """One side of a comparison: which model, with which parameters, through which client."""

    label: str
    model: str
    parameters: Parameters
    client: ChatClient
    thinking_style: str = "none"
    card: ModelCard | None = None
    reply: Message | None = None
    """An existing reply to show instead of generating one."""
    priced: bool = True
    """False for replies that cost nothing (the offline demo's): no cost is shown."""
    options: ProviderOptions | None = None
    """What the provider takes (limits, JSON mode) and the model's thinking takes, as for
    the chat's own requests."""


@dataclass(frozen=True)
class Alternative:
    """What the user asked to compare with: a model and parameter overrides."""

    model: str
    parameters: Parameters


def parse_alternative(text: str, current_model: str, base: Parameters) -> Alternative:
    """``"MODEL key=value …"`` → an :class:`Alternative` (MODEL may be omitted).

    Raises:
        ParameterError: an unknown key or a value out of range.
    """
    words = text.split()
    model = current_model
    if words and "=" not in words[0]:
        model = words.pop(0)
    changes: dict[str, object] = {}
    ranges = ranges_for(None)
    for word in words:
        key, _, value = word.partition("=")
        key = key.strip().replace("-", "_")
        if key not in ranges:
            known = ", ".join(sorted(ranges))
            raise ParameterError(key, f"unknown parameter (use {known})")
        try:
            number = float(value)
        except ValueError:
            raise ParameterError(key, f"“{value}” is not a number") from None
        changes[key] = check(key, number, ranges)
    return Alternative(model, replace(base, **changes))  # type: ignore[arg-type]


class CompareScreen(Screen[Message | None]):
    """Two replies to the same prompt, side by side.

    | Key | Action |
    |---|---|
    | 1 | Keep the left reply |
    | 2 | Keep the right reply |
    | Esc | Close (the conversation keeps its current reply) |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "keep('left')", "Keep left", id="compare.left"),
        Binding("2", "keep('right')", "Keep right", id="compare.right"),
        Binding("escape", "close", "Close", id="compare.close"),
    ]

    DEFAULT_CSS = """
    CompareScreen Horizontal { height: 1fr; }
    CompareScreen .pane { width: 1fr; height: 1fr; border: round $panel-lighten-2; }
    CompareScreen .pane-title { text-style: bold; padding: 0 1; }
    CompareScreen .pane-stats { color: $text-muted; padding: 0 1; height: 1; }
    CompareScreen ConversationView { height: 1fr; }
    """

    def __init__(
        self,
        history: Session,
        left: Contender,
        right: Contender,
        *,
        find_card: CardLookup | None = None,
    ) -> None:
        """
        Args:
            history: The conversation up to and including the prompt to answer.
            left: The current model (with the existing reply, when there is one).
            right: The alternative.
            find_card: Looks up the card (and so the prices) of a side whose contender
                brings none, so a model the catalogue knows is priced, not "cost unknown".
        """
        super().__init__()
        self.history = history
        self.sides = {"left": left, "right": right}
        self.results: dict[str, Message] = {}
        self.stats: dict[str, TurnStats] = {}
        self.find_card = find_card
        self.cards: dict[str, ModelCard] = {
            side: contender.card for side, contender in self.sides.items() if contender.card
        }
        """Each side's model card: the contender's, else the one looked up."""

    def compose(self) -> ComposeResult:
        with Horizontal():
            for side, contender in self.sides.items():
                with Vertical(classes="pane", id=f"pane-{side}"):
                    number = "1" if side == "left" else "2"
                    title = visible_controls(f"{number}  {contender.label}")
                    yield Static(title, classes="pane-title", markup=False)
                    yield Static("", classes="pane-stats", id=f"stats-{side}", markup=False)
                    yield ConversationView(id=f"view-{side}", editable=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "glmtui"
        self.sub_title = "Compare"
        for side, contender in self.sides.items():
            if contender.reply is not None:
                self.results[side] = contender.reply
                view = self.query_one(f"#view-{side}", ConversationView)
                view.load([ReplyItem(contender.reply, model_label=contender.model)])
                self._show_stats(side)
            else:
                self._run(side)
            if side not in self.cards and contender.priced and self.find_card is not None:
                self._look_up_card(side)

    @work(exit_on_error=False)
    async def _look_up_card(self, side: str) -> None:
        """Find the prices of a side's model (the catalogue's card), then show its cost."""
        assert self.find_card is not None
        card = await self.find_card(self.sides[side].model)
        if card is not None:
            self.cards[side] = card
            self._show_stats(side)

    @work(exit_on_error=False)
    async def _run(self, side: str) -> None:
        """Stream one side's reply into its pane."""
        contender = self.sides[side]
        view = self.query_one(f"#view-{side}", ConversationView)
        session = replace(self.history, model=contender.model, parameters=contender.parameters)
        request = build_request(
            session, thinking_style=contender.thinking_style, options=contender.options
        )
        reply = Message("assistant", "", status="streaming", model=contender.model)
        item = ReplyItem(reply, streaming=True, model_label=contender.model)
        stats = TurnStats()
        stats.start(estimate_conversation_tokens(session.messages, session.system_prompt))
        item.stats = stats
        self.stats[side] = stats
        view.append(item)
        content: list[str] = []
        reasoning: list[str] = []
        painter = ReplyPainter(item, view)
        try:
            await stream_reply(
                contender.client,
                request,
                reply,
                stats,
                painter,
                content=content,
                reasoning=reasoning,
            )
            reply.status = "complete"
        except ApiError as error:
            reply.status = "error"
            reply.error = error.describe()
        finally:
            stats.finish()
            reply.content = "".join(content)
            reply.reasoning = "".join(reasoning)
            if stats.first_token_at is not None or stats.usage is not None:
                reply.usage = stats.final_usage()
            view.finish(item)
            self.results[side] = reply
            self._show_stats(side)

    def _show_stats(self, side: str) -> None:
        reply = self.results.get(side)
        stats = self.stats.get(side)
        parts: list[str] = []
        if reply is not None and reply.usage is not None:
            approx = "~" if reply.usage.estimated else ""
            parts.append(count(reply.usage.completion_tokens, "token", approx=approx))
            if reply.usage.cached_tokens:
                parts.append(f"{reply.usage.cached_tokens:,} prompt tokens cached")
        if stats is not None:
            parts.append(f"{stats.elapsed:.1f} s")
            if stats.tokens_per_second:
                approx = "~" if stats.estimated else ""
                parts.append(f"{approx}{stats.tokens_per_second:,.0f} tok/s")
        card = self.cards.get(side)
        if reply is not None and reply.usage is not None and self.sides[side].priced:
            parts.append(_cost_text(reply, card))
        if reply is not None and reply.status == "error":
            parts.append(f"⚠ {reply.error}")
        text = visible_controls(" · ".join(parts))
        self.query_one(f"#stats-{side}", Static).update(text)

    def action_keep(self, side: str) -> None:
        """Keep one side's reply as the conversation's reply."""
        reply = self.results.get(side)
        if reply is None:
            self.notify("That reply is still being written.", timeout=3, markup=False)
            return
        self.workers.cancel_all()
        self.dismiss(reply)

    def action_close(self) -> None:
        """Close without changing the conversation."""
        self.workers.cancel_all()
        self.dismiss(None)


def _cost_text(reply: Message, card: ModelCard | None) -> str:
    """A pane's cost: reported, else priced from its tokens (``~`` estimated, ``≤`` an upper
    bound), "billed by time" for a model whose cost no token count gives, or "cost unknown"."""
    assert reply.usage is not None
    if reply.usage.cost is not None:
        return format_cost(reply.usage.cost)
    if card is None:
        return "cost unknown"
    cost = reply_cost(reply.usage, card.pricing)
    if cost.by_time:
        return "billed by time"
    return cost.prefix + format_cost(cost.usd) if cost.usd is not None else "cost unknown"


def start_compare(screen: ChatScreen) -> None:
    """Ask what to compare the last prompt with, then show both replies side by side; the
    one kept becomes the conversation's reply (through the controller)."""
    from glmtui.chat.controller import TurnRefused
    from glmtui.domain.params import describe_set
    from glmtui.ui.screens.prompt import PromptScreen

    controller = screen.controller
    try:
        basis = controller.compare_basis()
    except TurnRefused as reason:
        screen.say(str(reason))
        return

    def again() -> None:
        start_compare(screen)

    if not screen.check_endpoint(again):
        return
    session = controller.session

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
        client = screen.session_client()
        thinking = screen.thinking_style()
        priced = not screen.demo  # canned demo replies cost nothing
        left = Contender(
            f"{session.model} (current) · {describe_set(session.parameters)}",
            session.model,
            session.parameters,
            client,
            thinking,
            screen.card_for_model(),
            basis.existing,
            priced=priced,
            options=screen.provider_options(),
        )
        right = Contender(
            f"{alternative.model} · {describe_set(alternative.parameters)}",
            alternative.model,
            alternative.parameters,
            client,
            thinking,
            screen.card_for_model() if alternative.model == session.model else None,
            priced=priced,
            options=screen.provider_options(replace(session, model=alternative.model)),
        )
        compare = CompareScreen(basis.history, left, right, find_card=screen.lookup_card)
        screen.app.push_screen(compare, keep)

    def keep(reply: Message | None) -> None:
        if reply is None or reply is basis.existing or session is not controller.session:
            return
        controller.keep_reply(basis, reply)
        screen.say(f"Kept the reply from {reply.model}.")

    screen.app.push_screen(
        PromptScreen(
            "Compare the last prompt with…",
            session.model,
            help="A model id, then any parameter overrides, e.g. "
            "“zai-org-glm-4.7-flash temperature=0.2”.",
            validate=validate,
        ),
        start,
    )
