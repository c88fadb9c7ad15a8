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
    """The chat screen's entries for the command palette ("category: action"); the keys
    they name are the keys in force (the config's ``[keymap]`` may move them)."""
    key = screen.key_text
    yield SystemCommand(
        "chat: stop", f"Stop the streaming reply ({key('chat.stop', 'Esc')})", screen.action_stop
    )
    yield SystemCommand(
        "chat: regenerate",
        f"Regenerate the last reply ({key('chat.regenerate', 'Ctrl+R')})",
        screen.action_regenerate,
    )
    yield SystemCommand(
        "chat: new", f"Start a new chat ({key('chat.new', 'Ctrl+N')})", screen.action_new_chat
    )
    yield SystemCommand(
        "chat: follow",
        f"Jump to the newest text ({key('chat.follow', 'Ctrl+End')})",
        screen.action_follow,
    )
    yield SystemCommand(
        "chat: edit in editor",
        "Write the prompt in $VISUAL / $EDITOR; it comes back to the composer"
        f" ({key('chat.edit_in_editor', 'Ctrl+E')})",
        screen.action_edit_in_editor,
    )
    yield SystemCommand(
        "attach: a file…",
        f"Attach a file or folder to the next prompt ({key('chat.attach', 'F9')}; or type @"
        " in the composer)",
        screen.action_attach,
    )
    yield SystemCommand(
        "view: toggle reasoning",
        f"Show or hide reasoning in every reply ({key('chat.reasoning', 'Ctrl+T')})",
        screen.action_toggle_reasoning,
    )
    yield SystemCommand(
        "help: keys", f"Every key glmtui understands ({key('chat.help', 'F1')})", screen.action_help
    )
    yield SystemCommand(
        "view: toggle parameters",
        f"Show or hide the parameter sidebar ({key('chat.parameters', 'Ctrl+B')})",
        screen.action_toggle_sidebar,
    )
    yield SystemCommand(
        "model: info",
        "The current model's facts, prices, limits and parameters"
        f" ({key('chat.model_info', 'F3')})",
        screen.action_model_info,
    )
    yield SystemCommand(
        "model: catalogue",
        f"Every model the provider offers: search, inspect, use ({key('chat.models', 'F4')})",
        screen.action_models,
    )
    yield SystemCommand(
        "tools: servers and tools",
        "The MCP servers, their state and tools; switch tools on or off"
        f" ({key('chat.tools', 'F5')})",
        screen.action_tools,
    )
    yield SystemCommand(
        "request: preview",
        f"The next request as cURL, Python and JSON ({key('chat.request_preview', 'F2')})",
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
            "Remove the latest summary; the messages it replaced are sent again"
            f" ({key('message.undo_compaction', 'u')} on it)",
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
            f"Search, resume and manage sessions ({key('chat.sessions', 'Ctrl+O')})",
            screen.action_sessions,
        )
        yield SystemCommand("session: rename", "Rename this session", screen.action_rename)
    conversation = screen.conversation
    if conversation.items:
        if conversation.selected is None:
            conversation.selected = len(conversation.items) - 1
        item = conversation.selected_item
        yield SystemCommand(
            "message: copy",
            f"Copy the selected message ({key('message.copy', 'c')})",
            conversation.action_copy,
        )
        yield SystemCommand(
            "message: copy code block",
            f"Copy a code block ({key('message.copy_code', 'b')})",
            conversation.action_copy_code,
        )
        yield SystemCommand(
            "message: delete",
            f"Delete the selected message ({key('message.delete', 'd')})",
            lambda: conversation.action_request("delete"),
        )
        if screen.context.store is not None:
            yield SystemCommand(
                "session: fork from this message",
                "Continue in a copy that ends at the selected message"
                f" ({key('message.fork', 'f')})",
                lambda: conversation.action_request("fork"),
            )
        if isinstance(item, UserItem):
            yield SystemCommand(
                "message: edit and resend",
                f"Edit this prompt and resend from here ({key('message.edit', 'e')})",
                lambda: conversation.action_request("edit"),
            )
        if isinstance(item, ReplyItem):
            yield SystemCommand(
                "message: toggle reasoning",
                f"Fold or unfold this reply's reasoning ({key('message.toggle_reasoning', 't')})",
                conversation.action_toggle_reasoning,
            )
            if item.tool_results_foldable:
                yield SystemCommand(
                    "message: fold or unfold tool results",
                    "Show this reply's tool results whole, or fold them again (o)",
                    conversation.action_toggle_fold,
                )
