"""The app's MCP servers over one run: started after the first frame, watched, and stopped.

:class:`ToolRuntime` is what the app (:class:`glmtui.ui.app.GlmApp`) keeps: it makes the
host once the first frame is on screen (the ``mcp`` SDK and :mod:`glmtui.tools.host` are
imported then, never for the first frame), starts the servers in a worker, tells the user
once about each server that fails (the chat goes on without it), and announces every change
of the servers' states on :attr:`ToolRuntime.changed` (the Tools screen redraws on it). The
host is closed when the app ends, and killed outright from an ``atexit`` hook and on
SIGTERM, so no server outlives glmtui.

The UI knows the host by the small protocol :class:`ToolHost` (what
:class:`glmtui.tools.host.McpHost` offers), so tests pass a fake host of their own.
"""

from __future__ import annotations

import asyncio
import atexit
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from textual.signal import Signal

from glmtui.api.errors import one_line
from glmtui.tools import ToolBox

if TYPE_CHECKING:
    from textual.app import App

    from glmtui.config import Settings
    from glmtui.domain.tools import ToolSpec

ServerState = Literal["disabled", "starting", "ready", "failed", "stopped"]
"""Where an MCP server is."""

CLOSE_TIMEOUT = 10.0
"""Seconds the host gets to close the servers as the app ends (it kills what has not exited
after its own 8 s) before they are killed from here."""
NOTICE_LINES = 8
"""Lines of a failed server's error (the tail of its stderr) told in its notice."""
NOTICE_CHARS = 800


class ServerInfo(Protocol):
    """One configured server as the host reports it."""

    @property
    def name(self) -> str: ...
    @property
    def transport(self) -> str: ...
    @property
    def state(self) -> ServerState: ...
    @property
    def error(self) -> str | None:
        """Why it failed (with the tail of its stderr), when it did."""
        ...

    @property
    def tools(self) -> tuple[ToolSpec, ...]: ...


class ToolHost(ToolBox, Protocol):
    """What the UI needs of the MCP host (:class:`glmtui.tools.host.McpHost`)."""

    @property
    def last_error(self) -> str:
        """The last problem that stopped nothing (an "always allow" that was not saved)."""
        ...

    async def start(self) -> None:
        """Start the configured servers (each one's failure is kept in its status)."""
        ...

    async def close(self) -> None:
        """Stop every server."""
        ...

    def kill_now(self) -> None:
        """Kill every server process at once, without the event loop (atexit, signals)."""
        ...

    def servers(self) -> Sequence[ServerInfo]:
        """Every configured server, in the config's order."""
        ...

    def set_enabled(self, label: str, enabled: bool) -> None:
        """Offer the tool ``server.tool`` to the model or not (for this run)."""
        ...

    def is_enabled(self, spec: ToolSpec) -> bool:
        """True when ``spec`` is offered to the model."""
        ...


HostFactory = Callable[[Callable[[], None]], ToolHost]
"""Makes the host, given what it calls when a server's state or tools change."""


def mcp_host_factory(settings: Settings) -> HostFactory | None:
    """The real host for the config's ``[mcp]`` servers; None when none are configured."""
    config = settings.mcp
    if not config.servers:
        return None

    def make(on_change: Callable[[], None]) -> ToolHost:
        from glmtui.tools.host import McpHost  # the mcp SDK: after the first frame

        return McpHost(config, config_path=settings.config_path, on_change=on_change)

    return make


def tail(text: str) -> str:
    """The end of a server's error (the host gives the tail of its stderr): the last
    :data:`NOTICE_LINES` lines, at most :data:`NOTICE_CHARS` characters."""
    lines = text.strip().splitlines()
    kept = "\n".join(lines[-NOTICE_LINES:])
    if len(lines) > NOTICE_LINES:
        kept = "…\n" + kept
    return kept if len(kept) <= NOTICE_CHARS else "…" + kept[-NOTICE_CHARS:]


class ToolRuntime:
    """The MCP servers of one run of the app (see the module docstring).

    Args:
        app: The app the servers live with (notices, the worker, the signal).
        make_host: Makes the host; None when no server is configured (then nothing runs,
            and the Tools screen says how to add one).
    """

    def __init__(self, app: App[Any], make_host: HostFactory | None) -> None:
        self.app = app
        self.configured = make_host is not None
        """True when servers are configured (they may not have started yet)."""
        self.host: ToolHost | None = None
        """The host, once it was made (after the first frame)."""
        self.changed: Signal[None] = Signal(app, "tools-changed")
        """Published when a server's state, or the tools on offer, change."""
        self._make_host = make_host
        self._told: dict[str, str] = {}
        """Servers whose failure the user was told about, with the error told."""
        self._told_problem = ""

    def toolbox(self) -> ToolBox | None:
        """The tools for the next request (None until the host exists, or with no servers)."""
        return self.host

    def start(self) -> None:
        """Make the host and start its servers in a worker (call after the first frame)."""
        if self._make_host is None or self.host is not None:
            return
        host = self.host = self._make_host(self._host_changed)
        atexit.register(host.kill_now)  # whatever ends the program, the servers end too
        self.app.run_worker(self._start(host), name="mcp-start", group="tools", exit_on_error=False)

    async def _start(self, host: ToolHost) -> None:
        try:
            await host.start()
        except Exception as error:  # the chat goes on without tools
            reason = one_line(f"{type(error).__name__}: {error}", 300)
            self.app.notify(
                f"The MCP servers could not be started: {reason}",
                title="Tools",
                severity="error",
                timeout=12,
                markup=False,
            )
        self._host_changed()

    def _host_changed(self) -> None:
        """A server's state changed: tell the user of new failures, and the screens."""
        host = self.host
        if host is None:
            return
        for server in host.servers():
            error = tail(server.error or "It stopped.")
            if server.state == "failed" and self._told.get(server.name) != error:
                self._told[server.name] = error
                self.app.notify(
                    f"MCP server “{server.name}” failed; the chat goes on without its tools.\n"
                    f"{error}",
                    title="Tools",
                    severity="error",
                    timeout=15,
                    markup=False,
                )
            elif server.state == "ready":
                self._told.pop(server.name, None)
        problem = host.last_error
        if problem and problem != self._told_problem:
            self._told_problem = problem
            self.app.notify(problem, title="Tools", severity="warning", timeout=10, markup=False)
        self.changed.publish(None)

    def kill_now(self) -> None:
        """Kill the servers at once (SIGTERM: no time to close them politely)."""
        if self.host is not None:
            self.host.kill_now()

    async def close(self) -> None:
        """Stop the servers as the app ends (killed if they take too long)."""
        host, self.host = self.host, None
        if host is None:
            return
        closed = False
        try:
            await asyncio.wait_for(host.close(), CLOSE_TIMEOUT)
            closed = True
        except Exception:  # whatever went wrong closing them, they go
            pass
        finally:
            if not closed:
                host.kill_now()
            atexit.unregister(host.kill_now)
