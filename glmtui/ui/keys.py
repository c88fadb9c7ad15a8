"""The key reference shown by the help panel (and in ``docs/keys.md``).

Kept as data so the help screen and the docs say the same thing; a test compares them.
"""

from __future__ import annotations

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Composer",
        (
            ("Enter", "Send the prompt"),
            ("Ctrl+J", "New line (works in every terminal)"),
            ("Shift+Enter, Alt+Enter", "New line, where the terminal reports these keys"),
            ("Up / Down", "Recall earlier prompts (in an empty composer)"),
            ("@name", "Attach a file or folder: choose it in the list that opens"),
            ("Shift+Tab", "Go to the attachments, if any, then the conversation"),
        ),
    ),
    (
        "Chat",
        (
            (
                "Esc",
                "Stop the streaming reply (the partial text is kept); else back to the composer",
            ),
            ("Ctrl+R", "Regenerate the last reply, or retry after an error"),
            ("Ctrl+N", "New chat"),
            ("Ctrl+End", "Jump to the newest text and follow it again"),
            ("Ctrl+T", "Show or hide reasoning in every reply"),
            ("F9", "Attach a file or folder (a picker; or type @ in the composer)"),
            (
                "Ctrl+B",
                "Parameters sidebar: go to it (pressed there: hide it); "
                "an overlay below 100 columns",
            ),
            ("F2", "The next request as cURL / Python / JSON (c copies)"),
            ("F3", "The current model's details (u on another model uses it)"),
            ("F4", "The model catalogue: search, inspect, use"),
            ("F5", "Tools: the MCP servers, their state and tools; switch tools on or off"),
            (
                "F8",
                "Compact: summarise all but the last exchanges into one message that is sent in"
                " their place (or type /compact, /compact N to keep the last N, /compact undo)",
            ),
            ("Ctrl+O", "Session browser"),
            ("F1", "This help"),
            ("Ctrl+P", "Command palette: every action by name"),
            ("Ctrl+Q", "Quit"),
        ),
    ),
    (
        "Conversation (Shift+Tab from the composer, or click a message)",
        (
            ("Up / Down, k / j", "Select the previous / next message"),
            ("c", "Copy the selected message"),
            ("b", "Copy a code block (choose one when there are several)"),
            ("e", "Edit the selected prompt and resend from there"),
            ("r", "Regenerate the last reply"),
            ("t", "Fold or unfold the reply's reasoning (or click its ▶ line)"),
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
            ("d, Delete", "Delete the selected message"),
            ("f", "Fork: continue in a copy that ends at this message"),
            (
                "o (on compacted messages)",
                "Show the messages a compaction replaced, or fold them again (or click the ▸ line)",
            ),
            (
                "u",
                "Undo the latest compaction (on its summary or its folded messages): the"
                " messages are sent again",
            ),
            ("PageUp / PageDown", "Scroll a page"),
            ("Home / End", "Start of the chat / newest text (and follow it)"),
            ("Esc", "Back to the composer"),
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
            ("F9", "A picker: Enter attaches a file, a a folder; Backspace: parent folder"),
            (
                "Paste a path",
                "A pasted (or dragged-in) path of an existing file or folder, and nothing else,"
                " is attached, not typed (quoted, escaped and file:// paths too)",
            ),
            ("Left / Right", "(on the chips above the composer) Choose an attachment"),
            ("Delete, Backspace", "Remove the chosen attachment (or click its ✕)"),
            ("Esc, Enter, Down", "Back to the composer"),
        ),
    ),
    (
        "Parameters sidebar",
        (
            ("Tab / Shift+Tab", "Next / previous field"),
            ("Enter", "Apply the value (leaving the field applies it too)"),
            ("Esc, Ctrl+B", "Close the overlay (the value being typed is applied)"),
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
            ("a", "Allow this call once"),
            ("A (Shift+A)", "Always allow this tool (saved to the config's allow list)"),
            ("d, Esc", "Deny this call (the model is told)"),
            ("Tab, Enter", "Move to a button; Enter presses it (Enter alone approves nothing)"),
        ),
    ),
    (
        "Compare",
        (
            ("1 / 2", "Keep the left / right reply"),
            ("Esc", "Close, keeping the conversation as it was"),
        ),
    ),
)
"""Sections of (key, what it does)."""


def keys_markdown() -> str:
    """The key reference as Markdown tables."""
    out: list[str] = []
    for section, rows in KEYS:
        out.append(f"**{section}**\n\n| Key | Action |\n|---|---|")
        out.extend(f"| {key} | {action} |" for key, action in rows)
        out.append("")
    return "\n".join(out).rstrip() + "\n"
