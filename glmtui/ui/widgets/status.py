"""The status bar: model, speed, token counts, context-window gauge, cost, and the size of the
request Enter would send, live.

The bar is one line beside a docked sidebar as often as not (80 cells of a 120-column
terminal): it is fitted to its width, the least useful parts shortened or left out first, so
the context share and the cost stay in view where the whole line does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from glmtui.chat.formatting import cost as format_cost
from glmtui.domain.stats import ContextUse
from glmtui.domain.text import visible_controls

GAUGE_CELLS = 10


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """Everything the status bar shows; None hides a field."""

    model: str
    demo: bool = False
    streaming: bool = False
    time_to_first_token: float | None = None
    tokens_per_second: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None
    """Prompt tokens the provider served from its cache (``in 12k (9,000 cached)``): billed at a
    cached-input rate, so they explain a cost below tokens × input price."""
    estimated: bool = False
    """The token counts (and so the speed) are local estimates: shown with ``~``."""
    context: ContextUse | None = None
    context_assumed: bool = False
    """The context length is glmtui's assumption, not the server's word: ``of ~200k``."""
    cost: float | None = None
    cost_estimated: bool = False
    """Part of the cost is priced from estimated token counts: ``~$0.0123``."""
    cost_bound: bool = False
    """Cached tokens were priced at the input rate (no cached price published): the bill is
    at most the cost shown, ``≤$0.0123``."""
    billing: str = ""
    """Shown instead of a cost that token counts cannot give (``billed by time``)."""
    note: str = ""
    request: int | None = None
    """Estimated tokens of the request Enter would send now (shown while there is a draft or
    an attachment): always an estimate, so shown with ``~``."""
    request_limit: int | None = None
    """The most a request may hold: the context window less the reply's ``max_tokens``
    (None: unknown, nothing to warn about)."""

    @property
    def request_over(self) -> bool:
        """True when the request would not fit (the bar warns, and Enter asks first)."""
        return (
            self.request is not None
            and self.request_limit is not None
            and self.request > self.request_limit
        )


def gauge(fraction: float, cells: int = GAUGE_CELLS) -> str:
    """A bar like ``▰▰▰▱▱▱▱▱▱▱`` for a fraction from 0 to 1."""
    filled = min(cells, max(0, round(fraction * cells)))
    if fraction > 0 and filled == 0:
        filled = 1
    return "▰" * filled + "▱" * (cells - filled)


def _short(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 10_000:
        return f"{count / 1000:.0f}k"
    return f"{count:,}"


MIN_HEAD = 6
"""The fewest cells the model's name is shortened to, to make room for the rest."""

Variants = list[Text | None]
"""One part of the line, from its fullest form to its shortest; None: left out."""

FIT_STEPS: tuple[tuple[str, int], ...] = (
    ("ttft", 1),
    ("tokens", 1),
    ("context", 1),
    ("speed", 1),
    ("tokens", 2),
    ("context", 2),
    ("request", 1),
    ("cost", 1),
    ("context", 3),
    ("request", 2),
)
"""How the line shrinks to fit, one step at a time, the least useful first: (part, the form
it takes). The time to first token goes first, then the thinking count, the gauge's bar, the
speed and the token counts; the context's share, the next request's size and the cost hold out
longest, and a context or request-size warning is never dropped. The model's name (and any
note, such as "not saved") stays, though a long name is shortened before the rest; at the very
narrowest the line ends in an ellipsis."""


def _context_variants(context: ContextUse, assumed: bool, warning: Style | str) -> Variants:
    approx = "~" if context.estimated else ""
    if context.fraction is None or not context.limit:
        return [Text(f"ctx {approx}{_short(context.used)} tokens"), None]
    style = warning if context.warning else ""
    share = f"{approx}{context.fraction:.0%}"
    limit = f"of {'~' if assumed else ''}{_short(context.limit)}"
    warn = " ⚠" if context.warning else ""
    bar = Text(f"ctx {gauge(context.fraction)} {share} {limit}{warn}", style)
    full = Text(f"ctx {share} {limit}{warn}", style)
    short = Text(f"ctx {share}{warn}", style)
    return [bar, full, short, short if context.warning else None]


