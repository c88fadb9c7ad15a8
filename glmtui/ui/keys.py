"""The key reference shown by the help panel (and in ``docs/keys.md``).

Kept as data so the help screen and the docs say the same thing; a test compares them.

A key column names a binding by its id in braces (``"{chat.regenerate}"``) wherever the key is
a :class:`~textual.binding.Binding`: the help panel then shows the key in force (the user's
``[keymap]`` may move it, see :mod:`glmtui.ui.keymap`) and ``docs/keys.md`` the default.
Keys that are no binding (``@name``, a pasted path) are written as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

Section = tuple[str, tuple[tuple[str, str], ...]]
"""A section title and its rows of (key, what it does)."""

KEYS: tuple[Section, ...] = (
    (
        "Composer",
        (
            ("{chat.send}", "Send the prompt"),
            ("{chat.newline}", "New line (works in every terminal)"),
            ("Shift+Enter, Alt+Enter", "New line, where the terminal reports these keys"),
            ("Up / Down", "Recall earlier prompts (in an empty composer)"),
            ("@name", "Attach a file or folder: choose it in the list that opens"),
            (
                "{chat.edit_in_editor}",
                "Write the prompt in $VISUAL / $EDITOR; the saved text comes back here, not sent"
                " (End goes to the end of a line)",
            ),
            ("Shift+Tab", "Go to the attachments, if any, then the conversation"),
        ),
    ),
    (
        "Chat",
        (
            (
                "{chat.stop}",
                "Stop the streaming reply (the partial text is kept); else back to the composer",
            ),
            ("{chat.regenerate}", "Regenerate the last reply, or retry after an error"),
            ("{chat.new}", "New chat"),
            ("{chat.follow}", "Jump to the newest text and follow it again"),
            ("{chat.reasoning}", "Show or hide reasoning in every reply"),
            (
                "{chat.find}",
                "Find in the conversation: every message, folded reasoning and prompts included"
                " (lower case matches any case; an upper-case letter, exact case)",
            ),
            ("{chat.attach}", "Attach a file or folder (a picker; or type @ in the composer)"),
            (
                "{chat.parameters}",
                "Parameters sidebar: go to it (pressed there: hide it); "
                "an overlay below 100 columns",
            ),
            ("{chat.request_preview}", "The next request as cURL / Python / JSON (c copies)"),
            ("{chat.model_info}", "The current model's details (u on another model uses it)"),
            ("{chat.models}", "The model catalogue: search, inspect, use"),
            (
                "{chat.tools}",
                "Tools: the MCP servers, their state and tools; switch tools on or off",
            ),
            (
                "{chat.compact}",
                "Compact: summarise all but the last exchanges into one message that is sent in"
                " their place (or type /compact, /compact N to keep the last N, /compact undo)",
            ),
            ("{chat.sessions}", "Session browser"),
            ("{chat.help}", "This help"),
            ("Ctrl+P", "Command palette: every action by name"),
            ("{app.quit}", "Quit"),
        ),
    ),
    (
        "Conversation (Shift+Tab from the composer, or click a message)",
        (
            ("{message.previous} / {message.next}", "Select the previous / next message"),
            (
                "{conversation.first} / {conversation.last}",
                "First / last message (with vi_keys = true in the config)",
            ),
            (
                "{conversation.find}, {conversation.find_next} / {conversation.find_previous}",
                "Find in the conversation, next / previous match (with vi_keys = true)",
            ),
            ("{message.copy}", "Copy the selected message"),
            (
                "{conversation.copy_selection}",
                "Copy the text selected with the mouse (drag over it; a double click selects"
                " a word, a triple click a line)",
            ),
            (
                "{conversation.select_text}",
                "Select text with the keyboard, from the start of the selected message (see below)",
            ),
            ("{message.copy_code}", "Copy a code block (choose one when there are several)"),
            ("{message.edit}", "Edit the selected prompt and resend from there"),
            ("{message.regenerate}", "Regenerate the last reply"),
            (
                "{message.toggle_reasoning}",
                "Fold or unfold the reply's reasoning (or click its ▶ line)",
            ),
            (
                "o (on a reply)",
                "Show the reply's tool results whole, or fold them again (or click a call's ⚙"
                " line or its ⋯ line)",
            ),
            (
                "o",
                "Show a long prompt whole, or fold it again (prompts over 60 lines or 6,000"
                " characters, such as a pasted log, show their first 12 lines; or click the ⋯"
                " line)",
            ),
            ("{message.delete}", "Delete the selected message"),
            ("{message.fork}", "Fork: continue in a copy that ends at this message"),
            (
                "o (on compacted messages)",
                "Show the messages a compaction replaced, or fold them again (or click the ▸ line)",
            ),
            (
                "u",
                "Undo the latest compaction (on its summary or its folded messages): the"
                " messages are sent again",
            ),
            ("{conversation.page_up} / {conversation.page_down}", "Scroll a page"),
            (
                "{conversation.top} / {conversation.follow}",
                "Start of the chat / newest text (and follow it)",
            ),
            ("{chat.focus_composer}", "Back to the composer"),
        ),
    ),
    (
        "Selecting text with the keyboard (v on a message)",
        (
            (
                "{text_selection.left} / {text_selection.right} / {text_selection.up} /"
                " {text_selection.down}",
                "Move the cursor; the selection runs from where it started to the cursor"
                " (Shift+arrows too)",
            ),
            (
                "{text_selection.word_next} / {text_selection.word_previous}",
                "Next / previous word",
            ),
            ("{text_selection.restart}", "Start the selection over at the cursor"),
            ("{text_selection.copy}", "Copy the selection and leave"),
            ("{text_selection.cancel}", "Leave without copying"),
        ),
    ),
    (
        "Find bar (Ctrl+F)",
        (
            ("{find_bar.next} / {find_bar.previous}", "Next / previous match (they wrap around)"),
            (
                "{chat.find_next} / {chat.find_previous}",
                "Next / previous match, from the conversation while the bar is open",
            ),
            ("{find_bar.close}", "Close the bar: the marks go, focus goes back where it was"),
        ),
    ),
    (
        "Attachments",
        (
            (
                "@ (starting a word)",
                "Lists the working folder's files and folders as you type a name: Up / Down"
                " choose, Tab goes into a folder, Enter (or Tab on a file) attaches, Esc closes"
                " the list",
            ),
            (
                "{chat.attach}",
                "A picker: Enter attaches a file, a a folder; Backspace: parent folder",
            ),
            (
                "Paste a path",
                "A pasted (or dragged-in) path of an existing file or folder, and nothing else,"
                " is attached, not typed (quoted, escaped and file:// paths too)",
            ),
            (
                "{chips.previous} / {chips.next}",
                "(on the chips above the composer) Choose an attachment",
            ),
            ("{chips.remove}", "Remove the chosen attachment (or click its ✕)"),
            ("{chips.leave}", "Back to the composer"),
        ),
    ),
    (
        "Parameters sidebar",
        (
            ("Tab / Shift+Tab", "Next / previous field"),
            ("Enter", "Apply the value (leaving the field applies it too)"),
            ("{parameters.close}", "Close the overlay (the value being typed is applied)"),
        ),
    ),
    (
        "Model details and catalogue",
        (
            ("u", "Use this model in the chat"),
            ("r", "Refresh: ask the provider again"),
            ("j", "Details: the raw JSON of the model object"),
            ("/, Ctrl+F", "Catalogue: search ids, names, developers and summaries"),
            ("c", "Catalogue: chat models only, on or off"),
            ("Enter", "Catalogue: open the highlighted model's details"),
            ("Esc", "Back (in the catalogue, first clears the search)"),
        ),
    ),
    (
        "Tool call approval",
        (
            ("{approval.once}", "Allow this call once"),
            ("A (Shift+A)", "Always allow this tool (saved to the config's allow list)"),
            ("{approval.deny}", "Deny this call (the model is told)"),
            ("Tab, Enter", "Move to a button; Enter presses it (Enter alone approves nothing)"),
        ),
    ),
    (
        "Compare",
        (
            ("{compare.left} / {compare.right}", "Keep the left / right reply"),
            ("{compare.close}", "Close, keeping the conversation as it was"),
        ),
    ),
)
"""Sections of (key, what it does); ``{binding.id}`` in a key stands for that binding's keys."""

