"""The ``[mcp]`` config as glmtui uses it: MCP servers to start and the tool loop's limits.

Only the frozen data lives here, so :class:`glmtui.config.Settings` can hold an empty
:class:`McpConfig` without importing the parser; :mod:`glmtui.tools.config` reads and writes
the table (and re-exports these classes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from glmtui.tools import ToolLoopSettings

Transport = Literal["stdio", "http"]
"""How glmtui talks to a server: a program's stdin/stdout, or streamable HTTP."""


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One ``[mcp.servers.NAME]`` table: how to reach the server and what may run unasked.

    ``env`` and ``headers`` are kept out of ``repr`` because they often hold keys.
    """

    name: str
    command: str = ""
    """The program (stdio); "" for an HTTP server."""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False)
    """Added to the small safe environment a server gets (never glmtui's own)."""
    cwd: str = ""
    url: str = ""
    """The endpoint (streamable HTTP); "" for a stdio server."""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False)
    enabled: bool = True
    allow: tuple[str, ...] = ()
    """Tools that may run without asking; ``"*"`` allows every tool of the server."""
    timeout: float | None = None
    """Seconds a call may run, when it differs from ``[mcp] timeout``."""

    @property
    def transport(self) -> Transport:
        """``stdio`` for a program glmtui starts, ``http`` for a URL."""
        return "http" if self.url else "stdio"

    def allows(self, tool: str) -> bool:
        """True when the config lets ``tool`` run without asking."""
        return "*" in self.allow or tool in self.allow

    def describe(self) -> str:
        """What starts the server, in one line (no environment, no headers: they hold keys)."""
        if self.url:
            from glmtui.config import shown_url

            return shown_url(self.url)
        return " ".join([self.command, *self.args])


@dataclass(frozen=True, slots=True)
class McpConfig:
    """The ``[mcp]`` table: the servers, in the file's order, and the tool loop's limits."""

    servers: tuple[McpServerConfig, ...] = ()
    max_steps: int = 10
    timeout: float = 60.0

    @property
    def loop(self) -> ToolLoopSettings:
        """The limits the conversation controller's tool loop takes."""
        return ToolLoopSettings(max_steps=self.max_steps, timeout=self.timeout)

    def server(self, name: str) -> McpServerConfig | None:
        """The server called ``name``, if the config has one."""
        return next((s for s in self.servers if s.name == name), None)

    def timeout_for(self, server: str) -> float:
        """Seconds a call to ``server`` may run (its own ``timeout``, else ``[mcp] timeout``)."""
        found = self.server(server)
        if found is not None and found.timeout is not None:
            return found.timeout
        return self.timeout
