"""The chat screen's command palette entries: every action by name, as "category: action",
with its key where it has one. What the selected message allows is offered for it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from glmtui.ui.items import ReplyItem, UserItem

if TYPE_CHECKING:
    from glmtui.ui.screens.chat import ChatScreen


def palette_commands(screen: ChatScreen) -> Iterable[SystemCommand]:
    """The chat screen's entries for the command palette ("category: action")."""
    yield SystemCommand("chat: stop", "Stop the streaming reply (Esc)", screen.action_stop)
    yield SystemCommand(
        "chat: regenerate", "Regenerate the last reply (Ctrl+R)", screen.action_regenerate
    )
    yield SystemCommand("chat: new", "Start a new chat (Ctrl+N)", screen.action_new_chat)
    yield SystemCommand("chat: follow", "Jump to the newest text (Ctrl+End)", screen.action_follow)
    yield SystemCommand(
        "attach: a file…",
        "Attach a file or folder to the next prompt (F9; or type @ in the composer)",
        screen.action_attach,
    )
    yield SystemCommand(
        "view: toggle reasoning",
        "Show or hide reasoning in every reply (Ctrl+T)",
        screen.action_toggle_reasoning,
    )
    yield SystemCommand("help: keys", "Every key glmtui understands (F1)", screen.action_help)
    yield SystemCommand(
        "view: toggle parameters",
        "Show or hide the parameter sidebar (Ctrl+B)",
        screen.action_toggle_sidebar,
    )
    yield SystemCommand(
        "model: info",
        "The current model's facts, prices, limits and parameters (F3)",
        screen.action_model_info,
    )
    yield SystemCommand(
        "model: catalogue",
        "Every model the provider offers: search, inspect, use (F4)",
        screen.action_models,
    )
    yield SystemCommand(
        "tools: servers and tools",
        "The MCP servers, their state and tools; switch tools on or off (F5)",
        screen.action_tools,
    )
    yield SystemCommand(
        "request: preview",
        "The next request as cURL, Python and JSON (F2)",
        screen.action_preview_request,
    )
    yield SystemCommand(
        "chat: compare",
        "Answer the last prompt with another model or parameters",
        screen.action_compare,
    )
    yield SystemCommand("chat: compact", screen.compaction_hint(), screen.action_compact)
    if screen.can_undo_compaction:
        yield SystemCommand(
            "chat: undo compaction",
            "Remove the latest summary; the messages it replaced are sent again (u on it)",
            screen.action_undo_compaction,
        )
    for fmt, name in (("curl", "cURL"), ("python", "Python (httpx)"), ("json", "JSON")):
        yield SystemCommand(
            f"request: copy as {name}",
            "Copy the next request; the key is written as an environment variable",
            lambda fmt=fmt: screen.action_copy_request(fmt),
        )
    if screen.context.store is not None:
        yield SystemCommand(
            "session: browse",
            "Search, resume and manage sessions (Ctrl+O)",
            screen.action_sessions,
        )
        yield SystemCommand("session: rename", "Rename this session", screen.action_rename)
    conversation = screen.conversation
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
        if screen.context.store is not None:
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
            if item.tool_results_foldable:
                yield SystemCommand(
                    "message: fold or unfold tool results",
                    "Show this reply's tool results whole, or fold them again (o)",
                    conversation.action_toggle_fold,
                )
