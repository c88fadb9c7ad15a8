"""How a compacted conversation is drawn: the messages a compaction replaced, folded into one
line (:class:`CompactedItem`), and the summary that stands in for them (:class:`SummaryItem`).

The folded messages are not in requests any more, but they are kept (see
:mod:`glmtui.chat.compaction`): one line says how many there are and how to read them, and
unfolded they are drawn as they always were, under a line saying they are not sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.content import Content

from glmtui.chat.compaction import shown_count
from glmtui.domain import Message
from glmtui.ui.items import MUTED, Hotspot, Item, Lines, ReplyItem
from glmtui.ui.lines import OneLine

FOLDED = "▸ {count} earlier message{s} compacted into the summary below · o shows them"
"""The fold's line while folded (the summary's header says how to undo)."""
UNFOLDED = "▾ {count} compacted message{s}: not sent, the summary below is · o folds them"
"""The fold's first line while its messages are shown."""
END = "▴ end of the compacted messages · o folds them"
"""The fold's last line while its messages are shown."""


def _plural(count: int) -> str:
    return "s" if count != 1 else ""


class CompactedItem(Item):
    """A run of compacted messages: one line folded; unfolded, each message as it was drawn.

    The messages' items are made the first time the run is unfolded (``make`` makes each),
    and drawn within the view's time budget per frame like any long reply, so a fold of a
    thousand messages costs nothing until it is opened.
    """

    kind = "compacted"

    def __init__(self, messages: Sequence[Message], make: Callable[[Message], Item]) -> None:
        """
        Args:
            messages: The compacted messages, in order (tool results included: their replies
                draw them).
            make: Makes the item of one message (tool results are not asked for).
        """
        super().__init__(messages[0])
        self.messages = tuple(messages)
        self.count = shown_count(self.messages)
        """How many messages the fold stands for, as the conversation shows them."""
        self.expanded = False
        """Whether the messages are shown."""
        self._make = make
        self._children: list[Item] | None = None
        self._one_line = OneLine()

    @property
    def foldable(self) -> bool:
        """Always: ``o`` (and a click on the first line) folds and unfolds it."""
        return True

    @property
    def children(self) -> list[Item]:
        """The items of the compacted messages (made on first use)."""
        if self._children is None:
            self._children = [self._make(m) for m in self.messages if m.role != "tool"]
        return self._children

    def _line(self, text: str, width: int) -> Lines:
        return self._one_line.get(text, width, lambda: Content.styled(text, MUTED).wrap(width))

    def parts(self, width: int) -> list[Lines]:
        template = UNFOLDED if self.expanded else FOLDED
        head = self._line(template.format(count=self.count, s=_plural(self.count)), width)
        self.hotspots = [Hotspot(0, "toggle_fold")]
        self.behind = False
        if not self.expanded:
            return [head]
        parts = [head]
        y = head.height
        blank = self._line("", width)
        for child in self.children:
            child.render_budget = self.render_budget
            parts.append(blank)
            child_parts = child.parts(width)
            parts.extend(child_parts)
            y += blank.height + sum(part.height for part in child_parts)
            if child.behind:  # the rest at the next frames (the view asks again)
                self.behind = True
                return parts
        end = self._line(END, width)
        self.hotspots.append(Hotspot(y + blank.height, "toggle_fold"))
        return [*parts, blank, end]


class SummaryItem(ReplyItem):
    """A compaction's summary: the model's Markdown under a header that names what it stands
    in for (while it streams: that it is being written, and that Esc stops it).

    Drawn as a reply (the model wrote it), though it is sent as a ``user`` message (see
    :data:`glmtui.chat.compaction.PREFACE`).
    """

    kind = "summary"

    def __init__(
        self,
        message: Message,
        *,
        replaced: int,
        streaming: bool = False,
        model_label: str = "",
        show_reasoning: bool = True,
    ) -> None:
        """
        Args:
            message: The summary (or, while it streams, the reply it streams into).
            replaced: How many messages it stands for (as the conversation shows them).
            streaming: It is being written now.
            model_label: The model's name as shown.
            show_reasoning: Draw the reasoning section while it streams.
        """
        self.replaced = replaced
        super().__init__(
            message,
            streaming=streaming,
            model_label=model_label,
            show_reasoning=show_reasoning,
        )

    def _meta_text(self) -> str:
        count = f"{self.replaced} earlier message{_plural(self.replaced)}"
        if self.streaming:
            # The hint first: in a narrow pane the end of the line is cut off.
            return f"Summarising {count} · Esc stops, nothing changes · {super()._meta_text()}"
        undo = "" if self.message.compacted else " · u undoes"
        return f"Summary of {count} · {super()._meta_text()}{undo}"


def check_compaction_action(item: Item | None, action: str, what: object) -> bool | None:
    """What the conversation offers on a compaction's items (None: not theirs to say).

    ``u`` (``request('undo_compaction')``) is offered on the summary in requests and on the
    fold above it, nowhere else. A fold offers only folding: its first message is not what
    copy, delete or fork would act on. The summary cannot be deleted (undo takes it away with
    its compaction) or regenerated (it is no answer to a prompt).
    """
    if action == "request" and what == "undo_compaction":
        if isinstance(item, SummaryItem):
            return not item.message.compacted and not item.streaming
        return isinstance(item, CompactedItem)
    if isinstance(item, CompactedItem):
        if action == "toggle_fold":
            return None
        return False if action in ("copy", "copy_code", "request", "toggle_reasoning") else None
    if isinstance(item, SummaryItem) and action == "request":
        return False if what in ("delete", "regenerate", "retry") else None
    return None
