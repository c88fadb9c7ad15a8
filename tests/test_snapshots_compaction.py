"""How a compacted conversation looks, at 120x40.

Each test's docstring says what you should see in its SVG under tests/__snapshots__/.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from glmtui.chat.compaction import PREFACE
from glmtui.domain import Message, Session, Usage
from tests.server import LoopbackServer
from tests.ui_helpers import FIXED_TIME, chat_opened, make_app, settle

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("glmtui.domain.utc_now", lambda: FIXED_TIME)


def compacted_session() -> Session:
    """Three exchanges about lifetimes compacted into a summary, then two kept whole."""

    def exchange(prompt: str, answer: str, tokens: int) -> list[Message]:
        usage = Usage(prompt_tokens=tokens, completion_tokens=40, total_tokens=tokens + 40)
        return [
            Message("user", prompt, created_at=FIXED_TIME),
            Message(
                "assistant",
                answer,
                created_at=FIXED_TIME,
                status="complete",
                model="zai-org-glm-5",
                usage=usage,
            ),
        ]

    earlier = [
        *exchange("What is a lifetime in Rust?", "The scope for which a borrow is valid.", 30),
        *exchange("Why does `longest` need one?", "The result borrows from either input.", 90),
        *exchange("Can I return a `&str` I built?", "No: return a `String` instead.", 150),
    ]
    for message in earlier:
        message.compacted = True
    summary = Message(
        "user",
        f"{PREFACE}\n\n"
        "- **Lifetimes** name how long a borrow is valid.\n"
        "- `longest(a, b)` needs `'a` because its result borrows from either input.\n"
        "- A `&str` built inside a function cannot be returned: return a `String`.",
        created_at=FIXED_TIME,
        model="zai-org-glm-5",
        usage=Usage(prompt_tokens=260, completion_tokens=60, total_tokens=320),
        summary_of=tuple(m.id for m in earlier),
    )
    kept = [
        *exchange("And `'static`?", "It lives for the whole program, like string literals.", 120),
        *exchange("Thanks! One line on elision?", "The compiler infers the obvious ones.", 180),
    ]
    return Session(
        id="compacted",
        title="Rust lifetimes",
        created_at=FIXED_TIME,
        updated_at=FIXED_TIME,
        model="zai-org-glm-5",
        messages=[*earlier, summary, *kept],
    )


def test_compacted_chat(snap_compare, server: LoopbackServer) -> None:
    """You should see one muted line "▸ 6 earlier messages compacted into the summary below ·
    o shows them", then the summary: a header "Summary of 6 earlier messages ·
    GLM-5 · 14:30 · 60 tokens · u undoes", the preface sentence and three bullets (Lifetimes
    in bold, inline code); then the two kept exchanges ('static and elision) as ever. The
    status bar counts the summary's cost with the replies'."""
    app = make_app(server, session=compacted_session())
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_compacted_messages_unfolded(snap_compare, server: LoopbackServer) -> None:
    """You should see the fold selected and open: "▾ 6 compacted messages: not sent, the
    summary below is · o folds them", the three earlier questions and answers as they
    were drawn before, "▴ end of the compacted messages · o folds them", then the summary's
    header below; the footer offers o Fold and u Undo compaction (no Delete, no Copy)."""

    async def run_before(pilot: Pilot[int]) -> None:
        screen = await chat_opened(pilot)
        await settle(pilot)
        view = screen.conversation
        view.focus()
        view.select(0)
        await pilot.press("o")
        await settle(pilot)

    app = make_app(server, session=compacted_session())
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
