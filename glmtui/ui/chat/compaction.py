"""Compaction in the chat: the command (F8, the palette, ``/compact [N]`` or ``/compact undo``
typed in the composer), the summary streaming like a reply, the conversation redrawn with the
replaced messages folded, and undo (``u`` on the summary or the fold).

The controller does the work (:meth:`~glmtui.chat.controller.ConversationController.compact`)
and announces it; this part starts it, refuses what cannot be done with the controller's own
words, and draws the events.
"""

from __future__ import annotations

from glmtui.chat import events
from glmtui.chat.compaction import exchanges, shown_count
from glmtui.chat.controller import TurnRefused
from glmtui.domain import Message
from glmtui.ui.chat.base import ChatScreenBase
from glmtui.ui.compacted import SummaryItem

COMMAND = "/compact"
"""Typed alone in the composer (or with a number of exchanges to keep, or ``undo``), it is
carried out instead of sent."""
USAGE = (
    "Type /compact to summarise all but the last exchanges, /compact N to keep the last N, "
    "or /compact undo."
)


def _messages(count: int) -> str:
    return f"{count} message{'s' if count != 1 else ''}"


class CompactionPart(ChatScreenBase):
    """Compacting the conversation and undoing it (a part of the chat screen)."""

    editing: Message | None
    """The earlier prompt being edited, if any (see the messages part)."""

    # --- commands ---------------------------------------------------------------------------

    def compact_command(self, text: str) -> bool:
        """Carry out ``text`` if it is a ``/compact`` command (True: it was one, so it is not
        sent). The composer is emptied once the command ran; refused, it keeps the text."""
        words = text.split()
        if not words or words[0].lower() != COMMAND:
            return False
        argument = words[1].lower() if len(words) == 2 else ""
        if len(words) > 2 or (argument and argument != "undo" and not argument.isdigit()):
            self.say(USAGE, severity="warning", timeout=8)
            return True
        if argument == "undo":
            done = self.undo_compaction()
        else:
            done = self.start_compaction(int(argument) if argument else None)
        if done:
            composer = self.composer
            composer.remember(text)
            composer.text = ""
        return True

    def action_compact(self) -> None:
        """Summarise all but the last exchanges into one message (``[compaction] keep``)."""
        self.start_compaction(None)

    def action_undo_compaction(self) -> None:
        """Undo the latest compaction: the messages it replaced are sent again."""
        self.undo_compaction()

    def start_compaction(self, keep: int | None) -> bool:
        """Start summarising all but the last ``keep`` exchanges (None: the setting's), in a
        worker; False when refused (the user is told why) or waiting for the user to choose
        where the session sends."""
        if self.editing is not None:
            self.say("Finish or cancel the edit first (Esc).", severity="warning")
            return False
        try:
            self.controller.check_can_compact()
            self.controller.compaction_plan(keep)
        except TurnRefused as reason:
            self.say(str(reason), severity="warning", timeout=8)
            return False
        if not self.check_endpoint(lambda: self.start_compaction(keep)):
            return False
        self.run_worker(self._compact(keep), group="generation", exit_on_error=False)
        self.refresh_bindings()
        return True

    async def _compact(self, keep: int | None) -> None:
        try:
            await self.controller.compact(keep)
        except TurnRefused as reason:  # the conversation changed since it was checked
            self.say(str(reason), severity="warning", timeout=8)

    def undo_compaction(self) -> bool:
        """Undo the latest compaction; False when refused (the user is told why)."""
        try:
            self.controller.undo_compaction()
        except TurnRefused as reason:
            self.say(str(reason), severity="warning", timeout=8)
            return False
        return True

    @property
    def can_undo_compaction(self) -> bool:
        """True when the conversation has a compaction to undo."""
        return any(m.summary_of and not m.compacted for m in self.session.messages)

    # --- the controller's events, drawn -------------------------------------------------------

    def draw_compaction_event(self, event: events.ChatEvent) -> bool:
        """Draw ``event`` if it is a compaction's; True when it was."""
        if isinstance(event, events.CompactionStarted):
            item = SummaryItem(
                event.reply,
                replaced=shown_count(event.messages),
                streaming=True,
                model_label=self.model_label(),
                show_reasoning=self.show_reasoning,
            )
            item.stats = event.stats
            self.show_stream(item, event.stats, waiting=event.request.stream is False)
            if event.auto:
                self.say(event.reason, timeout=10)
        elif isinstance(event, events.Compacted):
            self.end_stream()
            self.conversation.load(self.items_for(self.session.messages))
            self.refresh_status()
            count = shown_count(event.messages)
            self.say(
                f"Compacted {_messages(count)} into a summary: the next request holds about "
                f"{event.after:,} tokens instead of {event.before:,}. u on the summary "
                "(or /compact undo) brings them back.",
                timeout=8,
            )
        elif isinstance(event, events.CompactionAbandoned):
            self.end_stream()
            self.conversation.remove_message(event.reply)
            self.say(event.reason, severity="information" if event.stopped else "warning")
        elif isinstance(event, events.CompactionUndone):
            self.conversation.load(self.items_for(self.session.messages))
            self.refresh_status()
            count = shown_count(event.messages)
            self.say(f"Compaction undone: the {_messages(count)} are sent again.", timeout=5)
        else:
            return False
        return True

    def compaction_hint(self) -> str:
        """What compacting now would do, for the palette."""
        keep = self.controller.compaction_settings.keep
        return f"Summarise all but the last {exchanges(keep)} into one message (F8, /compact N)"
