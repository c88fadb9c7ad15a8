"""The status bar: model, speed, token counts, context-window gauge and cost, live."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from glmtui.formatting import cost as format_cost
from glmtui.turn import ContextUse

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
    estimated: bool = False
    context: ContextUse | None = None
    cost: float | None = None
    note: str = ""


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


def render_status(
    info: StatusInfo, separator: Style | str = "", warning: Style | str = "bold"
) -> Text:
    """The status line as styled text; the caller passes the theme's styles."""
    text = Text(no_wrap=True, overflow="ellipsis")
    sep = (" │ ", separator)
    text.append(info.model, "bold")
    if info.demo:
        text.append(" (demo)", "italic")
    if info.note:
        text.append(*sep)
        text.append(info.note, "italic")
    if info.time_to_first_token is not None:
        text.append(*sep)
        text.append(f"TTFT {info.time_to_first_token:.2f} s")
    if info.tokens_per_second is not None:
        text.append(*sep)
        text.append(f"{info.tokens_per_second:,.0f} tok/s")
    approx = "~" if info.estimated else ""
    if info.prompt_tokens is not None or info.completion_tokens is not None:
        text.append(*sep)
        text.append(f"in {approx}{_short(info.prompt_tokens or 0)}")
        text.append(f" · out {approx}{_short(info.completion_tokens or 0)}")
        if info.reasoning_tokens:
            text.append(f" (thinking {approx}{_short(info.reasoning_tokens)})")
    context = info.context
    if context is not None:
        text.append(*sep)
        ctx_approx = "~" if context.estimated else ""
        if context.fraction is not None and context.limit:
            style = warning if context.warning else ""
            text.append(f"ctx {gauge(context.fraction)} ", style)
            warn = " ⚠" if context.warning else ""
            text.append(
                f"{ctx_approx}{context.fraction:.0%} of {_short(context.limit)}{warn}", style
            )
        else:
            text.append(f"ctx {ctx_approx}{_short(context.used)} tokens")
    if info.cost is not None:
        text.append(*sep)
        text.append(format_cost(info.cost))
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
        )

    @property
    def text(self) -> str:
        """What the bar says, as plain text."""
        return self.render().plain
