"""Tool calls in the chat: asking before a call runs, drawing each call's progress in its
reply, the step limit's notice, and the Tools screen (F5).

The controller runs the tool loop and announces every step; this part draws what it is told
into the reply's tool blocks (:mod:`glmtui.ui.tool_block`) and answers the controller's
question "may this call run?" with the approval dialog. It never changes the session.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from glmtui.chat import events
from glmtui.domain import Message, Session
from glmtui.ui.chat.base import ChatScreenBase
from glmtui.ui.items import ReplyItem

if TYPE_CHECKING:
    from glmtui.tools import Approval, ApprovalRequest, ToolBox


class ToolsPart(ChatScreenBase):
    """Tool calls and the Tools screen (a part of the chat screen)."""

    def toolbox(self, session: Session) -> ToolBox | None:
        """The tools ``session``'s next request may offer (the app's MCP servers)."""
        runtime = self.context.tools
        return runtime.toolbox() if runtime is not None else None

    async def approve(self, request: ApprovalRequest) -> Approval:
        """Ask the user whether ``request`` may run (the controller awaits the answer).

        The dialog opens over whatever screen is on top (a help panel, the session browser),
        so a call never waits unseen. If the turn is stopped while it is open, it closes.
        """
        from glmtui.ui.screens.approval import ApprovalScreen

        answer: asyncio.Future[Approval] = asyncio.get_running_loop().create_future()

        def answered(approval: Approval | None) -> None:
            if not answer.done():
                answer.set_result(approval or "deny")

        dialog = ApprovalScreen(request, model=self.model_label())
        self.app.push_screen(dialog, answered)
        try:
            return await answer
        except asyncio.CancelledError:  # the turn was stopped (or the app ends): it goes
            dialog.withdraw()
            raise

    def draw_tool_event(self, event: events.ChatEvent) -> bool:
        """Draw a tool event the streaming reply's painter did not take; True if it was one."""
        conversation = self.conversation
        if isinstance(event, events.ToolCallUpdated):
            item = conversation.item_for(event.reply)
            if isinstance(item, ReplyItem):
                item.update_tool(
                    event.index, event.call, event.state, event.label, event.started, event.result
                )
                conversation.tools_changed(item)
            return True
        if isinstance(event, events.ToolLimitReached):
            self.say(
                f"{self.model_label()} was still calling tools after {event.limit} "
                f"step{'s' if event.limit != 1 else ''}; "
                "stopped. Raise [mcp] max_steps to allow more.",
                severity="warning",
                timeout=12,
            )
            return True
        if isinstance(event, events.MessageAdded) and event.message.role == "tool":
            self._answered(event.message)
            return True
        return False

    def _answered(self, message: Message) -> None:
        """A tool message joined the conversation: it is drawn in its call's block (already
        there when its :class:`~glmtui.chat.events.ToolCallUpdated` came first)."""
        conversation = self.conversation
        for item in reversed(conversation.replies):
            if item.answer_tool(message):
                conversation.tools_changed(item)
                return

    def forget_tool_answers(self, messages: tuple[Message, ...]) -> None:
        """Tool messages left the conversation: their calls show no result any more."""
        conversation = self.conversation
        for message in messages:
            if message.role != "tool":
                continue
            for item in conversation.replies:
                if item.forget_tool_answer(message):
                    conversation.tools_changed(item)
                    break

    def action_tools(self) -> None:
        """The MCP servers and their tools; switch tools on or off."""
        from glmtui.ui.screens.tools import ToolsScreen

        runtime = self.context.tools
        if runtime is None:
            from glmtui.ui.tool_host import ToolRuntime

            runtime = ToolRuntime(self.app, None)  # nothing configured: the screen says how
        self.app.push_screen(ToolsScreen(runtime, self.context.settings.config_path))
