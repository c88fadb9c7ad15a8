"""MCP servers from the user's config, started, listed, called and stopped: the real ToolBox.

:class:`McpHost` runs each enabled server of ``[mcp.servers]`` in a long-lived asyncio task of
its own, because the SDK's sessions hold anyio task groups that must be entered and left in
one task; calls come from other tasks (the conversation controller's) and only send requests.

Lifecycle rules, and how they are kept:

* A server that cannot start (no such command, exits, says nothing for :data:`START_TIMEOUT`)
  is ``failed``, with the reason and the tail of its stderr; the others carry on.
* A server's stderr never reaches the terminal: it goes to an unnamed temporary file whose
  last lines are read when the server fails.
* A stdio server gets the SDK's small safe environment (``HOME``, ``LOGNAME``, ``PATH``,
  ``SHELL``, ``TERM``, ``USER``) plus its own ``env`` from the config: never glmtui's
  environment, so no provider key reaches it unless the config passes one.
* No server outlives glmtui. The SDK starts each in a process group of its own and stops it
  when its session closes (stdin closed, then SIGTERM, then SIGKILL to the group); afterwards
  any process left in the group is killed. On POSIX every stdio server is started through
  :mod:`glmtui.tools.reaper`, which records its process id, so :meth:`McpHost.kill_now` can
  kill every group without an event loop (atexit, signal handlers; it is registered with
  :mod:`atexit` while servers run), and on Linux asks for SIGTERM when glmtui dies, even by
  SIGKILL. :mod:`glmtui.tools.connection` holds the per-server mechanics.

The SDK is imported when :meth:`McpHost.start` runs (in a worker thread: it takes ~0.6 s), never
when this module is imported.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib
import logging
import re
import shutil
import signal
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from glmtui.domain.tools import ToolSpec
from glmtui.tools import ToolError, ToolResult
from glmtui.tools.connection import Connection, ServerState, StartError, list_tools
from glmtui.tools.settings import McpConfig, Transport

START_TIMEOUT = 30.0
"""Seconds a server has to start and list its tools (``npx``/``uvx`` may download first)."""
CLOSE_TIMEOUT = 8.0
"""Seconds :meth:`McpHost.close` waits for the servers to stop before it kills what is left.
The SDK's own escalation (stdin closed, 2 s, SIGTERM, 2 s, SIGKILL) fits inside."""
MAX_NAME = 64
"""Longest function name the chat completions API takes."""

_WIRE_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """One configured server as the UI and ``glmtui mcp list`` show it."""

    name: str
    transport: Transport
    state: ServerState
    error: str = ""
    """Why it failed ("" if it did not); a stdio server's stderr tail follows the first line."""
    tools: tuple[ToolSpec, ...] = ()
    """Every tool it offers (each with its ``wire_name``), switched on or not."""