_PLACEHOLDER = re.compile(r"\{([a-z_]+\.[a-z_]+)\}")


def resolved(keys_by_id: Mapping[str, str] | None = None) -> tuple[Section, ...]:
    """:data:`KEYS` with each ``{binding.id}`` replaced by its keys, as the help writes them.

    Args:
        keys_by_id: Binding id → keys in force (Textual's names, comma-separated); None for
            the defaults. An id it lacks is shown as the default.
    """
    from glmtui.ui.keymap import bound_actions, key_label

    defaults = {i: action.keys for i, action in bound_actions().items()}
    chosen = {**defaults, **(keys_by_id or {})}

    def label(match: re.Match[str]) -> str:
        keys = chosen.get(match.group(1))
        return key_label(keys) if keys else match.group(0)

    return tuple(
        (title, tuple((_PLACEHOLDER.sub(label, key), action) for key, action in rows))
        for title, rows in KEYS
    )


def keys_markdown() -> str:
    """The key reference as Markdown tables, with the default keys."""
    out: list[str] = []
    for section, rows in resolved():
        out.append(f"**{section}**\n\n| Key | Action |\n|---|---|")
        out.extend(f"| {key} | {action} |" for key, action in rows)
        out.append("")
    return "\n".join(out).rstrip() + "\n"
