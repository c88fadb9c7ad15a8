"""The data model: conversations, messages, parameters and usage.

Plain dataclasses with no I/O and no UI, so the API client, the session store, the CLI and the
Textual app all speak the same language, and so each can be tested without the others.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, Literal

from glmtui.domain.attachments import Attachment, BlobReader, user_content
from glmtui.domain.tools import ToolCall, ToolOutcome, not_run_text

Role = Literal["system", "user", "assistant", "tool"]
"""Who wrote a message, as the chat completions API names it."""

MessageStatus = Literal["complete", "streaming", "interrupted", "error"]
"""How an assistant reply ended. ``streaming`` exists only in memory (saved as ``interrupted``)."""


def utc_now() -> datetime:
    """The current time, timezone-aware and truncated to whole seconds (what the files store)."""
    return datetime.now(UTC).replace(microsecond=0)


def new_id() -> str:
    """A stable, collision-free identifier for a session or message."""
    return uuid.uuid4().hex


def auto_title(text: str, limit: int = 60) -> str:
    """A session title from the first prompt: its first non-blank line, trimmed to ``limit``."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return "Untitled"


@dataclass(frozen=True, slots=True)
class Usage:
    """Token accounting for one reply, as the server reported it (or estimated locally)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int | None = None
    """``prompt_tokens_details.cached_tokens`` when the provider reports prompt caching."""
    reasoning_tokens: int | None = None
    """``completion_tokens_details.reasoning_tokens``: the part of the completion spent thinking."""
    cost: float | None = None
    """Cost in USD when the provider reports it in the usage object."""
    estimated: bool = False
    """True when the numbers were estimated locally because the server sent no usage."""

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Usage:
        """Build from an OpenAI-style ``usage`` object, tolerating missing and null fields."""

        def as_int(value: Any) -> int:
            return int(value) if isinstance(value, int | float) else 0

        prompt = as_int(data.get("prompt_tokens"))
        completion = as_int(data.get("completion_tokens"))
        total = as_int(data.get("total_tokens")) or prompt + completion
        prompt_details = data.get("prompt_tokens_details") or {}
        completion_details = data.get("completion_tokens_details") or {}
        cached = prompt_details.get("cached_tokens") if isinstance(prompt_details, dict) else None
        reasoning = (
            completion_details.get("reasoning_tokens")
            if isinstance(completion_details, dict)
            else None
        )
        cost = data.get("cost")
        return cls(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=total,
            cached_tokens=int(cached) if isinstance(cached, int | float) else None,
            reasoning_tokens=int(reasoning) if isinstance(reasoning, int | float) else None,
            cost=float(cost) if isinstance(cost, int | float) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields that carry information, for files and ``--json`` output."""
        out: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }
        for name in ("cached_tokens", "reasoning_tokens", "cost"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.estimated:
            out["estimated"] = True
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        """Inverse of :meth:`to_dict` (flat ``cached_tokens``/``reasoning_tokens`` keys)."""
        usage = cls.from_wire(data)
        flat: dict[str, Any] = {}
        for name in ("cached_tokens", "reasoning_tokens"):
            value = data.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                flat[name] = value
        if "total_tokens" in data and isinstance(data["total_tokens"], int):
            flat["total_tokens"] = data["total_tokens"]
        return replace(usage, **flat, estimated=bool(data.get("estimated")))


BUILDER_FIELDS = ("reasoning", "stream", "reasoning_effort", "json_mode")
"""Fields of :class:`Parameters` that are not body keys of their own name: the request builder
turns them into what the provider takes (see :meth:`Parameters.to_wire`)."""


@dataclass(frozen=True, slots=True)
class Parameters:
    """Sampling parameters for a request. ``None`` means "provider default": the field is not sent.

    Only what the user set reaches the wire, so a provider's own defaults stay in force and the
    request preview shows exactly what is sent.
    """

    temperature: float | None = None
    """Sampling temperature, 0–2. Higher is more random."""
    top_p: float | None = None
    """Nucleus sampling mass, 0–1."""
    max_tokens: int | None = None
    """Upper bound on generated tokens (reasoning included on most GLM servers)."""
    frequency_penalty: float | None = None
    """Penalise tokens by how often they already appeared, −2–2."""
    presence_penalty: float | None = None
    """Penalise tokens that already appeared at all, −2–2."""
    stop: tuple[str, ...] | None = None
    """Stop sequences; generation ends before any of them."""
    seed: int | None = None
    """Seed for providers that support reproducible sampling."""
    reasoning: bool | None = None
    """Thinking on/off; sent only in the form the provider profile names."""
    stream: bool | None = None
    """Stream the reply (None: yes). Off waits for the whole reply, for servers that cannot."""
    reasoning_effort: str | None = None
    """An effort level for a model that takes one (``high``, ``max`` …; see
    :mod:`glmtui.domain.thinking`), sent as ``reasoning_effort`` only to a model that lists it.
    Kept apart from ``reasoning`` (which a level sets to true) so a file with a level still
    reads as "thinking on" in a glmtui that knows no levels."""
    json_mode: bool | None = None
    """Ask for a reply that is one JSON object (``response_format: {"type": "json_object"}``),
    sent only to a provider and model that take it."""

    def to_wire(self) -> dict[str, Any]:
        """The set sampling fields as chat-completions body keys.

        ``reasoning``, ``reasoning_effort``, ``json_mode`` and ``stream`` are not sampling
        fields: the request builder turns them into the provider's thinking switch, the
        ``response_format`` and the ``stream`` flag, where the provider and model take them.
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or f.name in BUILDER_FIELDS:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_dict(self) -> dict[str, Any]:
        """Every set field (the builder's included), for files and config."""
        out = self.to_wire()
        for name in BUILDER_FIELDS:
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    def merged(self, other: Parameters) -> Parameters:
        """These parameters with every field that ``other`` sets taking precedence."""
        changes = {f.name: getattr(other, f.name) for f in fields(other)}
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass(slots=True)
class Message:
    """One message in a conversation.

    Assistant messages carry the reasoning, status, finish reason, model and usage of the reply;
    reasoning is stored but never sent back to the model.
    """

    role: Role
    content: str
    created_at: datetime = field(default_factory=lambda: utc_now())
    id: str = field(default_factory=new_id)
    reasoning: str = ""
    status: MessageStatus | None = None
    finish_reason: str | None = None
    model: str | None = None
    usage: Usage | None = None
    error: str | None = None
    """The one-line reason a reply failed, kept so a reopened session still says why."""
    tool_calls: tuple[ToolCall, ...] = ()
    """(assistant) The tool calls the model asked for in this reply, in order."""
    tool_call_id: str | None = None
    """(tool) The id of the call this message answers."""
    tool_name: str | None = None
    """(tool) The tool that answered, as ``server.tool`` (the wire name when it is unknown)."""
    tool_outcome: ToolOutcome | None = None
    """(tool) How the call ended; the content is what the model was told."""
    duration_ms: int | None = None
    """(tool) How long the tool ran, when it ran."""
    attachments: tuple[Attachment, ...] = ()
    """(user) Files sent with the prompt (see :mod:`glmtui.domain.attachments`)."""
    compacted: bool = False
    """Replaced in requests by a summary (a message whose ``summary_of`` names this one); kept
    in the session, shown folded, and back in requests when the compaction is undone."""
    summary_of: tuple[str, ...] = ()
    """(a summary) The ids of the messages this one summarises, in order."""

    def to_wire(
        self, *, reasoning: bool = False, blobs: BlobReader | None = None
    ) -> dict[str, Any]:
        """The message as the API expects it: role and content, plus the tool fields.

        Reasoning is resent only with ``reasoning`` (providers with interleaved thinking want
        the reasoning of each step of a tool loop back) and only on messages that call tools.
        Attachments go as :func:`~glmtui.domain.attachments.user_content` makes them (``blobs``
        reads binary ones; without it their URLs are placeholders, for a preview).
        """
        if self.role == "tool":
            return {
                "role": "tool",
                "tool_call_id": self.tool_call_id or "",
                "content": self.content,
            }
        content: Any = self.content
        if self.attachments:
            content = user_content(self.content, self.attachments, blobs)
        out: dict[str, Any] = {"role": self.role, "content": content}
        if self.tool_calls:
            out["tool_calls"] = [call.to_wire() for call in self.tool_calls]
            if reasoning and self.reasoning:
                out["reasoning_content"] = self.reasoning
        return out


@dataclass(slots=True)
class Session:
    """A conversation: its messages, the model and provider it ran against, and its parameters."""

    id: str = field(default_factory=new_id)
    title: str = ""
    created_at: datetime = field(default_factory=lambda: utc_now())
    updated_at: datetime = field(default_factory=lambda: utc_now())
    model: str = "zai-org-glm-5"
    provider: str = "oxen"
    base_url: str = ""
    """The API root the conversation was sent to (no credentials in it). A resumed session
    goes back there, and never elsewhere without asking; "" in files older than schema 2."""
    system_prompt: str = ""
    parameters: Parameters = field(default_factory=Parameters)
    messages: list[Message] = field(default_factory=list)
    read_only: bool = field(default=False, compare=False)
    """True when the session was read from a file a newer glmtui wrote (a higher
    ``schema_version``): it can be shown and copied, but the store refuses to save over it, so
    fields this version does not know are never lost. Not part of the conversation, so equality
    ignores it."""

    def wire_messages(
        self, *, reasoning: bool = False, blobs: BlobReader | None = None
    ) -> list[dict[str, Any]]:
        """The conversation as the API expects it: system prompt first, then every message.

        Failed replies with no text and no tool calls are left out: they hold nothing the
        model said. Every tool call is answered: a call whose result is missing (the program
        ended while it ran) is sent with a "not completed" result, and a result whose call is
        not in the history is left out, so the server never refuses the history.
        ``reasoning``: resend the reasoning of the messages that call tools in the tool loop
        under way (those after the last prompt; see :meth:`Message.to_wire`). Compacted
        messages are left out (their summary stands in for them); ``blobs`` reads binary
        attachments.

        Raises:
            OSError: ``blobs`` could not read an attachment.
        """
        out: list[dict[str, Any]] = []
        if self.system_prompt.strip():
            out.append({"role": "system", "content": self.system_prompt})
        open_calls: list[str] = []  # calls of the last assistant message not answered yet

        def close_calls() -> None:
            for call_id in open_calls:
                text = not_run_text("cancelled")
                out.append({"role": "tool", "tool_call_id": call_id, "content": text})
            open_calls.clear()

        last_prompt = max((i for i, m in enumerate(self.messages) if m.role == "user"), default=-1)
        summarised = {id_ for m in self.messages for id_ in m.summary_of}  # nested: any
        for position, message in enumerate(self.messages):
            if message.compacted and message.id in summarised:
                continue  # its summary stands in for it (without one, it is sent again)
            if message.role == "tool":
                if message.tool_call_id in open_calls:
                    open_calls.remove(message.tool_call_id)
                    out.append(message.to_wire())
                continue
            close_calls()
            if (
                message.role == "assistant"
                and not message.content
                and not message.tool_calls
                and message.status != "complete"
            ):
                continue
            resend = reasoning and position > last_prompt
            out.append(message.to_wire(reasoning=resend, blobs=blobs))
            open_calls.extend(call.id for call in message.tool_calls)
        close_calls()
        return out

    def touch(self) -> None:
        """Mark the session as changed now."""
        self.updated_at = utc_now()


@dataclass(frozen=True, slots=True)
class Pricing:
    """How a model is billed, as the models endpoint reports it: USD per token for input,
    cached input and output, or per second for a model billed by time.

    Oxen.ai's ``pricing.method`` is ``token``, ``time``, ``per_image`` or
    ``per_video_output_second``; only a model billed by the token can be priced from a reply's
    token counts. For the others :meth:`cost` is None, and what shows a cost says how the
    model is billed instead (a token count times a price it does not have would be a wrong
    number next to the bill).
    """

    input_per_token: float | None = None
    output_per_token: float | None = None
    cached_input_per_token: float | None = None
    """USD per prompt token served from the provider's prompt cache, when it publishes that
    price. Unknown: cached tokens are priced at the input rate, and the cost is an upper bound
    (:meth:`upper_bound`)."""
    method: str = "token"
    """How the model is billed (``token``, ``time``, ``per_image`` …); ``token`` when the
    provider does not say (OpenRouter's prices are per token and carry no method)."""
    per_second: float | None = None
    """USD per second, for a model billed by time."""

    @property
    def by_token(self) -> bool:
        """Billed by the token, so a reply's cost follows from its usage."""
        return self.method in TOKEN_METHODS

    @property
    def by_time(self) -> bool:
        """Billed by the second of compute: token counts do not give the cost."""
        return self.method in TIME_METHODS

    def cost(self, usage: Usage) -> float | None:
        """The cost of one reply, or None when it cannot be known from its tokens (a price is
        unknown, or the model is not billed by the token).

        Cached prompt tokens (``usage.cached_tokens``) are priced at the cached-input rate
        when there is one, else at the input rate (see :meth:`upper_bound`).
        """
        if not self.by_token or self.input_per_token is None or self.output_per_token is None:
            return None
        cached = min(max(usage.cached_tokens or 0, 0), usage.prompt_tokens)
        cached_rate = self.cached_input_per_token
        if cached_rate is None:
            cached_rate = self.input_per_token
        return (
            (usage.prompt_tokens - cached) * self.input_per_token
            + cached * cached_rate
            + usage.completion_tokens * self.output_per_token
        )

    def upper_bound(self, usage: Usage) -> bool:
        """True when :meth:`cost` is at most the bill, not the bill: the reply had cached
        prompt tokens, and with no cached-input price they were priced at the full input rate
        (providers bill them at that rate or less)."""
        return bool(usage.cached_tokens) and self.cached_input_per_token is None


TOKEN_METHODS = frozenset({"token", "tokens", "per_token"})
"""``pricing.method`` values of models billed by the token (Oxen.ai documents ``token``)."""

TIME_METHODS = frozenset({"time", "per_second", "second", "seconds"})
"""``pricing.method`` values of models billed by time (Oxen.ai documents ``time``)."""


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What we know about a model: identity, limits, pricing, description and request schema."""

    id: str
    display_name: str = ""
    developer: str = ""
    owned_by: str = ""
    summary: str = ""
    description: str = ""
    model_type: str = ""
    released_at: str = ""
    input_modalities: tuple[str, ...] = ()
    output_modalities: tuple[str, ...] = ()
    pricing: Pricing = field(default_factory=Pricing)
    context_length: int | None = None
    context_source: Literal["model", "description", "config", "assumed"] | None = None
    """Where ``context_length`` came from: a field of the model object, the description's
    table, the provider's ``context_length`` setting, or glmtui's built-in knowledge (an
    assumption, to be shown as one). None when the length is unknown (or the card was built
    by hand)."""
    max_output_tokens: int | None = None
    facts: tuple[tuple[str, str], ...] = ()
    """Rows of the description's metric table (Parameter Count, Precision …), in order."""
    request_schema: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    """The whole object as the server sent it."""
    builtin: bool = False
    """True for the card shipped with glmtui, shown when the server and cache have nothing."""

    @property
    def name(self) -> str:
        """The name to show: the display name when there is one, else the id."""
        return self.display_name or self.id

    @property
    def context_assumed(self) -> bool:
        """True when the context length is glmtui's assumption, not something the server or
        the user said: shown as "~200,000 tokens (assumed)", and no limit to warn against."""
        return self.context_length is not None and self.context_source == "assumed"
