"""The key reference shown by the help panel (and in the README's "Keys" section).

Kept as data so the help screen and the README say the same thing; a test compares them.
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
            ("Shift+Tab", "Focus the newest message"),
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
            ("F1", "This help"),
            ("Ctrl+P", "Command palette: every action by name"),
            ("Ctrl+Q", "Quit"),
        ),
    ),
    (
        "Focused message",
        (
            ("Up / Down, k / j", "Previous / next message"),
            ("c", "Copy the message"),
            ("b", "Copy a code block (choose one when there are several)"),
            ("e", "Edit a prompt and resend from there"),
            ("r", "Regenerate the last reply"),
            ("t", "Fold or unfold the reasoning"),
            ("d, Delete", "Delete the message"),
            ("End / Home", "Newest text (and follow) / start of the chat"),
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