class McpHost:
    """The MCP servers of the config, as a :class:`~glmtui.tools.ToolBox`.

    Args:
        config: The ``[mcp]`` table.
        config_path: The config file, where "always allow" is saved.
        on_change: Called (in the event loop, or from :meth:`allow_always`) whenever what
            :meth:`servers` or :meth:`tools` return may have changed, or :attr:`last_error`
            was set. An exception it raises is ignored.
    """

    start_timeout: float = START_TIMEOUT
    """Seconds each server has to become ready (tests shorten it)."""

    def __init__(
        self,
        config: McpConfig,
        *,
        config_path: Path,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.on_change = on_change
        self.last_error = ""
        """The last problem that did not stop anything (an "always allow" that was not saved)."""
        self._servers = {server.name: Connection(server) for server in config.servers}
        self._disabled_tools: set[str] = set()
        self._always: set[str] = set()
        self._started = False
        self._closed: asyncio.Event | None = None
        self._folder: Path | None = None

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start every enabled server, each in a task of its own, and wait until each is
        ready or has failed. Never raises; a second call does nothing."""
        if self._started or self._closed is not None:
            return
        self._started = True
        servers = [s for s in self._servers.values() if s.config.enabled]
        if not servers:
            return
        try:
            await asyncio.to_thread(importlib.import_module, "mcp.client.client")
        except Exception as exc:  # a broken install: say so on each server, start nothing
            for server in servers:
                server.fail(f"the MCP SDK cannot be loaded ({type(exc).__name__}: {exc})")
                server.settled.set()
            self._changed()
            return
        _quiet_sdk_logging()
        self._folder = Path(tempfile.mkdtemp(prefix="glmtui-mcp-"))
        atexit.register(self.kill_now)
        for server in servers:
            server.task = asyncio.create_task(self._run(server), name=f"mcp:{server.config.name}")
        self._changed()
        await asyncio.gather(*(server.settled.wait() for server in servers))

    async def close(self) -> None:
        """Stop every server; what has not exited after :data:`CLOSE_TIMEOUT` is killed.
        Idempotent: a second call waits for the first to finish."""
        if self._closed is not None:
            await self._closed.wait()
            return
        self._closed = asyncio.Event()
        try:
            for server in self._servers.values():
                server.stopping = True
                server.wake.set()
                if server.state == "starting":  # no need to be gentle with a half-started one
                    server.signal_group(signal.SIGTERM)
                    if server.scope is not None:
                        server.scope.cancel()
            tasks = [s.task for s in self._servers.values() if s.task is not None]
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT)
                if pending:
                    self.kill_now()
                    for task in pending:
                        task.cancel()
                    await asyncio.wait(pending, timeout=2.0)
        finally:
            self.kill_now()
            atexit.unregister(self.kill_now)
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
            for server in self._servers.values():
                if server.state in ("starting", "ready"):
                    server.state = "stopped"
                server.client = None
            self._closed.set()
            self._changed()

    def kill_now(self) -> None:
        """Kill (SIGKILL) every server process group still running, at once, without an event
        loop: for atexit, signal handlers and crashes. No grace: :meth:`close` is the polite
        way."""
        for server in self._servers.values():
            server.stopping = True  # its task, if the loop runs on, ends it as "stopped"
            server.kill_group()
            if server.state in ("starting", "ready"):
                server.state = "stopped"
            server.client = None

    # --- what the UI shows ---------------------------------------------------------------

    def servers(self) -> list[ServerStatus]:
        """Every configured server, in the config's order."""
        offered = self._offered()
        return [
            ServerStatus(
                name=name,
                transport=server.config.transport,
                state=server.state,
                error=server.error,
                tools=tuple(spec for spec in offered if spec.server == name),
            )
            for name, server in self._servers.items()
        ]

    def set_enabled(self, label: str, enabled: bool) -> None:
        """Switch the tool ``server.tool`` on or off for this run (not saved)."""
        if enabled:
            self._disabled_tools.discard(label)
        else:
            self._disabled_tools.add(label)
        self._changed()

    def is_enabled(self, spec: ToolSpec) -> bool:
        """False when the tool was switched off for this run."""
        return spec.label not in self._disabled_tools

    def timeout_for(self, spec: ToolSpec) -> float:
        """Seconds a call of ``spec`` may run (its server's ``timeout``, else ``[mcp]``'s)."""
        return self.config.timeout_for(spec.server)

    # --- ToolBox -------------------------------------------------------------------------

    def tools(self) -> list[ToolSpec]:
        """The switched-on tools of the ready servers, each with a unique ``wire_name``."""
        return [spec for spec in self._offered() if self.is_enabled(spec)]

    def find(self, wire_name: str) -> ToolSpec | None:
        """The offered tool called ``wire_name`` on the wire, if there is one."""
        return next((spec for spec in self.tools() if spec.wire_name == wire_name), None)

    def is_allowed(self, spec: ToolSpec) -> bool:
        """True when the server's ``allow`` names the tool (or ``"*"``), or the user chose
        "always allow" for it in this run."""
        server = self._servers.get(spec.server)
        allowed = server is not None and server.config.allows(spec.name)
        return allowed or spec.label in self._always

    def allow_always(self, spec: ToolSpec) -> None:
        """Let ``spec`` run without asking from now on, and save that in the config file.

        Never raises: when the file cannot be written the permission still holds for this
        run, and :attr:`last_error` says why it was not saved (``on_change`` is called).
        """
        self._always.add(spec.label)
        try:
            from glmtui.tools.config import save_allowed

            save_allowed(self.config_path, spec.server, spec.name)
        except Exception as exc:  # a ConfigError as a rule; whatever it is, the run goes on
            self.last_error = f"'Always allow' for {spec.label} holds for this run only: {exc}"
        self._changed()

    async def call(self, spec: ToolSpec, arguments: dict[str, Any]) -> ToolResult:
        """Run ``tools/call`` on the tool's server.

        Returns:
            The result; ``is_error`` when the tool reported a failure.

        Raises:
            ToolError: the server is not running, answered with a protocol error, sent a
                result that does not fit the tool's schema, or the connection broke.
            asyncio.CancelledError: the calling task was cancelled; the SDK tells the server
                (``notifications/cancelled``) before this propagates.
        """
        from glmtui.tools.content import tool_result

        server = self._servers.get(spec.server)
        client = server.client if server is not None else None
        if server is None or client is None or server.state != "ready":
            state = server.state if server is not None else "not configured"
            raise ToolError(f"the MCP server '{spec.server}' is not running ({state})")
        try:
            result = await client.call_tool(spec.name, arguments)
        except Exception as exc:
            raise ToolError(f"{spec.server}: {_reason(exc)}") from None
        return tool_result(result)

    # --- inside --------------------------------------------------------------------------

    def _changed(self) -> None:
        with contextlib.suppress(Exception):
            self.on_change()

    def _offered(self) -> list[ToolSpec]:
        """Every tool of the ready servers with its wire name: the tool's own name, or
        ``server__tool`` when two servers offer one name; unique, ``[A-Za-z0-9_-]{1,64}``."""
        ready = [s for s in self._servers.values() if s.state == "ready"]
        clashes = Counter(_wire(spec.name) for server in ready for spec in server.specs)
        taken: set[str] = set()
        offered = []
        for server in ready:
            for spec in server.specs:
                name = _wire(spec.name)
                if clashes[name] > 1:
                    name = _wire(f"{spec.server}__{spec.name}")
                name = _unique(name, taken)
                taken.add(name)
                offered.append(_with_wire_name(spec, name))
        return offered

    async def _run(self, server: Connection) -> None:
        """The task of one server: start it, keep it, stop it; record how it went."""
        try:
            await self._serve(server)
        except asyncio.CancelledError:
            if server.state in ("starting", "ready"):
                server.state = "stopped"
            raise
        except Exception as exc:
            if server.stopping:
                server.state = "stopped"
            elif server.timed_out:
                server.fail(f"no answer within {self.start_timeout:g} s")
            elif server.ended and (server.config.transport == "stdio" or server.was_ready):
                server.fail(_exited(server))
            else:
                server.fail(_reason(exc))
        finally:
            server.client = None
            if server.stderr is not None:
                server.stderr.close()
            server.kill_group()  # whatever the server left running in its group
            server.settled.set()
            self._changed()

    async def _serve(self, server: Connection) -> None:
        import anyio
        from mcp.client.client import Client
        from mcp_types import Implementation, ToolListChangedNotification

        from glmtui import __version__

        async def on_message(message: Any) -> None:
            if isinstance(message, ToolListChangedNotification):
                server.relist = True
                server.wake.set()

        def on_end() -> None:
            server.ended = True
            server.wake.set()

        assert self._folder is not None
        pid_file = self._folder / f"{list(self._servers).index(server.config.name)}.pid"
        transport = server.transport(on_end, pid_file)
        loop = asyncio.get_running_loop()
        with anyio.CancelScope() as scope:
            server.scope = scope

            def timed_out() -> None:
                server.timed_out = True
                server.signal_group(signal.SIGTERM)
                scope.cancel()

            watchdog = loop.call_later(self.start_timeout, timed_out)
            try:
                async with Client(
                    cast(Any, transport),
                    client_info=Implementation(name="glmtui", version=__version__),
                    message_handler=on_message,
                ) as client:
                    specs = await list_tools(client, server.config.name)
                    watchdog.cancel()
                    server.client, server.specs, server.state = client, specs, "ready"
                    server.was_ready = True
                    server.settled.set()
                    self._changed()
                    await self._keep(server, client)
            finally:
                watchdog.cancel()
                server.client = None
        if server.stopping or not (server.timed_out or server.ended):
            server.state = "stopped"
        else:
            raise StartError("the connection ended")  # _run says how

    async def _keep(self, server: Connection, client: Any) -> None:
        """Wait while the server runs: until it is stopped or its connection ends, listing
        its tools again when it says they changed."""
        import anyio

        while True:
            await server.wake.wait()
            server.wake.clear()
            if server.stopping or server.ended:
                return
            if server.relist:
                server.relist = False
                with anyio.move_on_after(self.start_timeout):
                    with contextlib.suppress(Exception):
                        server.specs = await list_tools(client, server.config.name)
                        self._changed()


def _exited(server: Connection) -> str:
    """Why a server whose connection ended failed, in words."""
    if server.config.transport == "http":
        return "the server closed the connection"
    return "the server exited" if server.was_ready else "the server exited before it was ready"


def _wire(name: str) -> str:
    """``name`` as a function name: other characters become ``_``, at most 64."""
    return (_WIRE_UNSAFE.sub("_", name) or "tool")[:MAX_NAME]


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3`` … (still at most 64) when it is taken."""
    number = 1
    candidate = name
    while candidate in taken:
        number += 1
        suffix = f"_{number}"
        candidate = name[: MAX_NAME - len(suffix)] + suffix
    return candidate


def _with_wire_name(spec: ToolSpec, wire_name: str) -> ToolSpec:
    from dataclasses import replace

    return replace(spec, wire_name=wire_name)


def _reason(exc: BaseException) -> str:
    """One line saying why a start or a call failed, for the user and the model."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    from mcp.shared.exceptions import MCPError

    if isinstance(exc, MCPError):
        text = " ".join(exc.message.split()) or f"error {exc.code}"
        return "the connection to the server closed" if text == "Connection closed" else text
    if isinstance(exc, StartError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}" + (f": {exc.filename}" if exc.filename else "")
    name = type(exc).__name__
    module = type(exc).__module__.split(".")[0]
    if module == "httpx2":
        return _http_reason(exc)
    text = " ".join(str(exc).split())
    return f"{name}: {text}" if text else name


def _http_reason(exc: BaseException) -> str:
    """An HTTP library error in words (the URL, never its headers)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status is not None:
        return f"the server answered HTTP {status}"
    text = " ".join(str(exc).split())
    return f"cannot reach the server ({text or type(exc).__name__})"


def _quiet_sdk_logging() -> None:
    """The SDK logs through :mod:`logging`; with no handler configured Python would print its
    warnings on stderr, over the full-screen app. A NullHandler keeps them off the terminal
    (and lets them reach the root logger if glmtui ever configures one)."""
    for name in ("mcp", "httpx2", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


__all__ = ["CLOSE_TIMEOUT", "START_TIMEOUT", "McpHost", "ServerState", "ServerStatus"]
