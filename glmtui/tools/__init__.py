"""Tools the model may call: the contract between the turn engine and whatever runs them.

The conversation controller (:mod:`glmtui.chat.controller`) runs the tool loop against a
:class:`ToolBox`; :class:`glmtui.tools.host.McpHost` is the real one (MCP servers from the
user's config, through the official ``mcp`` SDK), tests may pass their own. Nothing here
imports the SDK, so the controller, the CLI and the first frame never pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from glmtui.domain.tools import ToolCall, ToolSpec

Approval = Literal["once", "always", "deny"]
"""The user's answer to "may this call run?": this once, always for this tool, or no."""


class ToolError(Exception):
    """A call could not be made or failed in the server; ``str(error)`` is told to the model
    and shown to the user."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool returned, as text for the model.

    ``text`` is what the model is sent (text parts as text, structured content as indented
    JSON, images and other binary parts named with their type and size, never dumped);
    ``kinds`` names the parts for the user (e.g. ``("text", "image/png 12 KB")``).
    """

    text: str
    is_error: bool = False
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """A call that waits for the user: which tool, the call as the model sent it, and its
    arguments parsed (shown in full, pretty-printed, before anything runs)."""

    spec: ToolSpec
    call: ToolCall
    arguments: dict[str, Any]


class ToolBox(Protocol):
    """Where the controller finds tools and runs them."""

    def tools(self) -> list[ToolSpec]:
        """The tools to offer in the next request: servers that are up, tools switched on.
        Each has its ``wire_name`` set (unique across servers)."""
        ...

    def find(self, wire_name: str) -> ToolSpec | None:
        """The tool the model called by ``wire_name`` (None: no such tool is offered)."""
        ...

    def is_allowed(self, spec: ToolSpec) -> bool:
        """True when the config lets ``spec`` run without asking (its server's ``allow``)."""
        ...

    def allow_always(self, spec: ToolSpec) -> None:
        """Remember that ``spec`` may run without asking (saved to the config)."""
        ...

    def timeout_for(self, spec: ToolSpec) -> float | None:
        """Seconds a call of ``spec`` may run (None: the loop's ``timeout``)."""
        ...

    async def call(self, spec: ToolSpec, arguments: dict[str, Any]) -> ToolResult:
        """Run one call and return its result (an error result when the tool reports one).

        Raises:
            ToolError: the call could not be made (server gone, protocol error).
            asyncio.CancelledError: the turn was stopped; the call is cancelled in the server.
        """
        ...


@dataclass(frozen=True, slots=True)
class ToolLoopSettings:
    """Limits of a tool loop (``[mcp]`` in the config)."""

    max_steps: int = 10
    """Requests one prompt may make while the model keeps calling tools."""
    timeout: float = 60.0
    """Seconds a call may run before it ends with a timeout result."""


__all__ = [
    "Approval",
    "ApprovalRequest",
    "ToolBox",
    "ToolError",
    "ToolLoopSettings",
    "ToolResult",
    "ToolSpec",
]
