"""The one request builder: what the client sends is what the preview and the CLI show.

A :class:`ChatRequest` is the exact body of ``POST {base}/chat/completions``. Only parameters the
user set are included, and the provider's thinking switch is added in the form that provider
takes (see :data:`THINKING_STYLES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glmtui.domain import Parameters, Session

THINKING_STYLES: dict[str, str] = {
    "none": "The provider takes no thinking switch; the reasoning toggle is hidden.",
    "thinking_type": 'z.ai style: {"thinking": {"type": "enabled" | "disabled"}}.',
    "chat_template_kwargs": (
        'vLLM / SGLang style: {"chat_template_kwargs": {"enable_thinking": true | false}}.'
    ),
    "reasoning_effort": 'Newer GLM style: {"reasoning_effort": "high" | "none"}.',
}
"""How a provider takes the thinking on/off switch, by the name used in provider profiles."""


def thinking_fields(style: str, enabled: bool) -> dict[str, Any]:
    """The body fields that turn thinking on or off for a provider with the given style."""
    if style == "thinking_type":
        return {"thinking": {"type": "enabled" if enabled else "disabled"}}
    if style == "chat_template_kwargs":
        return {"chat_template_kwargs": {"enable_thinking": enabled}}
    if style == "reasoning_effort":
        return {"reasoning_effort": "high" if enabled else "none"}
    return {}


@dataclass(frozen=True, slots=True)
class ProviderOptions:
    """What a provider profile says about requests beyond the thinking switch."""

    resend_reasoning: bool = False
    """Send each tool-calling step's reasoning back inside a tool loop (interleaved thinking)."""
    tool_stream: bool = False
    """Send ``tool_stream: true`` when tools are offered."""


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat-completions request, ready to send."""

    model: str
    messages: tuple[dict[str, Any], ...]
    parameters: Parameters = field(default_factory=Parameters)
    stream: bool = True
    thinking_style: str = "none"
    include_usage: bool = True
    """Ask for a usage chunk at the end of a stream (``stream_options.include_usage``)."""
    tools: tuple[dict[str, Any], ...] = ()
    """The functions offered (``tools``; with them ``tool_choice: "auto"``)."""
    tool_stream: bool = False
    """Ask for tool-call arguments as a stream (z.ai's ``tool_stream``), when tools are offered."""

    def body(self) -> dict[str, Any]:
        """The JSON body, with only the set parameters."""
        body: dict[str, Any] = {"model": self.model, "messages": [dict(m) for m in self.messages]}
        body.update(self.parameters.to_wire())
        if self.parameters.reasoning is not None:
            body.update(thinking_fields(self.thinking_style, self.parameters.reasoning))
        if self.tools:
            body["tools"] = [dict(tool) for tool in self.tools]
            body["tool_choice"] = "auto"
            if self.tool_stream and self.stream:
                body["tool_stream"] = True
        body["stream"] = self.stream
        if self.stream and self.include_usage:
            body["stream_options"] = {"include_usage": True}
        return body


def build_request(
    session: Session,
    parameters: Parameters | None = None,
    *,
    stream: bool = True,
    thinking_style: str = "none",
    options: ProviderOptions | None = None,
    tools: tuple[dict[str, Any], ...] = (),
) -> ChatRequest:
    """The request for the next reply in ``session``.

    Args:
        session: The conversation so far; its last message is normally the user's prompt.
        parameters: Parameters to use instead of the session's own.
        stream: Stream the reply as server-sent events (the parameters' ``stream`` wins).
        thinking_style: The provider's thinking switch (a key of :data:`THINKING_STYLES`).
        options: What else the provider wants (reasoning resent in tool loops, tool_stream).
        tools: The functions to offer (:meth:`glmtui.domain.tools.ToolSpec.to_wire`).
    """
    chosen = parameters if parameters is not None else session.parameters
    options = options or ProviderOptions()
    return ChatRequest(
        model=session.model,
        messages=tuple(session.wire_messages(reasoning=options.resend_reasoning)),
        parameters=chosen,
        stream=stream if chosen.stream is None else chosen.stream,
        thinking_style=thinking_style,
        tools=tools,
        tool_stream=options.tool_stream,
    )
