"""Tool calls on screen, driven with Pilot: the approval dialog, the call blocks as a tool
turn runs (against the real controller and the loopback server), folding a result, a saved
tool turn, the Tools screen, and the MCP servers' lifecycle in the app.

The MCP host is a fake written here (:class:`FakeHost`, the shape of
:class:`glmtui.tools.host.McpHost`): the real one has its own tests with real servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from glmtui.api.client import ChatClient, RetryPolicy
from glmtui.chat import events
from glmtui.domain import Message
from glmtui.domain.tools import ToolCall, ToolSpec
from glmtui.tools import Approval, ToolResult
from glmtui.tools.settings import McpConfig
from glmtui.ui.app import GlmApp
from glmtui.ui.items import ReplyItem
from glmtui.ui.screens.approval import ApprovalScreen
from glmtui.ui.screens.chat import ChatScreen
from glmtui.ui.screens.help import HelpScreen
from glmtui.ui.screens.tools import ToolsScreen
from glmtui.ui.tool_block import ToolBlock
from glmtui.ui.tool_host import ServerState
from glmtui.ui.widgets.conversation import ConversationView
from tests.mcp_servers.helpers import stdio_server, wait_until_gone
from tests.server import LoopbackServer, stream_of, tool_call_stream
from tests.test_snapshots_tools import approval_request, tool_session
from tests.ui_helpers import (
    Notices,
    chat_opened,
    make_app,
    send,
    settings_for,
    settle,
    until,
    visible_text,
)

SIZE = (120, 40)
BIG_LINES = 20_000
"""Lines of the big result: ~1 MB."""


def spec(name: str, server: str = "box", description: str = "") -> ToolSpec:
    return ToolSpec(server, name, description or f"The {name} tool.", {}, name)


@dataclass(frozen=True)
class Status:
    """A server as the fake host reports it (the fields of ``ServerStatus``)."""

    name: str
    transport: str
    state: ServerState
    error: str = ""
    tools: tuple[ToolSpec, ...] = ()


class FakeHost:
    """The MCP host's shape: servers that start at once (or fail), and tools that answer
    from here: ``echo`` its text, ``hang`` once released (or when cancelled), ``big`` a
    megabyte of text."""

    def __init__(
        self,
        on_change: Callable[[], None],
        *,
        allowed: tuple[str, ...] = ("hang", "big"),
        failing: dict[str, str] | None = None,
    ) -> None:
        self.on_change = on_change
        self.specs = [
            spec("echo", description="Say it back.\nMore words."),
            spec("hang"),
            spec("big"),
        ]
        self.allowed = set(allowed)
        self.failing = failing or {}
        self.state: ServerState = "starting"
        self.disabled: set[str] = set()
        self.enabled_calls: list[tuple[str, bool]] = []
        self.always: list[str] = []
        self.ran: list[tuple[str, dict[str, Any]]] = []
        self.started = self.closed = self.killed = 0
        self.release = asyncio.Event()
        self.running = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.last_error = ""

    async def start(self) -> None:
        self.started += 1
        self.state = "ready"
        self.on_change()

    async def close(self) -> None:
        self.closed += 1

    def kill_now(self) -> None:
        self.killed += 1

    def servers(self) -> list[Status]:
        out = [Status("box", "stdio", self.state, tools=tuple(self.specs))]
        if self.started:
            out += [Status(name, "stdio", "failed", error) for name, error in self.failing.items()]
        return out

    def set_enabled(self, label: str, enabled: bool) -> None:
        self.enabled_calls.append((label, enabled))
        (self.disabled.discard if enabled else self.disabled.add)(label)

    def is_enabled(self, spec: ToolSpec) -> bool:
        return spec.label not in self.disabled

    def tools(self) -> list[ToolSpec]:
        return [s for s in self.specs if self.is_enabled(s)] if self.state == "ready" else []

    def find(self, wire_name: str) -> ToolSpec | None:
        return next((s for s in self.tools() if s.wire_name == wire_name), None)

    def is_allowed(self, spec: ToolSpec) -> bool:
        return spec.name in self.allowed

    def allow_always(self, spec: ToolSpec) -> None:
        self.allowed.add(spec.name)
        self.always.append(spec.label)

    def timeout_for(self, spec: ToolSpec) -> float | None:
        return None

    async def call(self, spec: ToolSpec, arguments: dict[str, Any]) -> ToolResult:
        self.ran.append((spec.name, arguments))
        if spec.name == "hang":
            self.running.set()
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
            return ToolResult("released")
        if spec.name == "big":
            return ToolResult("\n".join(f"line {n}: " + "x" * 40 for n in range(BIG_LINES)))
        return ToolResult(f"echo: {arguments.get('text', '')}")


def app_with_host(
    server: LoopbackServer, *, max_steps: int = 10, **host_options: Any
) -> tuple[GlmApp, list[FakeHost]]:
    """An app talking to ``server`` whose MCP host is a :class:`FakeHost` (made after the
    first frame, as the real one is)."""
    hosts: list[FakeHost] = []

    def make(on_change: Callable[[], None]) -> FakeHost:
        hosts.append(FakeHost(on_change, **host_options))
        return hosts[-1]

    settings = settings_for(server, mcp=McpConfig(max_steps=max_steps))
    client = ChatClient(server.base_url, settings.api_key, retry=RetryPolicy(max_retries=0))
    return GlmApp(settings, client=client, tool_host=make), hosts


async def host_ready(pilot: Pilot[int], hosts: list[FakeHost]) -> FakeHost:
    await chat_opened(pilot)
    await until(pilot, lambda: bool(hosts) and hosts[0].state == "ready")
    return hosts[0]


def call(name: str, **arguments: Any) -> tuple[str, str, str]:
    return (f"call_{name}", name, json.dumps(arguments))


def tool_reply(screen: ChatScreen) -> ReplyItem:
    """The reply that made the calls."""
    return next(item for item in screen.conversation.replies if item.tools)


def lines_of(item: ReplyItem, width: int = 100) -> list[str]:
    return [line.plain for part in item.parts(width) for line in part.content]


# --- the approval dialog ------------------------------------------------------------------------


async def ask(pilot: Pilot[int], screen: ChatScreen) -> asyncio.Task[Approval]:
    """Ask for an approval as the controller does; returns once the dialog is up."""
    task = asyncio.create_task(screen.approve(approval_request()))
    await until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen))
    await pilot.pause()
    return task


@pytest.mark.parametrize(
    ("key", "expected"),
    [("a", "once"), ("A", "always"), ("shift+a", "always"), ("d", "deny"), ("escape", "deny")],
)
async def test_each_key_of_the_approval_dialog_gives_its_answer(
    server: LoopbackServer, key: str, expected: Approval
) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        task = await ask(pilot, screen)
        await pilot.press(key)
        assert await task == expected
        assert app.screen is screen


@pytest.mark.parametrize(
    ("button", "expected"),
    [("#approval-once", "once"), ("#approval-always", "always"), ("#approval-deny", "deny")],
)
async def test_each_button_of_the_approval_dialog_gives_its_answer(
    server: LoopbackServer, button: str, expected: Approval
) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        task = await ask(pilot, screen)
        await pilot.click(button)
        assert await task == expected


async def test_enter_alone_approves_nothing(server: LoopbackServer) -> None:
    """The focus starts on the arguments: an Enter meant for the composer runs no tool. Tab
    reaches the buttons, and Enter presses the one focused."""
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        task = await ask(pilot, screen)
        dialog = app.screen
        await pilot.press("enter", "enter")
        assert not task.done()
        assert app.screen is dialog
        assert dialog.focused is not None
        assert dialog.focused.id == "approval-arguments"
        await pilot.press("tab", "tab", "tab", "enter")  # once, always, deny
        assert await task == "deny"


async def test_the_dialog_shows_the_whole_call(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        task = await ask(pilot, screen)
        shown = visible_text(app)
        assert "wants to run write_file from the MCP server files." in shown
        assert "Use with caution: it overwrites without warning." in shown
        assert '"content": "# Notes\\n\\n- buy milk\\n- call Ada",' in shown
        assert '"mode": "overwrite"' in shown
        await pilot.press("d")
        await task


async def test_long_arguments_are_shown_whole_and_scroll(server: LoopbackServer) -> None:
    """A model may send a whole file: every line of it is in the dialog (a read-only text
    area that draws what is on screen), and it scrolls."""
    text = "\n".join(f"line {n}" for n in range(5_000))
    request = replace(approval_request(), arguments={"path": "big.txt", "content": text})
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        task = asyncio.create_task(screen.approve(request))
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        area = app.screen.query_one("#approval-arguments")
        assert "line 4999" in area.text  # type: ignore[attr-defined]
        await pilot.press("end")
        await pilot.pause()
        assert area.scroll_y > 0
        await pilot.press("escape")
        assert await task == "deny"


async def test_the_dialog_opens_over_another_modal(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        task = await ask(pilot, screen)
        await pilot.press("a")
        assert await task == "once"
        assert isinstance(app.screen, HelpScreen)


async def test_a_stopped_turn_takes_its_question_back(server: LoopbackServer) -> None:
    """Stopping the turn while the dialog is open closes it; if another screen was opened
    over it, it closes as soon as that one does."""
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        task = await ask(pilot, screen)
        task.cancel()
        await until(pilot, lambda: app.screen is screen)

        task = await ask(pilot, screen)
        await app.push_screen(HelpScreen())
        task.cancel()
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        app.pop_screen()
        await until(pilot, lambda: app.screen is screen)


# --- a tool turn, as it runs ----------------------------------------------------------------------


async def test_a_call_waits_for_approval_then_runs(server: LoopbackServer) -> None:
    server.enqueue(tool_call_stream([call("echo", text="hi")], reasoning_tokens=["Echo ", "it."]))
    server.enqueue(stream_of(["It said hi."]))
    app, hosts = app_with_host(server)
    async with app.run_test(size=SIZE) as pilot:
        host = await host_ready(pilot, hosts)
        await send(pilot, "Echo hi")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        screen = app.screen_stack[-2]
        assert isinstance(screen, ChatScreen)
        block = tool_reply(screen).tools[0]
        assert (block.label, block.state_text()) == ("box.echo", "waiting for approval")
        assert screen.generating  # the turn goes on while it waits
        await pilot.press("a")
        await settle(pilot)
        assert host.ran == [("echo", {"text": "hi"})]
        assert block.state == "done"
        assert block.state_text().startswith("done in ")
        reply = tool_reply(screen)
        shown = lines_of(reply)
        assert any(line.startswith('⚙ box.echo(text="hi") · done in ') for line in shown)
        assert "  │ echo: hi" in shown
        assert not any("Stopped early" in line for line in shown)
        # The tool message is drawn in the block, not as a message of its own.
        assert [type(item).__name__ for item in screen.conversation.items] == [
            "UserItem",
            "ReplyItem",
            "ReplyItem",
        ]
        assert "It said hi." in visible_text(app)


async def test_quitting_while_a_call_waits_for_approval(server: LoopbackServer) -> None:
    """Ctrl+Q with the dialog open ends the app cleanly: nothing runs, the call is kept as
    not run, and the servers are closed."""
    server.enqueue(tool_call_stream([call("echo", text="never")]))
    app, hosts = app_with_host(server)
    async with app.run_test(size=SIZE) as pilot:
        host = await host_ready(pilot, hosts)
        await send(pilot, "Echo")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        session = app.screen_stack[-2].session  # type: ignore[attr-defined]
        await pilot.press("ctrl+q")
    assert host.ran == []
    assert host.closed == 1
    assert [m.tool_outcome for m in session.messages if m.role == "tool"] == ["cancelled"]


async def test_always_allow_is_remembered(server: LoopbackServer) -> None:
    server.enqueue(tool_call_stream([call("echo", text="one")]))
    server.enqueue(stream_of(["Done."]))
    app, hosts = app_with_host(server)
    async with app.run_test(size=SIZE) as pilot:
        host = await host_ready(pilot, hosts)
        await send(pilot, "Echo")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("A")
        await settle(pilot)
        assert host.always == ["box.echo"]
        assert host.ran == [("echo", {"text": "one"})]


async def test_a_denied_call_says_so(server: LoopbackServer) -> None:
    server.enqueue(tool_call_stream([call("echo", text="no")]))
    server.enqueue(stream_of(["Understood."]))
    app, hosts = app_with_host(server)
    async with app.run_test(size=SIZE) as pilot:
        host = await host_ready(pilot, hosts)
        await send(pilot, "Echo")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("escape")
        await settle(pilot)
        assert host.ran == []
        block = tool_reply(app.screen).tools[0]  # type: ignore[arg-type]
        assert block.state_text() == "denied"


async def test_a_running_call_ticks_and_the_timer_stops_when_it_ends(
    server: LoopbackServer,
) -> None:
    server.enqueue(tool_call_stream([call("hang")]))
    server.enqueue(stream_of(["Finished."]))
    app, hosts = app_with_host(server)
    async with app.run_test(size=SIZE) as pilot:
        host = await host_ready(pilot, hosts)
        await send(pilot, "Wait for it")
        await until(pilot, host.running.is_set)
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        view = screen.conversation
        block = tool_reply(screen).tools[0]
        assert block.state_text().startswith("running ")
        assert view.tools_ticking
        assert screen.generating
        host.release.set()
        await settle(pilot)
        assert block.state == "done"
        assert not view.tools_ticking
        assert "Finished." in visible_text(app)


async def test_esc_cancels_a_running_call(server: LoopbackServer) -> None:
    server.enqueue(tool_call_stream([call("hang"), call("echo", text="later")]))
    app, hosts = app_with_host(server)
    async with app.run_test(size=SIZE) as pilot:
        host = await host_ready(pilot, hosts)
        await send(pilot, "Wait for it")
        await until(pilot, host.running.is_set)
        await pilot.press("escape")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        assert host.cancelled.is_set()
        assert not screen.generating
        assert not screen.conversation.tools_ticking
        states = [b.state_text() for b in tool_reply(screen).tools]
        assert states == ["cancelled", "cancelled"]
        assert len(server.chat_requests) == 1  # nothing asked after the stop


async def test_blocks_follow_hand_made_events(server: LoopbackServer) -> None:
    """Every state a block can be in, as the controller announces them."""
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        reply = Message("assistant", "", status="streaming")
        screen.conversation.append(ReplyItem(reply, streaming=True))
        item = screen.conversation.replies[-1]
        partial = ToolCall("c1", "echo", '{"te')
        draw = screen._drawn
        draw(events.ToolCallUpdated(reply, 0, partial, "arguments", "box.echo"))
        assert item.tools[0].state_text() == "streaming arguments…"
        assert lines_of(item)[-1] == '⚙ box.echo({"te) · streaming arguments…'
        whole = ToolCall("c1", "echo", '{"text": "hi"}')
        reply.status, reply.tool_calls = "complete", (whole,)
        screen.conversation.finish(item)
        assert item.tools[0].state_text() == "queued"
        for state, text in [("waiting", "waiting for approval"), ("running", "running")]:
            draw(events.ToolCallUpdated(reply, 0, whole, state, "box.echo", started=1e12))
            assert item.tools[0].state_text().startswith(text)
        for outcome, text in [
            ("ok", "done in 1.5 s"),
            ("error", "failed"),
            ("denied", "denied"),
            ("timeout", "timed out"),
            ("cancelled", "cancelled"),
        ]:
            answer = Message("tool", "x", tool_call_id="c1", tool_outcome=outcome, duration_ms=1500)
            state = {"ok": "done", "error": "failed"}.get(outcome, outcome)
            draw(events.ToolCallUpdated(reply, 0, whole, state, "box.echo", result=answer))  # type: ignore[arg-type]
            assert item.tools[0].state_text() == text
            assert lines_of(item)[-2] == f'⚙ box.echo(text="hi") · {text}'
        # The tool message announced on its own afterwards is not drawn a second time.
        before = len(screen.conversation.items)
        draw(events.MessageAdded(answer, 3))
        assert len(screen.conversation.items) == before


async def test_the_step_limit_is_told(server: LoopbackServer) -> None:
    server.enqueue(tool_call_stream([call("hang")]))
    app, hosts = app_with_host(server, max_steps=1)
    notices = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        host = await host_ready(pilot, hosts)
        host.release.set()
        await send(pilot, "Loop")
        await settle(pilot)
        assert (
            "GLM-5 was still calling tools after 1 step; stopped. "
            "Raise [mcp] max_steps to allow more."
        ) in notices.messages
        assert len(server.chat_requests) == 1


# --- folding --------------------------------------------------------------------------------------


async def test_a_megabyte_result_is_folded_and_unfolds(server: LoopbackServer) -> None:
    server.enqueue(tool_call_stream([call("big")]))
    server.enqueue(stream_of(["That was long."]))
    app, hosts = app_with_host(server)
    async with app.run_test(size=SIZE) as pilot:
        await host_ready(pilot, hosts)
        await send(pilot, "Big")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        view = screen.conversation
        item = tool_reply(screen)
        block = item.tools[0]
        assert block.result is not None
        assert len(block.result.content) > 900_000
        folded = lines_of(item)
        assert folded[-4:] == [
            "  │ line 0: " + "x" * 40,
            "  │ line 1: " + "x" * 40,
            "  │ line 2: " + "x" * 40,
            "  ⋯ 20,000 lines, 1.0 M characters in all · click or press o to show everything",
        ]
        # o on the selected reply unfolds its results; the text is laid out lazily.
        view.focus()
        view.select(view.items.index(item))
        await pilot.press("o")
        await settle(pilot)
        assert block.expanded
        await until(pilot, lambda: not item.behind)
        assert sum(p.height for p in item.parts(view.size.width - 5)) > BIG_LINES
        await pilot.press("o")
        await pilot.pause()
        assert not block.expanded
        # A click on the call's line unfolds it too, and again folds it.
        x, y = view.screen_offset_of(item.message, "toggle_tool") or (0, 0)
        await pilot.click(ConversationView, offset=(x, y))
        assert block.expanded
        x, y = view.screen_offset_of(item.message, "toggle_tool") or (0, 0)
        await pilot.click(ConversationView, offset=(x, y))
        assert not block.expanded


def test_a_short_result_is_not_folded() -> None:
    block = ToolBlock(ToolCall("c", "t", "{}"), "s.t", "done")
    block.answer(Message("tool", '{"a": 1}', tool_outcome="ok", duration_ms=5))
    lines = [line.plain for part in block.parts(80) for line in part.content]
    assert lines == ["⚙ s.t() · done in 5 ms", "  │ {", '  │   "a": 1', "  │ }"]
    assert not block.foldable
    assert block.hotspots == []


def test_folding_a_megabyte_costs_three_lines() -> None:
    """Folded, only the head of the result is rendered, whatever its size."""
    text = "y" * 2_000_000  # one endless line
    block = ToolBlock(ToolCall("c", "t", ""), "s.t", "done")
    block.answer(Message("tool", text, tool_outcome="ok"))
    parts = block.parts(80)
    assert sum(p.height for p in parts) == 1 + 3 + 1
    assert block.foldable


# --- a saved session ------------------------------------------------------------------------------


async def test_a_saved_tool_turn_draws_its_blocks(server: LoopbackServer) -> None:
    app = make_app(server, session=tool_session())
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        await settle(pilot)
        view = screen.conversation
        assert [type(i).__name__ for i in view.items] == ["UserItem", "ReplyItem", "ReplyItem"]
        item = tool_reply(screen)
        assert [(b.label, b.state_text()) for b in item.tools] == [
            ("time.get_current_time", "done in 120 ms"),
            ("time.get_current_time", "failed"),
            ("files.delete_file", "denied"),
        ]
        shown = visible_text(app)
        assert 'time.get_current_time(timezone="Europe/Paris") · done in 120 ms' in shown
        assert "Error: the MCP server 'time' is not running (stopped)" in shown
        assert "Stopped early" not in shown


async def test_a_call_without_text_shows_no_empty_answer(server: LoopbackServer) -> None:
    session = tool_session()
    session.messages[1].content = ""
    session.messages[1].reasoning = ""
    del session.messages[2:]  # and its answers were never saved (the program ended)
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        await settle(pilot)
        item = tool_reply(screen)
        shown = lines_of(item)
        assert shown[0].startswith("GLM-5 · ")
        # Unanswered, the call is named as the model named it (no server recorded it).
        assert shown[1] == '⚙ get_current_time(timezone="Europe/Paris") · cancelled'
        assert [b.state_text() for b in item.tools] == ["cancelled"] * 3


# --- the Tools screen -----------------------------------------------------------------------------


async def test_the_tools_screen_switches_a_tool_off_and_on(server: LoopbackServer) -> None:
    app, hosts = app_with_host(server, failing={"broken": "the server exited early\nboom"})
    async with app.run_test(size=SIZE) as pilot:
        host = await host_ready(pilot, hosts)
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, ToolsScreen))
        await pilot.pause()
        shown = visible_text(app)
        assert "● box  ready · stdio · 3 tools" in shown
        assert "[✓] echo — Say it back." in shown
        assert "More words." not in shown  # one line of description
        assert "[✓] hang — The hang tool.  (runs without asking)" in shown
        assert "✗ broken  failed · stdio" in shown
        assert "boom" in shown
        await pilot.press("space")  # the first tool is highlighted
        assert host.enabled_calls == [("box.echo", False)]
        assert [s.name for s in host.tools()] == ["hang", "big"]
        await pilot.pause()
        assert "[ ] echo — Say it back." in visible_text(app)
        await pilot.press("enter")
        assert host.enabled_calls[-1] == ("box.echo", True)
        await pilot.press("down", "space")
        assert host.enabled_calls[-1] == ("box.hang", False)
        await pilot.press("escape")
        assert isinstance(app.screen, ChatScreen)


async def test_the_tools_screen_without_servers_says_how_to_add_one(
    server: LoopbackServer,
) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await chat_opened(pilot)
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, ToolsScreen))
        await pilot.pause()
        shown = visible_text(app)
        assert "No MCP servers are configured." in shown
        assert "[mcp.servers.time]" in shown
        assert "glmtui mcp import" in shown


# --- the servers' lifecycle -----------------------------------------------------------------------


async def test_servers_start_after_the_first_frame_and_close_with_the_app(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered: list[object] = []
    monkeypatch.setattr("glmtui.ui.tool_host.atexit.register", registered.append)
    monkeypatch.setattr("glmtui.ui.tool_host.atexit.unregister", registered.remove)
    app, hosts = app_with_host(server)
    async with app.run_test(size=SIZE) as pilot:
        host = await host_ready(pilot, hosts)
        assert host.started == 1
        assert registered == [host.kill_now]
    assert host.closed == 1
    assert registered == []


async def test_a_failing_server_is_told_once_and_the_chat_goes_on(
    server: LoopbackServer,
) -> None:
    stderr = "the server exited early\n" + "\n".join(f"log {n}" for n in range(20))
    server.enqueue(stream_of(["Still here."]))
    app, hosts = app_with_host(server, failing={"broken": stderr})
    notices = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        host = await host_ready(pilot, hosts)
        host.on_change()  # told again: not a second notice
        told = [m for m in notices.messages if "broken" in m]
        assert len(told) == 1
        assert told[0].startswith("MCP server “broken” failed; the chat goes on without its")
        assert told[0].endswith("log 19")  # the tail of its stderr
        assert "log 11" not in told[0]
        await send(pilot, "Hello")
        await settle(pilot)
        assert "Still here." in visible_text(app)


async def test_sigterm_kills_the_servers_and_exits_cleanly(server: LoopbackServer) -> None:
    before = signal.getsignal(signal.SIGTERM)
    app, hosts = app_with_host(server)
    async with app.run_test(size=SIZE) as pilot:
        host = await host_ready(pilot, hosts)
        assert app._sigterm is not None  # handled: a SIGTERM must not end the test run
        os.kill(os.getpid(), signal.SIGTERM)
        await until(pilot, lambda: host.killed > 0)
    assert app.return_code == 128 + signal.SIGTERM
    assert host.closed == 1
    assert signal.getsignal(signal.SIGTERM) == before  # given back as the app ended


# --- with real MCP servers ------------------------------------------------------------------------


async def test_real_servers_start_fail_and_answer_in_the_app(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """The app with the real host and two real stdio servers: one fails (told once, with the
    end of its stderr), the other's tool runs in a turn and the servers are gone after."""
    pids = {"GLMTUI_TEST_PID_DIR": str(tmp_path)}
    config = McpConfig(
        servers=(
            stdio_server("demo", env=pids, allow=("echo",)),
            stdio_server("broken", "fail"),
        )
    )
    settings = settings_for(server, mcp=config)
    client = ChatClient(server.base_url, settings.api_key, retry=RetryPolicy(max_retries=0))
    app = GlmApp(settings, client=client)
    notices = Notices(app)
    server.enqueue(tool_call_stream([call("echo", text="real")]))
    server.enqueue(stream_of(["The server said it."]))
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)

        def settled() -> bool:
            host = app.tools.host
            return host is not None and all(s.state in ("ready", "failed") for s in host.servers())

        await until(pilot, settled, within=60)
        told = [m for m in notices.messages if "broken" in m]
        assert len(told) == 1
        assert "fatal: cannot start" in told[0]
        await send(pilot, "Echo, for real")
        await settle(pilot)
        block = tool_reply(screen).tools[0]
        assert (block.label, block.state) == ("demo.echo", "done")
        assert block.result is not None
        assert block.result.content == "real"
        assert "The server said it." in visible_text(app)
        pid = int((tmp_path / "demo.pid").read_text())
    assert wait_until_gone([pid]) == []