def _request_variants(info: StatusInfo, warning: Style | str) -> Variants:
    tokens = _short(info.request or 0)
    if info.request_over:
        limit = _short(info.request_limit or 0)
        full = Text(f"request ~{tokens} ⚠ over the {limit} limit", warning)
        short = Text(f"req ~{tokens} ⚠ too large", warning)
        return [full, short, short]
    return [Text(f"request ~{tokens} tok"), Text(f"req ~{tokens}"), None]


def render_status(
    info: StatusInfo,
    separator: Style | str = "",
    warning: Style | str = "bold",
    width: int | None = None,
) -> Text:
    """The status line as styled text; the caller passes the theme's styles.

    Args:
        info: What to show.
        separator: The style of the ``│`` between parts.
        warning: The style of a context window that is nearly full, and of a request too
            large to fit.
        width: Cells available: parts are shortened or left out, the least useful first
            (see :data:`FIT_STEPS`), until the line fits. None: everything, however long.
    """
    head = Text(visible_controls(info.model), "bold")
    if info.demo:
        head.append(" (demo)", "italic")
    approx = "~" if info.estimated else ""
    parts: dict[str, Variants] = {"head": [head]}
    if info.note:
        parts["note"] = [Text(visible_controls(info.note), "italic")]
    if info.time_to_first_token is not None:
        parts["ttft"] = [Text(f"TTFT {info.time_to_first_token:.2f} s"), None]
    if info.tokens_per_second is not None:
        parts["speed"] = [Text(f"{approx}{info.tokens_per_second:,.0f} tok/s"), None]
    if info.prompt_tokens is not None or info.completion_tokens is not None:
        cached = f" ({_short(info.cached_tokens)} cached)" if info.cached_tokens else ""
        counts = (
            f"in {approx}{_short(info.prompt_tokens or 0)}{cached}"
            f" · out {approx}{_short(info.completion_tokens or 0)}"
        )
        thinking = ""
        if info.reasoning_tokens:
            thinking = f" (thinking {approx}{_short(info.reasoning_tokens)})"
        parts["tokens"] = [Text(counts + thinking), Text(counts), None]
    if info.context is not None:
        parts["context"] = _context_variants(info.context, info.context_assumed, warning)
    if info.request is not None:
        parts["request"] = _request_variants(info, warning)
    if info.billing:
        parts["cost"] = [Text(info.billing, "italic"), None]
    elif info.cost is not None:
        mark = "~" if info.cost_estimated else "≤" if info.cost_bound else ""
        parts["cost"] = [Text(mark + format_cost(info.cost)), None]

    chosen = dict.fromkeys(parts, 0)

    def line() -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        shown = [parts[key][index] for key, index in chosen.items()]
        for number, piece in enumerate(piece for piece in shown if piece is not None):
            if number:
                text.append(" │ ", separator)
            text.append_text(piece)
        return text

    text = line()
    for key, index in FIT_STEPS:
        if width is None or text.cell_len <= width:
            break
        if key in parts:
            chosen[key] = min(index, len(parts[key]) - 1)
            text = line()
    if width is not None and text.cell_len > width:
        # Still too long: a long model name gives way before what follows it (a context
        # warning above all), down to a few cells; then the line ends in an ellipsis.
        room = width - (text.cell_len - head.cell_len)
        if room >= MIN_HEAD:
            head.truncate(room, overflow="ellipsis")
            text = line()
        text.truncate(width, overflow="ellipsis")
    return text


class StatusBar(Widget):
    """One line under the composer with the live numbers of the conversation.

    Updates repaint this one line only (no layout), so refreshing it while a reply streams
    costs next to nothing.
    """

    DEFAULT_CSS = """
    StatusBar { height: 1; }
    """

    COMPONENT_CLASSES = {"status-bar--separator", "status-bar--warning"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._info: StatusInfo | None = None

    def show(self, info: StatusInfo) -> None:
        """Display ``info``."""
        if info != self._info:
            self._info = info
            self.refresh()

    def render(self) -> Text:
        # Styled here, not in show(): a theme change repaints the bar with its new colours.
        if self._info is None:
            return Text()
        return render_status(
            self._info,
            self.get_component_rich_style("status-bar--separator"),
            self.get_component_rich_style("status-bar--warning"),
            self.content_size.width or None,
        )

    @property
    def info(self) -> StatusInfo | None:
        """What the bar shows now (None before the first :meth:`show`)."""
        return self._info

    @property
    def text(self) -> str:
        """What the bar says, as plain text."""
        return self.render().plain
