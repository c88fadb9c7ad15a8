"""The tool loop, without a screen: the controller against the loopback server sending tool
calls in both delta styles, and a tool box written here (the MCP host has its own tests).

These read as the specification of a tool turn: what the follow-up request carries, what the
session file keeps, what each kind of failure tells the model, and how Esc ends it all.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from glmtui.api.client import ChatClient, RetryPolicy
from glmtui.api.request import ProviderOptions
from glmtui.chat import events as ev
from glmtui.chat.controller import ConversationController
from glmtui.domain import Message, Session
from glmtui.domain.tools import ToolCall, ToolSpec
from glmtui.store import SessionStore
from glmtui.tools import Approval, ApprovalRequest, ToolError, ToolLoopSettings, ToolResult
from tests.conftest import FAKE_KEY
from tests.server import LoopbackServer, stream_of, tool_call_stream
from tests.test_controller import Recorder, on_disk

SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}}


class Tools:
    """A tool box: ``echo`` answers its text, ``fail`` raises, ``hang`` runs until cancelled."""

    def __init__(self, allowed: tuple[str, ...] = ("echo", "fail", "hang")) -> None:
        self.specs = [
            ToolSpec("box", name, f"The {name} tool.", SCHEMA, name)
            for name in ("echo", "fail", "hang")
        ]
        self.allowed = set(allowed)
        self.ran: list[tuple[str, dict[str, Any]]] = []
        self.remembered: list[str] = []
        self.hanging = asyncio.Event()
        self.cancelled = asyncio.Event()

    def tools(self) -> list[ToolSpec]:
        return self.specs

    def find(self, wire_name: str) -> ToolSpec | None:
        return next((s for s in self.specs if s.wire_name == wire_name), None)

    def is_allowed(self, spec: ToolSpec) -> bool:
        return spec.name in self.allowed

    def allow_always(self, spec: ToolSpec) -> None:
        self.allowed.add(spec.name)
        self.remembered.append(spec.label)

    def timeout_for(self, spec: ToolSpec) -> float | None:
        return None

    async def call(self, spec: ToolSpec, arguments: dict[str, Any]) -> ToolResult:
        self.ran.append((spec.name, arguments))
        if spec.name == "fail":
            raise ToolError("the server went away")
        if spec.name == "hang":
            self.hanging.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        return ToolResult(f"echo: {arguments.get('text', '')}")


@pytest.fixture
async def client(server: LoopbackServer) -> AsyncIterator[ChatClient]:
    async with ChatClient(
        server.base_url, FAKE_KEY, retry=RetryPolicy(max_retries=0)
    ) as the_client:
        yield the_client


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "data")


def chat_with(
    client: ChatClient,
    tools: Tools | None,
    recorder: Recorder,
    store: SessionStore | None = None,
    *,
    approve: Any = None,
    settings: ToolLoopSettings | None = None,
    options: ProviderOptions | None = None,
) -> ConversationController:
    return ConversationController(
        Session(),
        client=lambda session: client,
        store=(lambda: store) if store is not None else None,
        on_event=recorder,
        tools=lambda session: tools,
        approve=approve,
        tool_settings=settings,
        options=lambda session: options or ProviderOptions(),
    )


def args(text: str) -> str:
    return json.dumps({"text": text})


def tool_messages(request_body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in request_body["messages"] if m["role"] == "tool"]


@pytest.mark.parametrize("style", ["fragments", "whole"])
async def test_parallel_calls_run_in_order_and_the_follow_up_carries_them(
    server: LoopbackServer, client: ChatClient, store: SessionStore, style: str
) -> None:
    server.enqueue(
        tool_call_stream(
            [("call_a", "echo", args("one")), ("call_b", "echo", args("two"))],
            style=style,
            reasoning_tokens=["Two ", "echoes."],
        )
    )
    server.enqueue(stream_of(["Both said."]))
    tools, recorder = Tools(), Recorder()
    chat = chat_with(client, tools, recorder, store)

    answer = await chat.send("Echo twice")

    assert answer.content == "Both said."
    assert answer.status == "complete"
    assert tools.ran == [("echo", {"text": "one"}), ("echo", {"text": "two"})]
    first, follow_up = (r.json() for r in server.wait_for_requests(2))
    assert first["tool_choice"] == "auto"
    assert [t["function"]["name"] for t in first["tools"]] == ["echo", "fail", "hang"]
    assert first["tools"][0]["function"]["parameters"] == SCHEMA
    assert "tool_stream" not in first
    calling = follow_up["messages"][-3]
    assert calling["role"] == "assistant"
    assert calling["tool_calls"] == [
        {
            "id": "call_a",
            "type": "function",
            "function": {"name": "echo", "arguments": args("one")},
        },
        {
            "id": "call_b",
            "type": "function",
            "function": {"name": "echo", "arguments": args("two")},
        },
    ]
    assert "reasoning_content" not in calling  # only for providers that ask for it
    assert tool_messages(follow_up) == [
        {"role": "tool", "tool_call_id": "call_a", "content": "echo: one"},
        {"role": "tool", "tool_call_id": "call_b", "content": "echo: two"},
    ]
    # The file holds the whole loop; resumed, it sends the same history.
    saved = on_disk(store, chat.session.id)
    assert [m.role for m in saved.messages] == ["user", "assistant", "tool", "tool", "assistant"]
    assert saved.messages[1].tool_calls == (
        ToolCall("call_a", "echo", args("one")),
        ToolCall("call_b", "echo", args("two")),
    )
    assert saved.messages[1].reasoning == "Two echoes."
    assert [(m.tool_name, m.tool_outcome) for m in saved.messages[2:4]] == [
        ("box.echo", "ok"),
        ("box.echo", "ok"),
    ]
    assert saved.wire_messages()[:-1] == follow_up["messages"]


async def test_each_call_moves_through_its_states_in_order(
    server: LoopbackServer, client: ChatClient
) -> None:
    server.enqueue(tool_call_stream([("c1", "echo", args("hi"))], pieces=4))
    server.enqueue(stream_of(["Done."]))
    recorder = Recorder()
    chat = chat_with(client, Tools(allowed=()), recorder, approve=_always("once"))
    await chat.send("Go")
    updates = [e for e in recorder.of(ev.ToolCallUpdated) if isinstance(e, ev.ToolCallUpdated)]
    states = [e.state for e in updates]
    streaming = states.count("arguments")
    assert states == ["arguments"] * streaming + ["waiting", "running", "done"]
    streamed = [e.call.arguments for e in updates[:streaming]]
    assert streamed[-1] == args("hi")
    assert len(set(streamed)) > 2
    assert updates[-1].result is chat.session.messages[2]
    assert updates[-1].started is not None
    kinds = recorder.kinds()
    assert kinds.count("TurnStarted") == 2
    assert kinds.count("TurnFinished") == 2
    second_turn = kinds.index("TurnStarted", kinds.index("TurnStarted") + 1)
    assert kinds.index("MessageAdded", kinds.index("TurnFinished")) < second_turn


def _always(decision: Approval) -> Any:
    asked: list[ApprovalRequest] = []

    async def approve(request: ApprovalRequest) -> Approval:
        asked.append(request)
        return decision

    approve.asked = asked  # type: ignore[attr-defined]
    return approve


async def test_a_call_not_allowed_waits_for_the_user_and_a_denial_is_told_to_the_model(
    server: LoopbackServer, client: ChatClient
) -> None:
    server.enqueue(tool_call_stream([("c1", "echo", args("secret"))]))
    server.enqueue(stream_of(["Understood."]))
    tools, recorder = Tools(allowed=()), Recorder()
    approve = _always("deny")
    chat = chat_with(client, tools, recorder, approve=approve)
    await chat.send("Go")
    (request,) = approve.asked
    assert (request.spec.label, request.arguments) == ("box.echo", {"text": "secret"})
    assert tools.ran == []
    (answer,) = tool_messages(server.wait_for_requests(2)[1].json())
    assert answer["content"] == "The user denied this tool call."
    assert chat.session.messages[2].tool_outcome == "denied"


async def test_always_allow_is_remembered_and_not_asked_again(
    server: LoopbackServer, client: ChatClient
) -> None:
    server.enqueue(tool_call_stream([("c1", "echo", args("a"))]))
    server.enqueue(tool_call_stream([("c2", "echo", args("b"))]))
    server.enqueue(stream_of(["Ok."]))
    tools, recorder = Tools(allowed=()), Recorder()
    approve = _always("always")
    chat = chat_with(client, tools, recorder, approve=approve)
    await chat.send("Go")
    assert len(approve.asked) == 1
    assert tools.remembered == ["box.echo"]
    assert [name for name, _ in tools.ran] == ["echo", "echo"]


async def test_without_an_approver_calls_not_allowed_are_denied(
    server: LoopbackServer, client: ChatClient
) -> None:
    server.enqueue(tool_call_stream([("c1", "echo", args("x"))]))
    server.enqueue(stream_of(["Ok."]))
    tools = Tools(allowed=())
    await chat_with(client, tools, Recorder()).send("Go")
    assert tools.ran == []
    assert tool_messages(server.wait_for_requests(2)[1].json())[0]["content"].startswith(
        "The user denied"
    )


async def test_bad_arguments_unknown_tools_and_failures_go_back_as_error_results(
    server: LoopbackServer, client: ChatClient
) -> None:
    server.enqueue(
        tool_call_stream(
            [
                ("c1", "echo", '{"text": "unterminated'),
                ("c2", "rm_rf", "{}"),
                ("c3", "fail", "{}"),
                ("c4", "echo", "[1, 2]"),
            ],
            style="whole",
        )
    )
    server.enqueue(stream_of(["Sorry."]))
    tools, recorder = Tools(), Recorder()
    chat = chat_with(client, tools, recorder)
    answer = await chat.send("Go")
    assert answer.content == "Sorry."
    assert tools.ran == [("fail", {})]  # only the call that could be made
    results = [m["content"] for m in tool_messages(server.wait_for_requests(2)[1].json())]
    assert results[0].startswith("Error: the arguments are not valid JSON")
    assert results[1] == (
        "Error: there is no tool named 'rm_rf'. Tools available: echo, fail, hang."
    )
    assert results[2] == "Error: the server went away"
    assert results[3].startswith("Error: the arguments must be a JSON object")
    outcomes = [m.tool_outcome for m in chat.session.messages if m.role == "tool"]
    assert outcomes == ["error", "error", "error", "error"]
    failed = [e for e in recorder.of(ev.ToolCallUpdated) if e.state == "failed"]  # type: ignore[attr-defined]
    assert [e.label for e in failed] == ["box.echo", "rm_rf", "box.fail", "box.echo"]  # type: ignore[attr-defined]


async def test_a_call_that_takes_too_long_ends_with_a_timeout_result(
    server: LoopbackServer, client: ChatClient
) -> None:
    server.enqueue(tool_call_stream([("c1", "hang", "{}")]))
    server.enqueue(stream_of(["It hung."]))
    tools = Tools()
    chat = chat_with(client, tools, Recorder(), settings=ToolLoopSettings(timeout=0.2))
    answer = await chat.send("Go")
    assert answer.content == "It hung."
    assert tools.cancelled.is_set()  # the call was cancelled in the tool box
    (result,) = tool_messages(server.wait_for_requests(2)[1].json())
    assert result["content"] == "The tool call timed out after 0.2 s."


async def test_esc_while_a_tool_runs_cancels_it_and_ends_the_loop(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(tool_call_stream([("c1", "hang", "{}"), ("c2", "echo", args("later"))]))
    tools, recorder = Tools(), Recorder()
    chat = chat_with(client, tools, recorder, store)
    turn = asyncio.create_task(chat.send("Go"))
    await asyncio.wait_for(tools.hanging.wait(), 10)
    assert chat.generating
    chat.stop()
    reply = await asyncio.wait_for(turn, 10)
    assert reply.tool_calls
    assert tools.cancelled.is_set()
    assert not chat.generating
    assert [name for name, _ in tools.ran] == ["hang"]  # the second call never ran
    saved = on_disk(store, chat.session.id)
    assert [(m.tool_call_id, m.tool_outcome) for m in saved.messages if m.role == "tool"] == [
        ("c1", "cancelled"),
        ("c2", "cancelled"),
    ]
    assert len(server.chat_requests) == 1  # no follow-up after Esc
    assert [e.state for e in recorder.of(ev.ToolCallUpdated)][-2:] == ["cancelled", "cancelled"]  # type: ignore[attr-defined]


async def test_the_step_limit_ends_a_loop_that_never_answers(
    server: LoopbackServer, client: ChatClient
) -> None:
    for n in range(3):
        server.enqueue(tool_call_stream([(f"c{n}", "echo", args(str(n)))]))
    recorder = Recorder()
    chat = chat_with(client, Tools(), recorder, settings=ToolLoopSettings(max_steps=2))
    await chat.send("Loop forever")
    (limit,) = recorder.of(ev.ToolLimitReached)
    assert limit.limit == 2  # type: ignore[attr-defined]
    assert len(server.chat_requests) == 2
    assert not chat.generating


async def test_zai_gets_tool_stream_and_the_reasoning_of_the_loop_back(
    server: LoopbackServer, client: ChatClient
) -> None:
    session_before = Message("user", "Earlier")
    server.enqueue(
        tool_call_stream([("c1", "echo", args("x"))], style="whole", reasoning_tokens=["Think."])
    )
    server.enqueue(stream_of(["Ok."]))
    options = ProviderOptions(resend_reasoning=True, tool_stream=True)
    chat = chat_with(client, Tools(), Recorder(), options=options)
    chat.session.messages.extend(
        [
            session_before,
            Message(
                "assistant",
                "",
                reasoning="Old thought.",
                status="complete",
                tool_calls=(ToolCall("old", "echo", "{}"),),
            ),
            Message("tool", "echo: ", tool_call_id="old", tool_outcome="ok"),
            Message("assistant", "Old answer.", status="complete"),
        ]
    )
    await chat.send("Go")
    first, follow_up = (r.json() for r in server.wait_for_requests(2))
    assert first["tool_stream"] is True
    assert follow_up["tool_stream"] is True
    calling = [m for m in follow_up["messages"] if m.get("tool_calls")]
    assert "reasoning_content" not in calling[0]  # an earlier turn's loop: not resent
    assert calling[1]["reasoning_content"] == "Think."


async def test_without_tools_the_request_offers_none(
    server: LoopbackServer, client: ChatClient
) -> None:
    server.enqueue(stream_of(["Plain."]))
    await chat_with(client, None, Recorder()).send("Hi")
    body = server.wait_for_requests(1)[0].json()
    assert "tools" not in body
    assert "tool_choice" not in body


def test_every_call_in_the_history_is_answered_and_orphans_are_dropped() -> None:
    session = Session(
        messages=[
            Message("user", "Go"),
            Message(
                "assistant",
                "",
                status="interrupted",
                tool_calls=(ToolCall("a", "echo", "{}"), ToolCall("b", "echo", "{}")),
            ),
            Message("tool", "echo: ", tool_call_id="a", tool_outcome="ok"),
            Message("tool", "stray", tool_call_id="zzz", tool_outcome="ok"),
            Message("user", "Again"),
        ]
    )
    wire = session.wire_messages()
    assert [(m["role"], m.get("tool_call_id")) for m in wire] == [
        ("user", None),
        ("assistant", None),
        ("tool", "a"),
        ("tool", "b"),
        ("user", None),
    ]
    assert wire[3]["content"] == "The tool call was not completed: the user stopped the turn."
