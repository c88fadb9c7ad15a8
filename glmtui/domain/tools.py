"""Tool calls as the conversation keeps them: what the model asked for and what came back.

Plain data, no I/O: the controller runs calls (through :mod:`glmtui.tools`), the store saves
them, the request builder sends them back, and the UI draws them, all from these types.

A tool turn on the wire is: an assistant message carrying ``tool_calls`` (each with an ``id``,
a function ``name`` and its ``arguments`` as JSON text), then one ``role: "tool"`` message per
call, in order, carrying the call's ``tool_call_id`` and the result as text. Every call gets a
result, also when it was denied, failed or was never run (the model is told which), because
OpenAI-compatible servers refuse a history with an unanswered call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

ToolOutcome = Literal["ok", "error", "denied", "timeout", "cancelled"]
"""How a call ended: ran and succeeded, ran and failed (or could not run: unknown tool, bad
arguments), the user said no, it took too long, or the turn was stopped before it finished."""

TOOL_OUTCOMES: tuple[ToolOutcome, ...] = ("ok", "error", "denied", "timeout", "cancelled")


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model asked for, exactly as it sent it.

    ``name`` is the function name offered to the model (see :class:`ToolSpec.wire_name`);
    ``arguments`` the JSON text it produced, kept verbatim (also when it is not valid JSON, so
    the history resent is the one the model wrote).
    """

    id: str
    name: str
    arguments: str = ""

    def to_wire(self) -> dict[str, Any]:
        """The call as an entry of an assistant message's ``tool_calls``."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a JSON object (blank means none).

        Raises:
            ValueError: they are not valid JSON, or not an object; the text says which, for
                the model and the user.
        """
        text = self.arguments.strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except RecursionError:
            raise ValueError("the arguments are nested too deeply") from None
        except json.JSONDecodeError as error:
            raise ValueError(
                f"the arguments are not valid JSON ({error.msg}, at {error.pos})"
            ) from None
        if not isinstance(value, dict):
            raise ValueError("the arguments must be a JSON object")
        return value

    def pretty_arguments(self) -> str:
        """The arguments indented for reading (verbatim when they are not JSON)."""
        try:
            return json.dumps(json.loads(self.arguments), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):  # not JSON, or nested past Python's limit
            return self.arguments


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool one MCP server offers, and the name it is offered to the model under.

    Function names on the wire allow ``[A-Za-z0-9_-]`` only (up to 64), so the server's name is
    not in it unless two servers offer the same tool (then ``server__tool``).
    """

    server: str
    name: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)
    wire_name: str = ""

    @property
    def label(self) -> str:
        """``server.tool``, as the user sees it."""
        return f"{self.server}.{self.name}"

    @property
    def summary(self) -> str:
        """The first line of the description."""
        for line in self.description.splitlines():
            if line.strip():
                return line.strip()
        return ""

    def to_wire(self) -> dict[str, Any]:
        """The tool as an entry of the request's ``tools``."""
        schema = self.input_schema or {"type": "object", "properties": {}}
        function: dict[str, Any] = {"name": self.wire_name or self.name, "parameters": schema}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}


def not_run_text(outcome: ToolOutcome, reason: str = "") -> str:
    """What the model is told when a call produced no result of its own."""
    if outcome == "denied":
        return "The user denied this tool call." + (f" {reason}" if reason else "")
    if outcome == "cancelled":
        return "The tool call was not completed: the user stopped the turn."
    if outcome == "timeout":
        return f"The tool call timed out{f' after {reason}' if reason else ''}."
    return f"Error: {reason}" if reason else "Error."
