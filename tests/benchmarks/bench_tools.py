"""What tools cost the client (issue 21, point 8).

* **tool-loop overhead**: from the moment the client has read a reply's end
  (``finish_reason: "tool_calls"``) to the moment the follow-up request has reached the
  server, minus the time the tool itself ran: approving (allowed by config), running the call
  through the tool box, saving the session, building and sending the next request. Target
  ≤ 30 ms median. Measured with an in-process tool box (pure client overhead) and with a real
  stdio MCP server written with the SDK (``tests/mcp_servers/stdio_server.py``; its run time
  as the controller measured it is subtracted). The baseline, measured in the same run: the
  same span between two plain turns, from the end of one reply to the next prompt's request
  (what any second request costs: save, build, send).
* **startup with MCP servers**: first frame of ``glmtui --demo`` with two servers configured
  against the same config without them (servers start after the first frame). Target ≤ 1.05x.
* **a 1 MB tool result in the app**: the longest the event loop went unanswered (a 5 ms
  ticker's worst lateness) while a tool turn whose result is a megabyte of text arrives, is
  drawn and is unfolded with ``o``, against the same for a turn whose tool answers one line.
  A stall is what the user would feel as keys not taken: target ≤ 100 ms.

Run: ``python -m tests.benchmarks.bench_tools [--runs 30] [--startup-runs 9]``. Prints a
Markdown table of medians [min–max] and ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from glmtui.api.client import ChatClient, RetryPolicy
from glmtui.api.events import Finished, StreamEvent
from glmtui.api.request import ChatRequest
from glmtui.chat import events as ev
from glmtui.chat.controller import ConversationController
from glmtui.domain import Session
from glmtui.domain.tools import ToolSpec
from glmtui.store import SessionStore
from glmtui.tools import ToolResult
from tests.server import LoopbackServer, stream_of, tool_call_stream

TARGET_OVERHEAD_MS = 30.0
TARGET_STARTUP_RATIO = 1.05
TARGET_STALL_MS = 100.0
ROOT = Path(__file__).resolve().parents[2]


class TimedClient(ChatClient):
    """Notes when each reply's end was read (``time.monotonic()``)."""

    ends: list[float]

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        async for event in super().stream_chat(request):
            if isinstance(event, Finished):
                self.ends.append(time.monotonic())
            yield event


class InstantTools:
    """One tool, ``echo``, allowed by config, that answers at once."""

    spec = ToolSpec("bench", "echo", "Echo.", {"type": "object"}, "echo")

    def tools(self) -> list[ToolSpec]:
        return [self.spec]

    def find(self, wire_name: str) -> ToolSpec | None:
        return self.spec if wire_name == "echo" else None

    def is_allowed(self, spec: ToolSpec) -> bool:
        return True

    def allow_always(self, spec: ToolSpec) -> None:
        """Nothing to remember."""

    def timeout_for(self, spec: ToolSpec) -> float | None:
        return None

    async def call(self, spec: ToolSpec, arguments: dict[str, Any]) -> ToolResult:
        return ToolResult(json.dumps(arguments))


async def _overheads(runs: int, tools: Any, data: Path) -> tuple[list[float], list[float]]:
    """(tool-loop overheads, plain second-request overheads), in ms, one per run."""
    tool_ms: list[float] = []
    plain_ms: list[float] = []
    with LoopbackServer() as server:
        async with TimedClient(server.base_url, "bench", retry=RetryPolicy(0)) as client:
            client.ends = []
            store = SessionStore(data)
            durations: list[int] = []

            def note(event: ev.ChatEvent) -> None:
                if isinstance(event, ev.ToolCallUpdated) and event.result is not None:
                    durations.append(event.result.duration_ms or 0)

            chat = ConversationController(
                Session(),
                client=lambda session: client,
                store=lambda: store,
                on_event=note,
                tools=lambda session: tools,
            )
            for run in range(runs):
                server.clear()
                durations.clear()
                server.enqueue(tool_call_stream([(f"c{run}", "echo", '{"text": "hi"}')]))
                server.enqueue(stream_of(["Done."]))
                await chat.send("Echo hi")
                follow_up = server.wait_for_requests(2)[1]
                tool_ms.append((follow_up.received - client.ends[-2]) * 1000 - sum(durations))
                # The baseline: the end of this reply to the next prompt's request.
                server.enqueue(stream_of(["Plain."]))
                ended = client.ends[-1]
                await chat.send("Again")
                plain_ms.append((server.wait_for_requests(3)[2].received - ended) * 1000)
            store.close()
    return tool_ms, plain_ms


async def _real_server_tools(data: Path) -> Any:
    """A host running the SDK stdio test server, its ``echo`` allowed."""
    from glmtui.tools.config import parse_mcp
    from glmtui.tools.host import McpHost

    table = {
        "servers": {
            "bench": {
                "command": sys.executable,
                "args": [str(ROOT / "tests" / "mcp_servers" / "stdio_server.py")],
                "allow": ["*"],
            }
        }
    }
    host = McpHost(parse_mcp(table, "bench"), config_path=data / "config.toml")
    await host.start()
    return host


def _first_frame(config: Path, home: Path) -> float:
    """Seconds from launch to the chat screen's first frame, with ``config``."""
    env = {
        **os.environ,
        "GLMTUI_CONFIG": str(config),
        "GLMTUI_DATA_DIR": str(home / "data"),
        "HOME": str(home),
    }
    env.pop("OXEN_API_KEY", None)
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.first_frame", "ours"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("FIRST_FRAME"))
    return float(json.loads(line.split(" ", 1)[1])["first_frame"]) - started


