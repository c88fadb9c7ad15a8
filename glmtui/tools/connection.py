"""One configured MCP server's connection: its transport, its process group, its stderr.

:class:`Connection` is the host's record of a server (:mod:`glmtui.tools.host` owns the
lifecycle). A stdio server is started by the SDK's ``stdio_client`` in a process group of its
own, through :mod:`glmtui.tools.reaper` where that helps (it records the process id and, on
Linux, asks for SIGTERM when glmtui dies); its stderr goes to an unnamed temporary file, never
the terminal. An HTTP server is reached with the SDK's ``streamable_http_client`` on an HTTP
client that carries the config's headers. Either transport's read stream is watched, so the
host learns when the connection ends (the process exited, the stream closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, cast

from glmtui.domain.tools import ToolSpec
from glmtui.tools.settings import McpServerConfig

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    import anyio

ServerState = Literal["disabled", "starting", "ready", "failed", "stopped"]
"""Where a server is: not started (config), on its way, answering, given up on, or shut."""

STDERR_LINES = 15
"""Lines of a failed server's stderr kept in its error."""
STDERR_TAIL_BYTES = 16 * 1024
"""How much of the end of the stderr file is read for those lines."""
_SIGKILL: int = getattr(signal, "SIGKILL", signal.SIGTERM)  # Windows has no SIGKILL
_REAPER = Path(__file__).with_name("reaper.py")
_TERMINAL_CODES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
"""Colour codes and window titles in a server's log lines: noise in an error message."""


class StartError(Exception):
    """A server could not start; the message says why, in one line."""


class Connection:
    """What the host knows about one configured server, and how to reach it (mutable, owned
    by :class:`~glmtui.tools.host.McpHost`)."""

    def __init__(self, config: McpServerConfig) -> None:
        self.config = config
        self.state: ServerState = "starting" if config.enabled else "disabled"
        self.error = ""
        self.specs: tuple[ToolSpec, ...] = ()
        """The tools as the server listed them (``wire_name`` not yet set)."""
        self.client: Any = None
        """The SDK's ``Client`` while the server is ready."""
        self.task: asyncio.Task[None] | None = None
        self.scope: anyio.CancelScope | None = None
        self.wake = asyncio.Event()
        self.settled = asyncio.Event()
        """Set once the server is ready or has failed (what :meth:`McpHost.start` waits for)."""
        self.stopping = False
        self.ended = False
        """The connection ended (the process exited, the HTTP stream closed)."""
        self.relist = False
        self.timed_out = False
        self.was_ready = False
        self.pid_file: Path | None = None
        self.pid: int | None = None
        self.group_gone = False
        """The final kill of the process group was sent: never signal that id again (it
        may be reused)."""
        self.stderr: IO[bytes] | None = None

    def process_group(self) -> int | None:
        """The id of the server's process group (= its process id), once the reaper wrote it."""
        if self.pid is None and self.pid_file is not None:
            with contextlib.suppress(OSError, ValueError):
                self.pid = int(self.pid_file.read_text(encoding="ascii"))
        return self.pid

    def signal_group(self, number: int) -> bool:
        """Send ``number`` to every process of the server's group; False when the group's id
        is not known (yet)."""
        group = self.process_group()
        if group is None or not hasattr(os, "killpg"):
            return False
        with contextlib.suppress(OSError):  # nothing left in the group: nothing to do
            os.killpg(group, number)
        return True

    def kill_group(self) -> None:
        """Kill what is left of the server's process group, once for good (a later call does
        nothing: the id may belong to another process by then)."""
        if not self.group_gone and self.signal_group(_SIGKILL):
            self.group_gone = True

    def stderr_tail(self) -> str:
        """The last :data:`STDERR_LINES` non-blank lines the server wrote to stderr."""
        if self.stderr is None:
            return ""
        try:
            fd = self.stderr.fileno()
            size = os.fstat(fd).st_size
            start = max(0, size - STDERR_TAIL_BYTES)
            if hasattr(os, "pread"):
                data = os.pread(fd, size - start, start)
            else:  # pragma: no cover - Windows
                self.stderr.seek(start)
                data = self.stderr.read(size - start)
        except (OSError, ValueError):
            return ""
        lines = data.decode("utf-8", "replace").split("\n")
        if start:
            lines = lines[1:]  # the first one is cut
        # A progress bar rewrites its line after "\r": only its last state counts.
        cleaned = [_TERMINAL_CODES.sub("", line).rsplit("\r", 1)[-1].rstrip() for line in lines]
        return "\n".join([line for line in cleaned if line.strip()][-STDERR_LINES:])

    def fail(self, reason: str) -> None:
        tail = self.stderr_tail() if self.config.transport == "stdio" else ""
        self.state = "failed"
        self.error = f"{reason}\n{tail}" if tail else reason

    def transport(self, on_end: Callable[[], None], pid_file: Path | None) -> Any:
        """The SDK transport for this server, telling ``on_end`` when its connection ends.

        Args:
            on_end: Called once the transport's read stream is done (the server exited or
                closed the stream, or the session is closing).
            pid_file: Where the reaper writes a stdio server's process id (a private folder
                of the host's); None to start the server without the reaper.

        Raises:
            StartError: the command is not found or ``cwd`` is not a folder (said before
                anything is started).
        """
        if self.config.transport == "http":
            return _watched(_http_transport(self.config), on_end)
        return _watched(self._stdio_transport(pid_file), on_end)

    def _stdio_transport(self, pid_file: Path | None) -> AbstractAsyncContextManager[Any]:
        from mcp.client.stdio import StdioServerParameters, get_default_environment, stdio_client

        config = self.config
        env = dict(config.env)
        search = env.get("PATH", get_default_environment().get("PATH", os.defpath))
        command = os.path.expanduser(config.command)
        found = shutil.which(command, path=search)
        if found is None:
            what = "not an executable file" if os.sep in command else "command not found"
            raise StartError(f"{what}: {command}")
        cwd = os.path.expanduser(config.cwd) if config.cwd else None
        if cwd is not None and not os.path.isdir(cwd):
            raise StartError(f"the folder in 'cwd' does not exist: {cwd}")
        args = list(config.args)
        if pid_file is not None and _reaper_usable():
            self.pid_file = pid_file
            args = ["-I", "-S", str(_REAPER), str(pid_file), str(os.getpid()), found, *args]
            found = sys.executable
        # Closed by the host when the server's task ends (it outlives this function).
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        parameters = StdioServerParameters(command=found, args=args, env=env, cwd=cwd)
        return stdio_client(parameters, errlog=cast(Any, self.stderr))


