"""Turn chat-completion chunks into typed events, whatever dialect the provider speaks.

This is the pure (no I/O) half of streaming: the client feeds it the ``data`` of each SSE event
and gets :mod:`glmtui.api.events` back. It copes with the quirks listed in DESIGN.md: reasoning in
``reasoning_content`` or ``reasoning`` or inline ``<think>`` tags, role-only first chunks,
usage-only chunks with ``choices: []``, usage on a chunk that also has choices, repeated
``finish_reason``, ``event: error`` and ``{"error": …}`` objects mid-stream.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

from glmtui.api.errors import (
    ApiError,
    ProtocolError,
    ProviderError,
    StreamInterrupted,
    closed_without_reply,
    message_from_body,
    message_from_object,
    one_line,
)
from glmtui.api.events import (
    ContentDelta,
    Finished,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
    UsageReport,
)
from glmtui.domain import Usage

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"

Piece = tuple[Literal["reasoning", "content"], str]


def _held_suffix(text: str, tag: str) -> int:
    """How many trailing characters of ``text`` could be the start of ``tag`` (to hold back)."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkSplitter:
    """Split inline ``<think>…</think>`` reasoning out of content text, across chunk boundaries.

    Servers without a reasoning parser send GLM's thinking inside ``content``. Only a tag at the
    very start of the reply (after whitespace) counts, so an answer that *talks about* a
    ``<think>`` tag is left alone. Providers that send a reasoning field switch this off.
    """

    def __init__(self) -> None:
        self._state: Literal["start", "thinking", "after", "content"] = "start"
        self._pending = ""

    def disable(self) -> None:
        """Treat all further content as answer text (the provider has a reasoning field)."""
        if self._state == "start":
            self._state = "content"

    def feed(self, text: str) -> list[Piece]:
        """Split one content delta into reasoning and content pieces."""
        out: list[Piece] = []
        self._pending += text
        while self._pending:
            if self._state == "start":
                stripped = self._pending.lstrip()
                if not stripped:
                    return out
                if stripped.startswith(OPEN_TAG):
                    self._pending = stripped[len(OPEN_TAG) :]
                    self._state = "thinking"
                elif OPEN_TAG.startswith(stripped):
                    return out
                else:
                    self._state = "content"
            elif self._state == "thinking":
                index = self._pending.find(CLOSE_TAG)
                if index >= 0:
                    if index:
                        out.append(("reasoning", self._pending[:index]))
                    self._pending = self._pending[index + len(CLOSE_TAG) :]
                    self._state = "after"
                    continue
                held = _held_suffix(self._pending, CLOSE_TAG)
                ready = self._pending[: len(self._pending) - held]
                if ready:
                    out.append(("reasoning", ready))
                self._pending = self._pending[len(ready) :]
                return out
            elif self._state == "after":
                # The answer after a think block usually starts with blank lines; drop them.
                self._pending = self._pending.lstrip("\r\n")
                if self._pending:
                    self._state = "content"
            else:
                out.append(("content", self._pending))
                self._pending = ""
        return out

    def flush(self) -> list[Piece]:
        """Whatever is held back, at the end of the stream."""
        text, self._pending = self._pending, ""
        if not text:
            return []
        return [("reasoning" if self._state == "thinking" else "content", text)]


def split_inline_reasoning(text: str) -> tuple[str, str]:
    """``(reasoning, content)`` of a complete text that may start with a ``<think>`` block."""
    splitter = ThinkSplitter()
    pieces = splitter.feed(text) + splitter.flush()
    reasoning = "".join(t for kind, t in pieces if kind == "reasoning")
    content = "".join(t for kind, t in pieces if kind == "content")
    return reasoning, content


