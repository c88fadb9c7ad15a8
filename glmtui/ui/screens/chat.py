"""The chat screen: the conversation, the composer, the status bar, and the keys.

The conversation itself belongs to a :class:`~glmtui.chat.controller.ConversationController`:
it sends, streams, saves, and announces each step as an event. This screen lays the widgets
out, turns keys into the controller's operations, and draws its events (:meth:`_drawn`). What
the screen does besides lives in its parts (:mod:`glmtui.ui.chat`): the parameters, the
model, message actions, dialogs about the session, attachments, the palette, the status bar.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Header, Static
from textual.worker import Worker, WorkerState

from glmtui.api.errors import one_line
from glmtui.api.models import builtin_card
from glmtui.chat import events
from glmtui.chat.controller import ConversationController, TurnRefused
from glmtui.chat.endpoints import session_endpoint
from glmtui.domain import Message, Session
from glmtui.ui.chat.attachments import AttachmentsPart
from glmtui.ui.chat.base import ChatContext
from glmtui.ui.chat.compaction import CompactionPart
from glmtui.ui.chat.dialogs import DialogsPart
from glmtui.ui.chat.find import FindPart
from glmtui.ui.chat.messages import MessagesPart
from glmtui.ui.chat.models import ModelsPart
from glmtui.ui.chat.painter import ReplyPainter
from glmtui.ui.chat.parameters import SIDEBAR_MIN_WIDTH, ParametersPart
from glmtui.ui.chat.status import RequestEstimate, request_limit, status_info
from glmtui.ui.chat.tools import ToolsPart
from glmtui.ui.items import ReplyItem, UserItem
from glmtui.ui.widgets.attachment_chips import AttachmentChips
from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.conversation import ConversationView
from glmtui.ui.widgets.find_bar import FindBar
from glmtui.ui.widgets.footer import KeyFooter
from glmtui.ui.widgets.path_completion import PathCompletion
from glmtui.ui.widgets.status import StatusBar
from glmtui.ui.widgets.still_box import StillBox

if TYPE_CHECKING:
    from glmtui.domain.stats import TurnStats

__all__ = ["ChatContext", "ChatScreen"]

STATUS_REFRESH = 1.0
"""Seconds between status-bar refreshes while a reply streams (done in the conversation's
frames, so the status bar costs no frame of its own; drawing it costs ~1-3 ms, and the reply's
own header already shows its numbers twice a second)."""
STATUS_FALLBACK = 1.0
"""Seconds between status-bar refreshes while no frame is drawn (a stalled stream)."""
WAITING_NOTE = "Streaming is off: waiting for the complete reply…"
"""Under the spinner of a reply asked for without streaming, until it arrives whole."""


class ChatScreen(
    ParametersPart,
    ModelsPart,
    MessagesPart,
    DialogsPart,
    ToolsPart,
    AttachmentsPart,
    CompactionPart,
    FindPart,
):
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
    | Ctrl+F | Find in the conversation |
    | n / N | Next / previous match (in the conversation, while the find bar is open) |
    | F9 | Attach a file or folder (or type @ in the composer) |
    | F1 | Keys and help |
    | F2 | The next request as cURL, Python and JSON |
    | F3 | The model's details |
    | F4 | The model catalogue |
    | F5 | Tools: the MCP servers and their tools |
    | F8 | Compact: summarise all but the last exchanges into one message |
    | Ctrl+C | Copy the text selected with the mouse |
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
        Binding("ctrl+f", "find", "Find", show=False, id="chat.find"),
        Binding("n", "find_next", "Next match", show=False, id="chat.find_next"),
        Binding("N", "find_previous", "Previous match", show=False, id="chat.find_previous"),
        Binding("f9", "attach", "Attach", show=False, id="chat.attach"),
        Binding("f1", "help", "Help", id="chat.help"),
        Binding("f2", "preview_request", "Request", show=False, id="chat.request_preview"),
        Binding("f3", "model_info", "Model", show=False, id="chat.model_info"),
        Binding("f4", "models", "Models", show=False, id="chat.models"),
        Binding("f5", "tools", "Tools", show=False, id="chat.tools"),
        Binding("f8", "compact", "Compact", show=False, id="chat.compact"),
        # Textual's own Ctrl+C copy, here to go through glmtui.ui.clipboard (see
        # MessagesPart.action_copy_text) and to have an id the keymap can move.
        Binding(
            "ctrl+c,super+c",
            "copy_text",
            "Copy",
            show=False,
            id="conversation.copy_selection",
        ),
    ]

    def __init__(self, context: ChatContext, session: Session | None = None) -> None:
        super().__init__()
        self.context = context
        settings = context.settings
        if session is None:
            provider, base_url = session_endpoint(settings)
            session = Session(
                model=settings.model,
                provider=provider,
                base_url=base_url,
                system_prompt=settings.system_prompt,
                parameters=settings.parameters,
            )
        self.show_reasoning = settings.show_reasoning
        self.model_card = context.model_card or builtin_card(session.model)
        self._model_ids = []
        self._agreed = set()
        self._painter: ReplyPainter | None = None
        self._ticker: Timer | None = None
        self._generation: Worker[object] | None = None
        self._status_at = 0.0
        self.request_estimate = RequestEstimate()
        self.controller = ConversationController(
            session,
            client=self.session_client,
            thinking_style=self.thinking_style,
            options=self.provider_options,
            store=lambda: context.store,
            on_event=self._drawn,
            tools=self.toolbox,
            approve=self.approve,
            tool_settings=settings.mcp.loop,
        )
        self.controller.compaction_settings = settings.compaction
        self.controller.context_limit = lambda: self.context_window()[0]

    @property
    def keeper(self) -> object:
        """The controller's session keeper (what is saved, and whether the last save failed)."""
        return self.controller.keeper

    @property
    def live_reply(self) -> ReplyItem | None:
        """The reply that is streaming now, if any."""
        return self._painter.item if self._painter is not None else None

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Everything but the conversation sits in a StillBox: Textual redraws every widget
        # placed directly on the screen at each frame of a streaming reply, but skips what is
        # inside a box the frame does not touch (see glmtui.ui.widgets.still_box).
        with StillBox(id="top-bar"):
            yield Header(icon="◆")
        with StillBox(id="sidebar-box"):
            yield self.make_sidebar(id="sidebar", deferred=True)  # fields after the 1st frame
        yield ConversationView(id="conversation")
        with StillBox(id="chat-bottom"):
            yield FindBar(id="find-bar")
            yield Static(id="edit-banner", markup=False)
            yield AttachmentChips(id="attachments")
            completion = PathCompletion(id="path-completion")
            yield completion
            yield Composer(placeholder=self.placeholder(), completion=completion, id="composer")
            yield StatusBar(id="status-bar")
        with StillBox(id="bottom-bar"):
            yield KeyFooter()

    async def on_mount(self) -> None:
        self.title = "glmtui"
        self._sidebar_wanted = self.size.width >= SIDEBAR_MIN_WIDTH
        self.place_sidebar()
        self.update_titles()
        self.query_one("#edit-banner").display = False
        self.conversation.load(self.items_for(self.session.messages))
        self._use_keymap()
        self.composer.focus()
        self.refresh_status()
        self.warn_if_unconfigured()
        self.card_pending = True
        """The model card's first fetch is yet to start (it waits for the first frame)."""
        self.call_after_refresh(self._fetch_first_card)

    def _use_keymap(self) -> None:
        """The widgets that read keys themselves take the keymap's: the composer its send and
        newline keys (it sees them before its text area does), the conversation the vi keys.
        The bindings themselves follow the keymap through ``App.set_keymap``."""
        self.conversation.vi_keys = self.context.settings.vi_keys
        keys = self.keys_in_force()
        if keys is not None:
            self.composer.use_keys(keys["chat.send"], keys["chat.newline"])

    def _fetch_first_card(self) -> None:
        """Start fetching the model's card, after the first frame (it must not delay it)."""
        self.fetch_model_card()  # a worker from here on: whoever waits for workers waits for it
        self.card_pending = False

    def refresh_status(self) -> None:
        window = self.context_window()
        info = status_info(
            self.session,
            stats=self.controller.stats,
            card=self.card_for_model(),
            window=window,
            model_label=self.model_label(),
            demo=self.demo,
            unsaved=self.controller.unsaved,
        )
        limit = request_limit(window[0], self.session.parameters.max_tokens)
        self.set_status(replace(info, request_limit=limit))

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Entries for the command palette ("category: action")."""
        from glmtui.ui.chat.commands import palette_commands

        return palette_commands(self)

    # --- sending ---------------------------------------------------------------------------

    @on(Composer.Submitted)
    async def _submitted(self, event: Composer.Submitted) -> None:
        event.stop()
        self.commit_sidebar()
        text = event.text
        if self.compact_command(text):
            return  # /compact, /compact N or /compact undo: carried out, not sent
        if self.confirm_size(text, lambda: self._to_endpoint(text)):
            self._to_endpoint(text)

    def _to_endpoint(self, text: str) -> None:
        """Send ``text`` once the session's server is settled (asked, if it must be)."""
        if self.check_endpoint(lambda: self._send(text)):
            self._send(text)

    def _send(self, text: str) -> None:
        """Send ``text`` (as the edited prompt, when one is being edited) in a worker, with
        the attached files; a refusal leaves the draft and the chips as they were."""
        editing = self.editing
        try:
            self.controller.check_can_send()
        except TurnRefused as reason:
            self.say(str(reason), severity="warning", timeout=8)
            return
        if editing is None and (refused := self.attachments_refused()):
            self.say(refused, severity="warning", timeout=10)
            return
        composer = self.composer
        composer.remember(text)
        composer.text = ""
        self.end_edit(restore_draft=False)
        if editing is not None:
            if self.chips.chips:  # the edited prompt is resent as it was, without new files
                self.say("Your attachments stay for the next prompt.", timeout=4)
            self._run(self.controller.edit_and_resend(editing, text))
        else:
            self._run(self.controller.send(text, self.take_attachments()))

    def _run(self, turn: object) -> None:
        self._generation = self.run_worker(turn, group="generation", exit_on_error=False)  # type: ignore[arg-type]
        self.refresh_bindings()

    async def action_regenerate(self) -> None:
        """Throw away the last reply and ask again (also: retry after an error)."""
        if self.generating:
            return
        if not self.session.messages:
            self.say("Nothing to regenerate yet.")
            return
        if not self.check_endpoint(self.action_regenerate):
            return  # asked where to send; the reply stays until then
        try:
            self.controller.check_can_send()
            last = self.session.messages[-1]
            if last.role == "assistant" and len(self.session.messages) < 2:
                raise TurnRefused("The last message is not a prompt; send one first.")
        except TurnRefused as reason:
            self.say(str(reason))
            return
        self._run(self._regenerate())

    async def _regenerate(self) -> None:
        try:
            await self.controller.regenerate()
        except TurnRefused as reason:
            self.say(str(reason))

    def action_stop(self) -> None:
        """Stop the reply that is streaming; the partial text stays, marked interrupted."""
        self.controller.stop()

    def action_focus_composer(self) -> None:
        """Back to the composer (or cancel an edit)."""
        if self.editing is not None and self.composer.has_focus:
            self.end_edit(restore_draft=True)
        self.composer.focus()

    def action_compare(self) -> None:
        """Answer the last prompt with another model or parameter set, side by side."""
        from glmtui.ui.screens.compare import start_compare

        start_compare(self)

    def action_follow(self) -> None:
        """Jump to the newest text and keep following it."""
        self.conversation.action_follow()

    def action_toggle_reasoning(self) -> None:
        """Show or hide the reasoning section of every reply."""
        self.show_reasoning = not self.show_reasoning
        self.conversation.set_show_reasoning(self.show_reasoning)
        self.say(f"Reasoning {'shown' if self.show_reasoning else 'hidden'}.", timeout=2)

    def action_help(self) -> None:
        """Show the keys."""
        from glmtui.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.keys_in_force()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show Stop only while streaming; Regenerate only when there is something to redo."""
        find = self.check_find_action(action)
        if find is not None:
            return find
        if action == "stop":  # Esc in the find bar (or selecting text) closes it, whatever streams
            return (
                self.generating
                and not self.composer.completing
                and not self.finding
                and self.conversation.caret is None
            )
        if action == "focus_composer":
            return not self.generating
        if action == "regenerate":
            return None if self.generating or not self.session.messages else True
        return True

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """One place for unexpected worker failures: show them, never crash the app."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.say(
                f"Unexpected error: {one_line(f'{type(error).__name__}: {error}', 200)}",
                severity="error",
                timeout=8,
            )
        if event.worker is self._generation and event.worker.is_finished:
            self.refresh_bindings()

    # --- the controller's events, drawn -----------------------------------------------------

    def _drawn(self, event: events.ChatEvent) -> None:
        """Draw what the controller did (it runs on this app's loop, so no thread hop)."""
        painter = self._painter
        if painter is not None and painter(event):
            return  # a piece of the streaming reply: drawn at the view's next frame
        if self.draw_tool_event(event) or self.draw_compaction_event(event):
            return
        if isinstance(event, events.TurnStarted):
            self._turn_started(event.reply, event.stats, waiting=event.request.stream is False)
        elif isinstance(event, events.TurnFinished | events.TurnFailed | events.TurnStopped):
            self._turn_ended()
        elif isinstance(event, events.MessageAdded):
            if event.message.role == "user" and event.index == len(self.session.messages) - 1:
                self.conversation.append(UserItem(event.message))
            else:
                self.conversation.load(self.items_for(self.session.messages))
            self.update_titles()  # the first prompt names the session
            self.refresh_status()
        elif isinstance(event, events.MessagesRemoved):
            for message in event.messages:
                self.conversation.remove_message(message)
            self.forget_tool_answers(event.messages)
            self.refresh_status()
        elif isinstance(event, events.SessionChanged):
            self.update_titles()
            if event.model_changed:
                self.fetch_model_card()
            self.refresh_status()
        elif isinstance(event, events.SessionReplaced):
            self._session_replaced(event.session)
        elif isinstance(event, events.Saved):
            self.say("Saved again.")
            self.refresh_status()
        elif isinstance(event, events.SaveFailed):
            self.say(event.message, severity="error", timeout=10)
        elif isinstance(event, events.SaveConflict):
            self.ask_about_conflict(event.conflict)

    def show_stream(self, item: ReplyItem, stats: TurnStats, *, waiting: bool) -> None:
        self._turn_started(item.message, stats, waiting=waiting, item=item)

    def end_stream(self) -> None:
        self._turn_ended()

    def _turn_started(
        self, reply: Message, stats: TurnStats, *, waiting: bool, item: ReplyItem | None = None
    ) -> None:
        if item is None:
            item = ReplyItem(
                reply,
                show_reasoning=self.show_reasoning,
                streaming=True,
                model_label=self.model_label(),
            )
        item.stats = stats
        conversation = self.conversation
        conversation.append(item)
        conversation.action_follow()
        # Not streamed, the whole reply arrives at once, after a silence as long as it takes
        # to write: say what is awaited (the spinner above it counts the seconds).
        self._painter = ReplyPainter(item, conversation, waiting=WAITING_NOTE if waiting else "")
        conversation.frame_hook = lambda: self._status_every(STATUS_REFRESH)
        # A blinking cursor redraws the screen twice a second: a fifth of the frames of a
        # slow stream. It holds still while the reply streams (typing works as ever).
        self._blink, self.composer.cursor_blink = self.composer.cursor_blink, False
        self._ticker = self.set_interval(
            STATUS_FALLBACK, lambda: self._status_every(STATUS_FALLBACK), name="status-tick"
        )
        self.refresh_bindings()

    def _status_every(self, seconds: float) -> None:
        now = time.monotonic()
        if now - self._status_at >= seconds:
            self._status_at = now
            self.refresh_status()

    def _turn_ended(self) -> None:
        painter, self._painter = self._painter, None
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        conversation = self.conversation
        conversation.frame_hook = None
        self.composer.cursor_blink = self._blink
        if painter is not None:
            conversation.finish(painter.item)
        self.refresh_status()
        self.refresh_bindings()

    def _session_replaced(self, session: Session) -> None:
        """Another conversation is open: draw it whole."""
        self._painter = None
        if self.finding:  # its matches were the other conversation's
            self.close_find()
        self.conversation.load(self.items_for(session.messages))
        self.sidebar.load(self.request_settings())
        self.fetch_model_card()
        self.end_edit(restore_draft=False)
        self.update_titles()
        self.refresh_status()
        self.composer.focus()
        if session.read_only:
            self.say(
                "This session was saved by a newer glmtui: it is open read-only. "
                "Duplicate it in the session browser to continue it.",
                severity="warning",
                timeout=10,
            )
        self.warn_if_unconfigured()
