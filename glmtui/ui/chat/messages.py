"""Actions on one message of the conversation: delete, edit and resend (with its banner),
regenerate or retry the last reply, fork from it, copy one of its code blocks. The
conversation widget asks (``ConversationView.ActionRequested``); the controller does it.
Also the composer's draft written in the user's own editor (:mod:`glmtui.ui.editor`)."""

from __future__ import annotations

from textual import on
from textual.actions import SkipAction
from textual.widgets import Static

from glmtui.chat.controller import TurnRefused
from glmtui.domain import Message
from glmtui.ui.chat.base import ChatScreenBase
from glmtui.ui.clipboard import copy_text
from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.conversation import ConversationView


class MessagesPart(ChatScreenBase):
    """Message actions and edit-and-resend (a part of the chat screen)."""

    editing: Message | None = None
    """The earlier prompt being edited (Enter resends it), if any."""
    _draft_before_edit = ""

    @on(ConversationView.ActionRequested)
    async def _message_action(self, event: ConversationView.ActionRequested) -> None:
        event.stop()
        message, action = event.message, event.action
        is_last = bool(self.session.messages) and message is self.session.messages[-1]
        if action == "delete":
            await self.controller.delete(message)
            self.say("Message deleted.", timeout=2)
        elif action == "edit":
            self.begin_edit(message)
        elif action in ("regenerate", "retry"):
            if is_last:
                await self.run_action("regenerate")
            else:
                self.say(f"Only the last reply can be {action}d.")
        elif action == "copy_code":
            self._pick_code_block(message)
        elif action == "fork":
            self._fork_from(message)
        elif action == "undo_compaction":
            await self.run_action("undo_compaction")

    def action_copy_text(self) -> None:
        """Copy the text selected with the mouse (Ctrl+C) through glmtui's clipboard (Textual's
        own copies with OSC 52 only)."""
        selected = self.get_selected_text()
        if not selected:
            raise SkipAction()
        copy_text(self.app, selected, "Selection", timeout=2)

    @on(Composer.EditorRequested)
    def _editor_requested(self, event: Composer.EditorRequested) -> None:
        event.stop()
        self.action_edit_in_editor()

    def action_edit_in_editor(self) -> None:
        """Write the draft in ``$VISUAL`` / ``$EDITOR``: what is saved comes back to the
        composer, not sent, the cursor at its end. A failed editor leaves the draft as it
        was (see :func:`glmtui.ui.editor.edit_in_editor`)."""
        from glmtui.ui.editor import edit_in_editor

        composer = self.composer
        if composer.read_only:
            return
        result = edit_in_editor(self.app, composer.text)
        if result.text is None:
            self.say(result.problem, severity="error", timeout=10)
        else:
            composer.load_text(result.text)
            composer.move_cursor(composer.document.end)
        composer.focus()

    def begin_edit(self, message: Message) -> None:
        """Put an earlier prompt in the composer; Enter resends it (replacing it and what
        followed), Esc cancels and gives the draft back."""
        if self.generating:
            self.say("Stop the streaming reply first (Esc).", severity="warning")
            return
        composer = self.composer
        if self.editing is None:
            self._draft_before_edit = composer.text
        self.editing = message
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

    def end_edit(self, *, restore_draft: bool) -> None:
        """Leave edit mode (giving the earlier draft back, or not: it was sent)."""
        if self.editing is None:
            return
        self.editing = None
        self.query_one("#edit-banner").display = False
        if restore_draft:
            self.composer.text = self._draft_before_edit
        self._draft_before_edit = ""

    def _fork_from(self, message: Message) -> None:
        """Continue in a copy of the conversation that ends at ``message``."""
        from glmtui.store import StoreError  # the store's modules load on first use

        if self.context.store is None:
            return
        try:
            fork = self.controller.fork(message)
        except (TurnRefused, StoreError) as error:
            self.say(str(error), severity="error", timeout=8)
            return
        self.say(f"Forked into “{fork.title}”; the original is unchanged.", timeout=5)

    def _pick_code_block(self, message: Message) -> None:
        from glmtui.domain.markdown import code_blocks
        from glmtui.ui.screens.code_picker import CodeBlockPicker

        blocks = code_blocks(message.content)

        def copy(index: int | None) -> None:
            if index is not None:
                copy_text(self.app, blocks[index].code, f"Code block {index + 1}", timeout=2)

        self.app.push_screen(CodeBlockPicker(blocks), copy)