def _startup(runs: int, folder: Path) -> tuple[list[float], list[float]]:
    """(with MCP servers, without), seconds to first frame, runs interleaved."""
    server = ROOT / "tests" / "mcp_servers" / "stdio_server.py"
    plain = folder / "plain.toml"
    plain.write_text('theme = "glmtui"\n')
    with_mcp = folder / "mcp.toml"
    with_mcp.write_text(
        'theme = "glmtui"\n'
        + "".join(
            f'[mcp.servers.s{n}]\ncommand = "{sys.executable}"\nargs = ["{server}"]\n'
            for n in (1, 2)
        )
    )
    mcp_s: list[float] = []
    plain_s: list[float] = []
    for _ in range(runs):
        mcp_s.append(_first_frame(with_mcp, folder))
        plain_s.append(_first_frame(plain, folder))
    return mcp_s, plain_s


async def _worst_lateness(tool: str) -> float:
    """ms: the longest a 5 ms ticker was late while a turn calling ``tool`` (``big``: 1 MB
    result; ``echo``: one line) runs, is drawn, and its results are unfolded and folded."""
    from tests.server import tool_call_stream as calls
    from tests.test_tools_ui import app_with_host, host_ready
    from tests.ui_helpers import send, settle

    worst = 0.0
    with LoopbackServer() as server:
        server.enqueue(calls([(f"call_{tool}", tool, '{"text": "hi"}')]))
        server.enqueue(stream_of(["Done."]))
        app, hosts = app_with_host(server)
        async with app.run_test(size=(120, 40)) as pilot:
            await host_ready(pilot, hosts)
            hosts[0].allowed.add("echo")

            async def ticker() -> None:
                nonlocal worst
                loop = asyncio.get_running_loop()
                while True:
                    before = loop.time()
                    await asyncio.sleep(0.005)
                    worst = max(worst, (loop.time() - before - 0.005) * 1000)

            ticking = asyncio.create_task(ticker())
            await send(pilot, "Go")
            await settle(pilot)
            screen: Any = app.screen
            view = screen.conversation
            item = next(i for i in view.replies if i.tools)
            view.focus()
            view.select(view.items.index(item))
            await pilot.press("o")
            await settle(pilot)
            await pilot.press("o")
            await settle(pilot)
            ticking.cancel()
    return worst


def _stalls(runs: int) -> tuple[list[float], list[float]]:
    big: list[float] = []
    small: list[float] = []
    for _ in range(runs):
        big.append(asyncio.run(_worst_lateness("big")))
        small.append(asyncio.run(_worst_lateness("echo")))
    return big, small


def _cell(values: list[float], digits: int) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.{digits}f} [{low:.{digits}f}–{high:.{digits}f}]"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="tool turns per measurement")
    parser.add_argument("--startup-runs", type=int, default=9, help="startups per config")
    parser.add_argument("--ui-runs", type=int, default=5, help="app runs per stall figure")
    args = parser.parse_args(argv)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tool_ms, plain_ms = asyncio.run(_overheads(args.runs, InstantTools(), folder / "a"))

        async def with_real_server() -> tuple[list[float], list[float]]:
            host = await _real_server_tools(folder)
            try:
                return await _overheads(args.runs, host, folder / "b")
            finally:
                await host.close()

        real_ms, real_plain_ms = asyncio.run(with_real_server())
        mcp_s, no_mcp_s = _startup(args.startup_runs, folder)
        big_ms, small_ms = _stalls(args.ui_runs)
    for title, values, baseline in (
        ("tool-loop overhead, in-process tool, ms", tool_ms, plain_ms),
        ("tool-loop overhead, stdio MCP server, ms", real_ms, real_plain_ms),
    ):
        ratio = statistics.median(values) / statistics.median(baseline)
        ok = "✓" if statistics.median(values) <= TARGET_OVERHEAD_MS else "✗"
        rows.append(
            f"| {title} | {_cell(values, 1)} | {_cell(baseline, 1)} | {ratio:.2f} "
            f"| ≤ {TARGET_OVERHEAD_MS:.0f} ms {ok} |"
        )
    ratio = statistics.median(mcp_s) / statistics.median(no_mcp_s)
    ok = "✓" if ratio <= TARGET_STARTUP_RATIO else "✗"
    rows.append(
        f"| first frame with 2 MCP servers, s | {_cell(mcp_s, 3)} | {_cell(no_mcp_s, 3)} "
        f"| {ratio:.2f} | ≤ {TARGET_STARTUP_RATIO}x {ok} |"
    )
    ratio = statistics.median(big_ms) / statistics.median(small_ms)
    ok = "✓" if statistics.median(big_ms) <= TARGET_STALL_MS else "✗"
    rows.append(
        f"| longest stall, 1 MB tool result drawn and unfolded, ms | {_cell(big_ms, 0)} "
        f"| {_cell(small_ms, 0)} | {ratio:.2f} | ≤ {TARGET_STALL_MS:.0f} ms {ok} |"
    )
    print(
        f"glmtui tools benchmark · {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} CPUs · "
        f"Python {platform.python_version()} · {args.runs} tool turns, "
        f"{args.startup_runs} startups each\n"
    )
    print("| measurement | glmtui | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        "\nbaseline: overhead rows — the same span between two plain turns (end of a reply "
        "to the next request); startup — the same config without [mcp.servers]; stall — "
        "the same turn with a one-line result."
    )


if __name__ == "__main__":
    main()
