"""The one request builder: what the client sends is what the preview and the CLI show.

A :class:`ChatRequest` is the exact body of ``POST {base}/chat/completions``. Only parameters the
user set are included, and only those the provider takes (its :class:`ParameterLimits`); the
provider's thinking switch is added in the form that provider takes (see
:data:`THINKING_STYLES`), with an effort level only for a model that lists it and never a
disable for a model that always thinks; ``response_format`` only where JSON mode is taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glmtui.domain import Parameters, Session
from glmtui.domain.attachments import BlobReader
from glmtui.domain.params import NO_LIMITS, ParameterLimits
from glmtui.domain.thinking import LEVEL_STYLES, ON_OFF, ThinkingSupport, glm_thinking

THINKING_STYLES: dict[str, str] = {
    "none": (
        "The provider takes no on/off switch (it is hidden); a model's effort levels, when it "
        'has them, go as {"reasoning_effort": "max"}.'
    ),
    "thinking_type": (
        'z.ai style: {"thinking": {"type": "enabled" | "disabled"}}, with "reasoning_effort" '
        "for a model that takes levels."
    ),
    "chat_template_kwargs": (
        'vLLM / SGLang style: {"chat_template_kwargs": {"enable_thinking": true | false}}.'
    ),
    "reasoning_effort": 'Newer GLM style: {"reasoning_effort": "high" | "max" | "none"}.',
}
"""How a provider takes the thinking switch, by the name used in provider profiles."""


def thinking_fields(
    style: str,
    enabled: bool | None,
    *,
    effort: str | None = None,
    support: ThinkingSupport = ON_OFF,
) -> dict[str, Any]:
    """The body fields that set a model's thinking for a provider with the given ``style``.

    Args:
        style: The provider's switch (a key of :data:`THINKING_STYLES`).
        enabled: Thinking on or off (None: the provider's default, nothing sent for it).
        effort: An effort level; sent only when ``support`` lists it and the style carries
            levels (:data:`glmtui.domain.thinking.LEVEL_STYLES`), and never with "off".
        support: What the model takes. A model that always thinks is never sent a disable
            (servers refuse it, or think anyway and the switch would lie).
    """
    level = effort if effort in support.levels and style in LEVEL_STYLES else None
    if enabled is False:
        level = None  # "off" wins over a saved level, as the sidebar shows it
        if not support.can_disable:
            enabled = None
    elif level is not None:
        enabled = True
    if style == "thinking_type":
        if enabled is None:
            return {}
        out: dict[str, Any] = {"thinking": {"type": "enabled" if enabled else "disabled"}}
        if level is not None:
            out["reasoning_effort"] = level
        return out
    if style == "chat_template_kwargs":
        return {} if enabled is None else {"chat_template_kwargs": {"enable_thinking": enabled}}
    if style == "reasoning_effort":
        if enabled is None:
            return {}
        if not enabled:
            return {"reasoning_effort": "none"}
        return {"reasoning_effort": level or "high"}
    if style == "none" and level is not None:
        return {"reasoning_effort": level}
    return {}


def model_thinking(model: str) -> ThinkingSupport:
    """What ``model`` takes by glmtui's table of the GLM family (plain on/off when it is not
    listed); a card's published traits, when known, come through :class:`ProviderOptions`."""
    return glm_thinking(model) or ON_OFF


@dataclass(frozen=True, slots=True)
class ProviderOptions:
    """What a provider profile says about requests beyond the thinking switch."""

    resend_reasoning: bool = False
    """Send each tool-calling step's reasoning back inside a tool loop (interleaved thinking)."""
    tool_stream: bool = False
    """Send ``tool_stream: true`` when tools are offered."""
    limits: ParameterLimits = NO_LIMITS
    """What the provider does not take (left out of the body)."""
    json_mode: bool = True
    """Whether the provider (and model) take ``response_format: {"type": "json_object"}``."""
    thinking: ThinkingSupport | None = None
    """What the model takes to control its thinking, from its card (None: glmtui's table by
    the model id, see :func:`model_thinking`)."""


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
    limits: ParameterLimits = NO_LIMITS
    """What the provider does not take: left out of the body, whatever the parameters hold."""
    json_mode: bool = True
    """Whether ``response_format`` may be sent (the provider and model take JSON mode)."""
    thinking: ThinkingSupport | None = None
    """What the model takes to control its thinking (None: :func:`model_thinking`)."""

    def body(self) -> dict[str, Any]:
        """The JSON body, with only the set parameters the provider takes."""
        body: dict[str, Any] = {"model": self.model, "messages": [dict(m) for m in self.messages]}
        parameters = self.limits.admitted(self.parameters)
        body.update(parameters.to_wire())
        body.update(
            thinking_fields(
                self.thinking_style,
                parameters.reasoning,
                effort=parameters.reasoning_effort,
                support=self.thinking or model_thinking(self.model),
            )
        )
        if parameters.json_mode and self.json_mode:
            body["response_format"] = {"type": "json_object"}
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
    blobs: BlobReader | None = None,
) -> ChatRequest:
    """The request for the next reply in ``session``.

    Args:
        session: The conversation so far; its last message is normally the user's prompt.
        parameters: Parameters to use instead of the session's own.
        stream: Stream the reply as server-sent events (the parameters' ``stream`` wins).
        thinking_style: The provider's thinking switch (a key of :data:`THINKING_STYLES`).
        options: What else the provider wants (reasoning resent in tool loops, tool_stream),
            what it does not take (its limits, JSON mode) and what the model's thinking takes.
        tools: The functions to offer (:meth:`glmtui.domain.tools.ToolSpec.to_wire`).
        blobs: Reads binary attachments (None: placeholders, for a preview).

    Raises:
        OSError: an attachment's bytes could not be read.
    """
    chosen = parameters if parameters is not None else session.parameters
    options = options or ProviderOptions()
    return ChatRequest(
        model=session.model,
        messages=tuple(session.wire_messages(reasoning=options.resend_reasoning, blobs=blobs)),
        parameters=chosen,
        stream=stream if chosen.stream is None else chosen.stream,
        thinking_style=thinking_style,
        tools=tools,
        tool_stream=options.tool_stream,
        limits=options.limits,
        json_mode=options.json_mode,
        thinking=options.thinking,
    )
