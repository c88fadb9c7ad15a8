"""How tool calls look: a finished tool turn at 120x40 and 80x24, and the approval dialog.

Each test's docstring says what you should see in its SVG under tests/__snapshots__/.
"""

from __future__ import annotations

import json

import pytest
from textual.pilot import Pilot

from glmtui.domain import Message, Session, Usage
from glmtui.domain.tools import ToolCall, ToolSpec
from glmtui.tools import ApprovalRequest
from glmtui.ui.screens.approval import ApprovalScreen
from tests.server import LoopbackServer
from tests.ui_helpers import FIXED_TIME, chat_opened, make_app, settle

SIZES = [(120, 40), (80, 24)]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("glmtui.domain.utc_now", lambda: FIXED_TIME)


def tool_session() -> Session:
    """A finished tool turn: a reply with reasoning, a sentence and three calls (one done
    with a JSON result, one failed, one denied), their tool messages, and the final answer."""
    paris = ToolCall("call_1", "get_current_time", json.dumps({"timezone": "Europe/Paris"}))
    tokyo = ToolCall("call_2", "get_current_time", json.dumps({"timezone": "Asia/Tokyo"}))
    files = ToolCall("call_3", "delete_file", json.dumps({"path": "/home/you/notes.txt"}))
    result = {
        "timezone": "Europe/Paris",
        "datetime": "2026-11-25T15:30:00+01:00",
        "day_of_week": "Wednesday",
        "is_dst": False,
    }
    at = {"created_at": FIXED_TIME}
    return Session(
        id="tools",
        title="What time is it?",
        created_at=FIXED_TIME,
        updated_at=FIXED_TIME,
        model="zai-org-glm-5",
        messages=[
            Message("user", "What time is it in Paris and Tokyo? Then tidy my notes.", **at),
            Message(
                "assistant",
                "I'll look both up.",
                reasoning="Two time zones: two calls. Then the notes file.",
                status="complete",
                finish_reason="tool_calls",
                model="zai-org-glm-5",
                usage=Usage(prompt_tokens=180, completion_tokens=64, total_tokens=244),
                tool_calls=(paris, tokyo, files),
                **at,
            ),
            Message(
                "tool",
                json.dumps(result),
                tool_call_id="call_1",
                tool_name="time.get_current_time",
                tool_outcome="ok",
                duration_ms=120,
                **at,
            ),
            Message(
                "tool",
                "Error: the MCP server 'time' is not running (stopped)",
                tool_call_id="call_2",
                tool_name="time.get_current_time",
                tool_outcome="error",
                duration_ms=3,
                **at,
            ),
            Message(
                "tool",
                "The user denied this tool call.",
                tool_call_id="call_3",
                tool_name="files.delete_file",
                tool_outcome="denied",
                **at,
            ),
            Message(
                "assistant",
                "It is **15:30** in Paris (Wednesday). Tokyo's clock could not be read, "
                "and I left your notes alone.",
                status="complete",
                finish_reason="stop",
                model="zai-org-glm-5",
                usage=Usage(prompt_tokens=320, completion_tokens=30, total_tokens=350),
                **at,
            ),
        ],
    )


def approval_request() -> ApprovalRequest:
    """A call to a tool that writes a file, with arguments of several lines."""
    spec = ToolSpec(
        "files",
        "write_file",
        "Create a new file or overwrite an existing one with new content.\n"
        "Use with caution: it overwrites without warning.",
        {},
        "write_file",
    )
    arguments = {
        "path": "/home/you/project/notes.md",
        "content": "# Notes\n\n- buy milk\n- call Ada",
        "mode": "overwrite",
    }
    return ApprovalRequest(spec, ToolCall("call_9", "write_file", json.dumps(arguments)), arguments)


@pytest.mark.parametrize("size", SIZES)
def test_finished_tool_turn(snap_compare, server: LoopbackServer, size: tuple[int, int]) -> None:
    """You should see the prompt, then a reply with a folded "Reasoning" line, "I'll look
    both up." and three call blocks: "⚙ time.get_current_time(timezone="Europe/Paris") · done
    in 120 ms" with three lines of indented, highlighted JSON behind a bar and a "⋯ 6 lines …
    click or press o" note; "⚙ time.get_current_time(timezone="Asia/Tokyo") · failed" with its
    error in red; "⚙ files.delete_file(path="/home/you/notes.txt") · denied" with "The user
    denied this tool call." No "Stopped early" line. Then the final answer, with 15:30 in
    bold. At 80x24 the conversation is scrolled to its end (the last block and the answer)."""
    app = make_app(server, session=tool_session())
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_approval_dialog(snap_compare, server: LoopbackServer) -> None:
    """You should see, over the dimmed chat, a box with an amber border: "Allow this tool
    call?", "zai-org-glm-5 wants to run write_file from the MCP server files.", the tool's
    two-line description, "With these arguments (… characters):" and the arguments as
    indented, highlighted JSON (path, content with its \\n escapes, mode), then three buttons
    "Allow once", "Always allow this tool", "Deny", and the key line "a allow once · A always
    allow (saved to the config) · d or Esc deny"."""

    async def run_before(pilot: Pilot[int]) -> None:
        screen = await chat_opened(pilot)
        pilot.app.push_screen(ApprovalScreen(approval_request(), model=screen.model_label()))
        await settle(pilot)

    assert snap_compare(make_app(server), terminal_size=(120, 40), run_before=run_before)
