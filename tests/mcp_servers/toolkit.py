"""The tools of the MCP test servers, built with the official SDK (``MCPServer``).

One set of tools serves both transports (``stdio_server.py`` runs it over stdin/stdout, the
``http_server`` fixture over streamable HTTP on 127.0.0.1), so the host is tested against a
real server that succeeds, fails, hangs until cancelled, returns a megabyte of text, an image
and structured content, and can show its environment and process id.

No tool sleeps for a fixed time: ``hang`` waits until it is cancelled, and the ``hang_*``
tools wait for the events ``hang`` sets, so a test asks the server what happened instead of
guessing how long it takes.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from typing import Literal

import anyio
from mcp.server.mcpserver import Image, MCPServer
from mcp_types import CallToolResult, TextContent

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

BIG_SIZE = 1024 * 1024
"""Characters of the ``big`` tool's result: a megabyte of text."""

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
"""A 1×1 PNG: what the ``image`` tool returns."""

WAIT_LIMIT = 30.0
"""Seconds a ``hang_*`` tool waits for its event before it reports that it never came."""


class _Events:
    """Events the ``hang`` tool sets, created in the server's event loop on first use."""

    def __init__(self) -> None:
        self._events: dict[str, anyio.Event] = {}

    def __call__(self, name: str) -> anyio.Event:
        if name not in self._events:
            self._events[name] = anyio.Event()
        return self._events[name]


def build_in_process(name: str) -> MCPServer:
    """:func:`build` for a server in the test process: the SDK configures the root logger
    when a server is made (``logging.basicConfig``), which must not change how the other
    tests of this process log, so the root logger is put back as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return build(name, "CRITICAL")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def build(name: str = "test", log_level: LogLevel = "INFO") -> MCPServer:
    """A server named ``name`` holding every test tool, logging from ``log_level`` up."""
    server = MCPServer(name, log_level=log_level)
    events = _Events()
    children: list[subprocess.Popen[bytes]] = []

    @server.tool(description="Repeat the text back.\nA second line the summary leaves out.")
    def echo(text: str) -> str:
        return text

    @server.tool(description="Add two whole numbers.")
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(description="Raise an exception (the SDK turns it into an error result).")
    def fail(message: str = "it failed") -> str:
        raise ValueError(message)

    @server.tool(description="Return a result marked isError.")
    def error_result() -> CallToolResult:
        text = TextContent(text="the tool reported an error")
        return CallToolResult(content=[text], is_error=True)

    @server.tool(description="Wait until cancelled.")
    async def hang() -> str:
        events("started").set()
        try:
            await anyio.sleep_forever()
        finally:
            events("cancelled").set()
        return "never"  # pragma: no cover

    @server.tool(description="Answer once hang has started.")
    async def hang_started() -> str:
        with anyio.move_on_after(WAIT_LIMIT):
            await events("started").wait()
            return "started"
        return "not started"

    @server.tool(description="Answer once a hang call has been cancelled.")
    async def hang_cancelled() -> str:
        with anyio.move_on_after(WAIT_LIMIT):
            await events("cancelled").wait()
            return "cancelled"
        return "not cancelled"

    @server.tool(description="Return a megabyte of text.")
    def big() -> str:
        return "x" * BIG_SIZE

    @server.tool(description="Return a 1x1 PNG image.")
    def image() -> Image:
        return Image(data=PNG, format="png")

    @server.tool(description="Return structured content only.")
    def structured() -> CallToolResult:
        return CallToolResult(content=[], structured_content={"city": "Paris", "temp": 21})

    @server.tool(description="The names of the server's environment variables, and one value.")
    def environment(name: str = "GLMTUI_TEST_VALUE") -> str:
        return json.dumps({"names": sorted(os.environ), "value": os.environ.get(name)})

    @server.tool(description="The server's process id.")
    def pid() -> int:
        return os.getpid()

    @server.tool(description="Start a child process that sleeps; its pid.")
    def spawn_child() -> int:
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(3600)"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        children.append(child)
        return child.pid

    @server.tool(description="Write a line to stderr, then answer.")
    def noisy() -> str:
        print("NOISE-FROM-A-TOOL", file=sys.stderr, flush=True)
        return "ok"

    @server.tool(description="Exit the server process at once.")
    def crash() -> str:
        print("crashing on purpose", file=sys.stderr, flush=True)
        os._exit(3)

    _ = (echo, add, fail, error_result, hang, hang_started, hang_cancelled, big, image)
    _ = (structured, environment, pid, spawn_child, noisy, crash)
    return server


def tool_names() -> list[str]:
    """Every tool :func:`build` registers, in order."""
    return [tool.name for tool in anyio.run(build_in_process("names").list_tools)]