class ChunkDecoder:
    """Stateful decoder for one streamed reply.

    Feed it each SSE event with :meth:`feed`; call :meth:`finish` when the stream ends. It keeps
    the text so far, so an error can hand back the partial reply.
    """

    def __init__(self) -> None:
        self._splitter = ThinkSplitter()
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.usage: Usage | None = None
        self.tool_calls = 0
        """Tool-call pieces decoded: output too, though they hold no text."""
        self.done = False
        """True once ``data: [DONE]`` arrived: the client stops reading."""

    @property
    def has_output(self) -> bool:
        """True once any reasoning, answer text or tool call has been decoded: from then on
        the request is never sent again behind the user's back."""
        return bool(self.content or self.reasoning or self.tool_calls)

    @property
    def complete(self) -> bool:
        """True when the stream said it was finished (a finish reason or ``[DONE]``)."""
        return self.done or self.finish_reason is not None

    def feed(self, data: str, event: str = "") -> list[StreamEvent]:
        """Decode the ``data`` of one SSE event.

        Raises:
            ProviderError: the event is an ``event: error`` or carries an ``error`` object.
            ProtocolError: the data is not JSON.
        """
        if event == "error":
            raise ProviderError(
                "The provider reported an error mid-reply: "
                + (message_from_body(data) or one_line(data, 200) or "no details given")
            )
        stripped = data.strip()
        if not stripped:
            return []
        if stripped == "[DONE]":
            self.done = True
            return []
        try:
            chunk = json.loads(stripped)
        except ValueError:
            raise ProtocolError(
                f"The server sent an event that is not valid JSON: {one_line(stripped, 80)!r}."
            ) from None
        if not isinstance(chunk, dict):
            raise ProtocolError(f"The server sent an unexpected event: {one_line(stripped, 80)!r}.")
        return list(self._decode(chunk))

    def _decode(self, chunk: dict[str, Any]) -> Iterable[StreamEvent]:
        if chunk.get("error"):
            raise ProviderError(
                "The provider reported an error mid-reply: "
                + (message_from_object(chunk) or "no details given")
            )
        if isinstance(chunk.get("model"), str):
            self.model = chunk["model"]
        choices = chunk.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if isinstance(choice, dict) and choice.get("index", 0) in (0, None):
                    yield from self._decode_choice(choice)
        usage = chunk.get("usage")
        if isinstance(usage, dict) and usage:
            self.usage = Usage.from_wire(usage)
            yield UsageReport(self.usage)

    def _decode_choice(self, choice: dict[str, Any]) -> Iterable[StreamEvent]:
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            message = choice.get("message")
            delta = message if isinstance(message, dict) else {}
        for key in ("reasoning_content", "reasoning"):
            reasoning = delta.get(key)
            if isinstance(reasoning, str) and reasoning:
                self._splitter.disable()
                self.reasoning.append(reasoning)
                yield ReasoningDelta(reasoning)
                break
        content = delta.get("content")
        if isinstance(content, str) and content:
            yield from self._pieces(self._splitter.feed(content))
        tool_calls = delta.get("tool_calls")
        if isinstance(tool_calls, list):
            for position, call in enumerate(tool_calls):
                if isinstance(call, dict):
                    self.tool_calls += 1
                    yield _tool_call_delta(call, position)
        finish = choice.get("finish_reason")
        if isinstance(finish, str) and finish:
            self.finish_reason = finish

    def _pieces(self, pieces: list[Piece]) -> Iterable[StreamEvent]:
        for kind, text in pieces:
            if kind == "reasoning":
                self.reasoning.append(text)
                yield ReasoningDelta(text)
            else:
                self.content.append(text)
                yield ContentDelta(text)

    def finish(self) -> list[StreamEvent]:
        """End of stream: the held-back text and :class:`Finished`.

        Raises:
            ClosedWithoutReply: the stream ended before any output (and unfinished).
            StreamInterrupted: the stream ended with neither a finish reason nor ``[DONE]``
                after some output, which the error carries.
        """
        events = list(self._pieces(self._splitter.flush()))
        if not self.complete and not self.has_output:
            raise closed_without_reply()
        if not self.complete:
            error = StreamInterrupted(
                "The reply was cut off: the connection closed before the model finished.",
                hint="What arrived is kept; regenerate to try again.",
            )
            self.attach_partial(error)
            raise error
        events.append(Finished(self.finish_reason or "stop", self.model))
        return events

    def attach_partial(self, error: ApiError) -> None:
        """Give an error the text decoded so far, so the caller can keep it."""
        error.partial_content = "".join(self.content)
        error.partial_reasoning = "".join(self.reasoning)


def _tool_call_delta(call: dict[str, Any], position: int) -> ToolCallDelta:
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    assert isinstance(function, dict)
    index = call.get("index")
    arguments = function.get("arguments")
    if isinstance(arguments, dict):  # a few servers send the object itself, not its JSON text
        arguments = json.dumps(arguments, ensure_ascii=False)
    return ToolCallDelta(
        index=index if isinstance(index, int) else position,
        id=call.get("id") if isinstance(call.get("id"), str) else None,
        name=function.get("name") if isinstance(function.get("name"), str) else None,
        arguments=arguments if isinstance(arguments, str) else "",
    )