def _http_transport(config: McpServerConfig) -> AbstractAsyncContextManager[Any]:
    """Streamable HTTP with the config's headers (the SDK's documented way: our own client)."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    @contextlib.asynccontextmanager
    async def transport() -> AsyncIterator[Any]:
        http = httpx2.AsyncClient(
            headers=dict(config.headers), timeout=httpx2.Timeout(30.0, read=300.0)
        )
        async with http, streamable_http_client(config.url, http_client=http) as streams:
            yield streams

    return transport()


@contextlib.asynccontextmanager
async def _watched(
    transport: AbstractAsyncContextManager[Any], on_end: Callable[[], None]
) -> AsyncIterator[Any]:
    """``transport``, with its read stream telling ``on_end`` when the connection ends."""
    async with transport as (read, write):
        yield _WatchedStream(read, on_end), write


class _WatchedStream:
    """A transport's read stream that calls ``on_end`` when the reader is done with it: the
    server exited or closed the stream (or the session is closing)."""

    def __init__(self, stream: Any, on_end: Callable[[], None]) -> None:
        self._stream = stream
        self._on_end = on_end

    def __getattr__(self, name: str) -> Any:  # ``last_context`` of the SDK's context streams
        return getattr(self._stream, name)

    async def receive(self) -> Any:
        return await self._stream.receive()

    async def aclose(self) -> None:
        await self._stream.aclose()

    def __aiter__(self) -> _WatchedStream:
        return self

    async def __anext__(self) -> Any:
        return await self._stream.__anext__()

    async def __aenter__(self) -> _WatchedStream:
        await self._stream.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        try:
            return cast("bool | None", await self._stream.__aexit__(*exc_info))
        finally:
            self._on_end()


async def list_tools(client: Any, server: str) -> tuple[ToolSpec, ...]:
    """Every tool the server lists (all pages, at most 100)."""
    specs: list[ToolSpec] = []
    cursor: str | None = None
    for _ in range(100):
        page = await client.list_tools(cursor=cursor)
        specs += [
            ToolSpec(
                server=server,
                name=tool.name,
                description=tool.description or getattr(tool, "title", None) or "",
                input_schema=dict(tool.input_schema or {}),
            )
            for tool in page.tools
        ]
        cursor = page.next_cursor
        if not cursor:
            break
    return tuple(specs)


def _reaper_usable() -> bool:
    """Servers start through the reaper where it can help: POSIX, a Python to run it."""
    return os.name == "posix" and bool(sys.executable) and _REAPER.is_file()


__all__ = ["Connection", "ServerState", "StartError", "list_tools"]
