"""A scripted loopback HTTP/1.1 server that plays an OpenAI-compatible chat API in tests.

Why it exists: the client's hardest code paths are the failure modes of a *stream* - a
connection reset half-way through an SSE reply, a chunked body that stops without its
terminating chunk, a server that sends headers and then goes silent, CRLF line endings, events
split over several ``data:`` lines, usage-only chunks, 429s with ``Retry-After``. Off-the-shelf
mock libraries work at the level of whole responses and cannot produce these, so this module
is a tiny HTTP/1.1 server written directly on asyncio streams that gives the test byte-level
control over what goes on the wire and records exactly what the client sent.

It is stdlib-only, binds 127.0.0.1 only (never the internet), and runs its own event loop in a
daemon thread, so it works next to pytest-asyncio tests and Textual Pilot tests (which run
their own loops in the main thread) and next to subprocess-based CLI tests (point the CLI at
:attr:`LoopbackServer.base_url`).

Typical use::

    with LoopbackServer() as server:
        server.enqueue(JsonReply(429, {"error": {"message": "slow down"}}, {"retry-after": "1"}))
        server.enqueue(stream_of(["Hel", "lo"], reasoning_tokens=["Hmm"]))
        server.enqueue(StreamReply([sse(chunk("Hi")), 0.05, RESET]))
        ...  # run the client against server.base_url
        assert server.wait_for_requests(3)[0].json()["model"] == "zai-org-glm-5"

When a route's queue is empty a default handler answers (a short deterministic streamed
"Hello from the loopback server." reply with reasoning, an Oxen-shaped model catalogue, 404s).

Run ``python -m tests.server --port 8765 [--tokens 4000] [--rate 200]`` for manual testing
(``--port 0`` picks a free port; the first line printed names it). A chat request body may carry
``x_tokens`` (reply length in tokens, see :func:`build_tokens`), ``x_rate`` (content chunks per
second, 0 = as fast as possible), ``x_doc`` (``prose`` or ``code``, see :data:`DOCS`) and
``x_trace`` (an id: the server notes when each write of the reply left, as ``time.monotonic()``
and content characters sent so far, and ``GET /x/timeline/<id>`` returns ``{"sends": [[t,
chars], ...]}`` once); real servers ignore these fields.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import enum
import functools
import http
import itertools
import json
import math
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeAlias

__all__ = [
    "CATALOGUE",
    "CLOSE",
    "DEFAULT_MODEL",
    "DOCS",
    "DONE",
    "END_MARKER",
    "GLM5_MODEL",
    "HANG",
    "HELLO_REASONING_TOKENS",
    "HELLO_TEXT",
    "HELLO_TOKENS",
    "IMAGE_MODEL",
    "LLAMA_MODEL",
    "RESET",
    "VISION_MODEL",
    "WIDE_CATALOGUE",
    "Action",
    "JsonReply",
    "LoopbackServer",
    "RawReply",
    "RecordedRequest",
    "Reply",
    "ReplyFactory",
    "StallReply",
    "StreamPart",
    "StreamReply",
    "WireReply",
    "build_tokens",
    "chunk",
    "comment",
    "main",
    "oxen_error",
    "sse",
    "stream_of",
    "tokenize",
    "tool_call_stream",
]

DEFAULT_MODEL = "zai-org-glm-5"
"""Model id used in generated chunks when the request does not name one."""

HELLO_TEXT = "Hello from the loopback server."
HELLO_TOKENS: tuple[str, ...] = tuple(re.findall(r" ?\S+", HELLO_TEXT))
"""The default reply's content tokens: ``("Hello", " from", " the", " loopback", " server.")``."""
HELLO_REASONING_TOKENS: tuple[str, ...] = ("Thinking", " briefly.")
"""The default reply's ``reasoning_content`` tokens."""
PROMPT_TOKENS = 11
"""``usage.prompt_tokens`` reported by the default handler."""

END_MARKER = "END-OF-REPLY-7F3A"
"""Last line of every :func:`build_tokens` document (lets screen scrapers spot the end)."""

_CREATED = 1_700_000_000
_COMPLETION_ID = "chatcmpl-loopback"
_FAST_BATCH = 16  # SSE events per HTTP chunk when streaming as fast as possible

# --------------------------------------------------------------------------------------------
# Model catalogue (Oxen-shaped)
# --------------------------------------------------------------------------------------------


def _model_description(intro: str, facts: Sequence[tuple[str, str]]) -> str:
    rows = "".join(f"| {key} | {value} |\n" for key, value in facts)
    return f"{intro}\n\n| Metric | Value |\n|---|---|\n{rows}"


GLM5_MODEL: dict[str, Any] = {
    "id": "zai-org-glm-5",
    "object": "model",
    "created": 1770768000,
    "owned_by": "zai-org",
    "display_name": "GLM-5",
    "description": _model_description(
        "GLM-5 is Z.ai's open-weight flagship for complex reasoning, coding and agentic tasks. "
        "It thinks before it answers (its reasoning streams separately from the reply) and "
        "handles a 200,000-token context.",
        [
            ("Parameter Count", "744 Billion"),
            ("Mixture of Experts", "Yes"),
            ("Active Parameter Count", "40 Billion"),
            ("Context Length", "200,000"),
            ("Multilingual", "Yes"),
            ("Precision", "NVFP4"),
        ],
    ),
    "summary": (
        "Z.ai's flagship open-weight model: a 744B-parameter Mixture-of-Experts with 40B active "
        "parameters, built for reasoning, coding and long-horizon agentic work."
    ),
    "model_type": "text_generation",
    "endpoint": "/chat/completions",
    "capabilities": {"input": ["text"], "output": ["text"]},
    "pricing": {
        "method": "per_token",
        "input_cost_per_token": 0.000001,
        "output_cost_per_token": 0.0000032,
    },
    "developer": {"name": "Z.ai", "logo": "https://hub.oxen.ai/images/developers/zai.png"},
    "released_at": "2026-02-11T00:00:00Z",
    "request_schema": {},
    "context_length": 200000,
    "max_output_tokens": None,
}
"""The GLM-5 model object served by ``GET /models`` and ``GET /models/zai-org-glm-5``."""

LLAMA_MODEL: dict[str, Any] = {
    "id": "meta-llama-3.2-3b-instruct",
    "object": "model",
    "created": 1727222400,
    "owned_by": "meta-llama",
    "display_name": "Llama 3.2 3B Instruct",
    "description": _model_description(
        "A small, fast instruction-tuned Llama for lightweight chat and summarisation.",
        [
            ("Parameter Count", "3 Billion"),
            ("Mixture of Experts", "No"),
            ("Active Parameter Count", "3 Billion"),
            ("Context Length", "128,000"),
            ("Precision", "BF16"),
        ],
    ),
    "summary": "Meta's 3B-parameter instruction-tuned Llama 3.2 model.",
    "model_type": "text_generation",
    "endpoint": "/chat/completions",
    "capabilities": {"input": ["text"], "output": ["text"]},
    "pricing": {
        "method": "per_token",
        "input_cost_per_token": 0.0000001,
        "output_cost_per_token": 0.0000002,
    },
    "developer": {"name": "Meta", "logo": "https://hub.oxen.ai/images/developers/meta.png"},
    "released_at": "2024-09-25T00:00:00Z",
    "request_schema": {},
    "context_length": 128000,
    "max_output_tokens": 8192,
}
"""A second, small model so catalogue/model-picker tests have a choice."""

CATALOGUE: dict[str, Any] = {"object": "list", "data": [GLM5_MODEL, LLAMA_MODEL]}
"""The body of the default ``GET /models`` reply."""

VISION_MODEL: dict[str, Any] = {
    "id": "qwen-qwen3-vl-32b-instruct",
    "object": "model",
    "created": 1759276800,
    "owned_by": "qwen",
    "display_name": "Qwen3 VL 32B Instruct",
    "description": (
        "Qwen's vision-language model: reads images and text, answers in text.\n\n"
        "| Specification | Details |\n"
        "|:--|:--|\n"
        "| **Total Parameters** | 33B |\n"
        "| Activated Parameters | 33B |\n"
        "| Context Window | 128K tokens |\n"
        "| Max Output Tokens | 32,768 |\n"
        "| Quantization | FP8 |\n"
        "| License | Apache 2.0 |\n"
    ),
    "summary": None,
    "model_type": "text_generation",
    "endpoint": "/chat/completions",
    "capabilities": {"input": ["text", "image"], "output": ["text"]},
    "pricing": {
        "method": "per_token",
        "input_cost_per_token": "0.0000002",
        "output_cost_per_token": "0.0000006",
    },
    "developer": {"name": "Qwen", "logo": None},
    "released_at": None,
    "request_schema": None,
    "json_request_schema": json.dumps(
        {
            "type": "object",
            "required": ["messages"],
            "properties": {
                "messages": {"type": "array", "items": {"type": "object"}},
                "temperature": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 2,
                    "default": 0.7,
                    "description": "Sampling temperature.",
                },
                "max_tokens": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "maximum": 32768,
                    "description": "Most tokens to generate.",
                },
                "response_format": {
                    "enum": ["text", "json_object"],
                    "default": "text",
                },
            },
        }
    ),
    "context_length": None,
    "max_output_tokens": None,
}
"""A model object shaped differently from GLM-5's: the request schema as a JSON *string*
under ``json_request_schema``, limits only in a description table whose rows have other names
(Context Window, Max Output Tokens, Total/Activated Parameters, Quantization), prices as
strings and null fields. Not in :data:`CATALOGUE`; enqueue it where a test needs it."""

IMAGE_MODEL: dict[str, Any] = {
    "id": "black-forest-labs-flux-1-dev",
    "object": "model",
    "created": 1722470400,
    "owned_by": "black-forest-labs",
    "display_name": "FLUX.1 [dev]",
    "description": "An image generation model.",
    "summary": "Text-to-image.",
    "model_type": "image_generation",
    "endpoint": "/images/generate",
    "capabilities": {"input": ["text"], "output": ["image"]},
    "pricing": {"method": "per_image", "cost_per_image": 0.025},
    "developer": {"name": "Black Forest Labs"},
    "released_at": "2024-08-01T00:00:00Z",
    "request_schema": {
        "openapi": "3.1.0",
        "paths": {
            "/images/generate": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ImageRequest"}
                            }
                        }
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "ImageRequest": {
                    "type": "object",
                    "required": ["prompt"],
                    "properties": {
                        "prompt": {"type": "string", "description": "What to draw."},
                        "num_images": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 4,
                            "default": 1,
                        },
                        "guidance": {"$ref": "#/components/schemas/Guidance"},
                    },
                },
                "Guidance": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": 20,
                    "default": 3.5,
                },
            }
        },
    },
    "context_length": None,
    "max_output_tokens": None,
}
"""An image model with an OpenAPI-shaped ``request_schema`` (``$ref`` into ``components``).
Not in :data:`CATALOGUE`; for catalogue filters (chat models only) and schema parsing."""

WIDE_CATALOGUE: dict[str, Any] = {
    "object": "list",
    "data": [GLM5_MODEL, LLAMA_MODEL, VISION_MODEL, IMAGE_MODEL],
}
"""A ``GET /models`` body with four differently shaped models (set it as the default)."""


def oxen_error(title: str, detail: str, *, type: str = "error") -> dict[str, Any]:
    """An Oxen-shaped error body: ``{"error": {type, title, detail}, "status": "error", ...}``."""
    return {
        "error": {"type": type, "title": title, "detail": detail},
        "status": "error",
        "status_message": detail,
    }


# --------------------------------------------------------------------------------------------
# Long deterministic Markdown document for benchmarks
# --------------------------------------------------------------------------------------------

_SECTION = '''## {n}. Streaming section number {n}

This is paragraph one of section {n}. It talks about **token streaming**, *incremental \
parsing* and `inline code` so that the renderer has to deal with emphasis, strong text and \
code spans in a single run of prose. The quick brown fox jumps over the lazy dog while the \
terminal repaints at sixty frames per second, and the user scrolls back to read an earlier \
answer.

A second paragraph with a [link to the docs](https://example.com/docs/{n}) and some numbers: \
3.14159, 2.71828, 1.41421. Long prose is the most common thing a chat model produces, so the \
renderer must handle it efficiently even when the paragraph keeps growing one word at a time.

### Things to check in section {n}

- First bullet item with `code` and **bold** text
- Second bullet item that is a little longer than the first one, to force wrapping at 120 \
columns in a typical terminal window
- Third bullet item
  - Nested item A
  - Nested item B with *emphasis*
- Fourth bullet item

1. Ordered step one
2. Ordered step two, which explains something in more detail
3. Ordered step three

```python
def fibonacci_{n}(limit: int) -> list[int]:
    """Return Fibonacci numbers below limit."""
    result = []
    a, b = 0, 1
    while a < limit:
        result.append(a)
        a, b = b, a + b
    return result


class Accumulator{n}:
    def __init__(self) -> None:
        self.total = 0

    def add(self, value: int) -> "Accumulator{n}":
        self.total += value
        return self
```

> A block quote in section {n}: premature optimization is the root of all evil,
> but measuring is not premature.

| Model | Tokens/s | Latency (ms) | Notes |
|-------|---------:|-------------:|-------|
| alpha-{n} | 120 | 250 | fast |
| beta-{n} | 85 | 310 | balanced |
| gamma-{n} | 40 | 120 | *small* |

```bash
for i in $(seq 1 {n}); do
  echo "iteration $i" | tee -a log.txt
done
```

'''

_INTRO = """# A long Markdown answer for rendering benchmarks

Here is a detailed answer. It mixes prose, lists, code blocks and tables, which is what a \
coding assistant typically returns.

"""

_TOKEN_RE = re.compile(r"\n|[ \t]*[A-Za-z]+|[ \t]*[0-9]{1,3}|[ \t]*[^\sA-Za-z0-9]{1,3}|[ \t]+")


def tokenize(text: str) -> list[str]:
    """Split text into LLM-like tokens (~4 chars each); ``"".join(tokenize(t)) == t``.

    Tokens are words with their leading blanks, numbers of up to 3 digits, runs of up to 3
    punctuation characters and single newlines; long words are cut into 6-character pieces.
    """
    out: list[str] = []
    for match in _TOKEN_RE.finditer(text):
        token = match.group(0)
        while len(token) > 7:
            out.append(token[:6])
            token = token[6:]
        out.append(token)
    if "".join(out) != text:  # pragma: no cover - guards the regex against edits
        raise AssertionError("tokenize() lost characters")
    return out


_CODE_INTRO = "Here is the whole generated module in one block:\n\n```python\n"

_CODE_UNIT = '''def handler_{n}(event: dict, limit: int = {n}) -> int:
    """Handle event {n}."""
    total = event.get("count", 0) + limit
    if total > limit * 2:
        return total - {n}
    return total


'''
"""Nine lines of Python, repeated with a growing number: ~8 tokens a line."""

DOCS: tuple[str, ...] = ("prose", "code")
"""Documents :func:`build_tokens` can produce: ``prose`` (the mixed Markdown answer: headings,
paragraphs, lists, code, tables) and ``code`` (one long fenced Python block, ~8 tokens a line,
so 16,000 tokens make a block of about 2,000 lines)."""


def _doc_body(doc: str, body_needed: int) -> list[str]:
    """At least ``body_needed`` tokens of the chosen document, before the end marker."""
    if doc == "code":
        tokens = tokenize(_CODE_INTRO)
        unit = 1
        while len(tokens) < body_needed:
            tokens.extend(tokenize(_CODE_UNIT.format(n=unit)))
            unit += 1
        return tokens
    tokens = tokenize(_INTRO)
    section = 1
    while len(tokens) < body_needed:
        tokens.extend(tokenize(_SECTION.format(n=section)))
        section += 1
    return tokens


@functools.lru_cache(maxsize=16)
def _build_tokens(n_tokens: int, doc: str = "prose") -> tuple[str, ...]:
    if doc not in DOCS:
        raise ValueError(f"unknown document {doc!r} (known: {', '.join(DOCS)})")
    tail = tokenize("\n\n" + END_MARKER + "\n")
    if n_tokens <= len(tail):
        return tuple(tail[len(tail) - n_tokens :]) if n_tokens > 0 else ()
    body_needed = n_tokens - len(tail)
    tokens = _doc_body(doc, body_needed)
    tokens = tokens[:body_needed]
    # A cut inside a fenced code block would put the marker in code: close the fence first.
    if "".join(tokens).count("```") % 2 == 1:
        fence = tokenize("\n```")
        tokens = tokens[: max(0, body_needed - len(fence))] + fence
    return tuple(tokens + tail)


def build_tokens(n: int, doc: str = "prose") -> list[str]:
    """Exactly ``n`` content tokens of a long deterministic Markdown document.

    The ``prose`` document mixes prose, headings, nested lists, fenced code and tables; the
    ``code`` document is one fenced Python block (see :data:`DOCS`). Whatever ``n`` is, the
    text ends with the line ``END-OF-REPLY-7F3A`` outside any fence (for tiny ``n`` only the
    tail of ``"\\n\\nEND-OF-REPLY-7F3A\\n"`` fits).

    Raises:
        ValueError: ``doc`` is not one of :data:`DOCS`.
    """
    return list(_build_tokens(max(0, int(n)), doc))


# --------------------------------------------------------------------------------------------
# SSE helpers
# --------------------------------------------------------------------------------------------


def chunk(
    content: str | None = None,
    *,
    reasoning_content: str | None = None,
    reasoning: str | None = None,
    role: str | None = None,
    finish_reason: str | None = None,
    usage: Mapping[str, Any] | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    with_object: bool = True,
    choices: bool = True,
    model: str = DEFAULT_MODEL,
    id: str = _COMPLETION_ID,
    created: int = _CREATED,
) -> dict[str, Any]:
    """An OpenAI ``chat.completion.chunk`` object.

    Only the delta keys that were passed are set (``content=""`` sets an empty content).
    ``choices=False`` gives ``"choices": []`` (a usage-only chunk; delta arguments are then
    ignored); ``with_object=False`` omits the ``"object"`` key; ``usage`` adds a top-level
    ``"usage"`` object.
    """
    obj: dict[str, Any] = {"id": id}
    if with_object:
        obj["object"] = "chat.completion.chunk"
    obj["created"] = created
    obj["model"] = model
    if choices:
        delta: dict[str, Any] = {}
        if role is not None:
            delta["role"] = role
        if content is not None:
            delta["content"] = content
        if reasoning_content is not None:
            delta["reasoning_content"] = reasoning_content
        if reasoning is not None:
            delta["reasoning"] = reasoning
        if tool_calls is not None:
            delta["tool_calls"] = tool_calls
        obj["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    else:
        obj["choices"] = []
    if usage is not None:
        obj["usage"] = dict(usage)
    return obj


def sse(
    data: Mapping[str, Any] | str,
    *,
    event: str | None = None,
    crlf: bool = False,
    no_space: bool = False,
    split: bool = False,
) -> bytes:
    """One Server-Sent Event as wire bytes, ending with the blank line.

    ``data`` is a dict (serialised as compact JSON) or a str such as ``"[DONE]"`` (a str with
    newlines becomes several ``data:`` lines). ``event`` adds an ``event: <name>`` line first;
    ``crlf`` uses ``\\r\\n`` line endings; ``no_space`` writes ``data:{...}``; ``split`` spreads
    a JSON object over several ``data:`` lines (``json.dumps(indent=1)``, one line each).
    """
    if isinstance(data, str):
        payload_lines = data.split("\n")
    elif split:
        payload_lines = json.dumps(data, indent=1, ensure_ascii=False).split("\n")
    else:
        payload_lines = [json.dumps(data, separators=(",", ":"), ensure_ascii=False)]
    eol = "\r\n" if crlf else "\n"
    prefix = "data:" if no_space else "data: "
    lines = [f"event: {event}"] if event is not None else []
    lines.extend(prefix + line for line in payload_lines)
    return (eol.join(lines) + eol + eol).encode("utf-8")


def comment(text: str = "ping") -> bytes:
    """An SSE comment line (keep-alive ping): ``comment() == b": ping\\n\\n"``."""
    return f": {text}\n\n".encode()


DONE = sse("[DONE]")
"""``b"data: [DONE]\\n\\n"``."""


# --------------------------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it.

    ``path`` has the ``/v1`` prefix and query string stripped (``"/chat/completions"``);
    ``target`` is the raw request target; ``headers`` keys are lower-cased (repeated headers
    are joined with ``", "``); ``conn`` numbers the TCP connection it arrived on (equal
    numbers = keep-alive reuse).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    target: str = ""
    conn: int = 0
    received: float = 0.0
    """``time.monotonic()`` when the whole request had arrived (for latency benchmarks)."""

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Action(enum.Enum):
    """Connection-level actions, usable as :class:`StreamReply` parts or as whole replies."""

    RESET = "reset"
    """Abort the TCP connection with an RST (``SO_LINGER`` (1, 0), then close). Bytes the
    client has not read yet may be discarded by its kernel, so insert a pause before RESET if a
    test must see earlier data."""
    CLOSE = "close"
    """Close the connection cleanly (FIN) without the terminating ``0\\r\\n\\r\\n`` chunk."""
    HANG = "hang"
    """Send nothing more until the client disconnects or the server stops."""


RESET = Action.RESET
CLOSE = Action.CLOSE
HANG = Action.HANG


@dataclass
class JsonReply:
    """A JSON response with ``Content-Length``; ``headers`` override the defaults."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"


@dataclass
class RawReply:
    """Arbitrary body bytes with ``Content-Length`` (e.g. a proxy's HTML error page).

    Set ``headers={"content-length": "999"}`` to lie about the length, or
    ``{"connection": "close"}`` to close the connection after the body.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "text/html; charset=utf-8"


StreamPart: TypeAlias = bytes | str | float | int | Action
"""bytes/str (one HTTP chunk, drained), seconds to sleep, or an :class:`Action`."""


@dataclass
class StreamReply:
    """A streamed body sent with ``Transfer-Encoding: chunked``.

    Each part is: bytes (or str, UTF-8 encoded) written as one HTTP chunk and drained (empty
    parts are skipped - they would terminate the body); an int/float = seconds to sleep (the
    sleep ends early and counts a disconnect if the client goes away); or an :class:`Action`
    (``RESET``, ``CLOSE``, ``HANG``), after which nothing more is sent. Otherwise the
    terminating ``0\\r\\n\\r\\n`` chunk follows the last part.

    ``chunked=False`` sends a close-delimited body instead (no framing, ``Connection: close``,
    the connection is closed after the last part).
    """

    parts: list[StreamPart] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "text/event-stream"
    chunked: bool = True


@dataclass
class StallReply:
    """Wait ``seconds`` before sending anything (no status line yet), then send ``then``.

    ``then=None`` means "whatever the default handler would answer"; ``seconds=math.inf``
    stalls until the client disconnects or the server stops.
    """

    seconds: float
    then: Reply | None = None


@dataclass
class WireReply:
    """Raw bytes written as-is (no status line or headers are added); closes afterwards
    unless ``close=False``. For malformed-HTTP tests. Include ``Connection: close`` in a
    well-formed response, or the client may reuse the (closed) connection for its next
    request."""

    data: bytes
    close: bool = True


Reply: TypeAlias = JsonReply | RawReply | StreamReply | StallReply | WireReply | Action
"""Anything :meth:`LoopbackServer.enqueue` accepts. A bare Action is applied before any
response byte is written (``RESET``: connection reset; ``CLOSE``: empty reply; ``HANG``: no
reply at all)."""

ReplyFactory: TypeAlias = Callable[[RecordedRequest], Reply | None]
"""A callable producing the reply for a request; returning None uses the default handler."""


def stream_of(
    text_tokens: Sequence[str],
    *,
    reasoning_tokens: Sequence[str] = (),
    usage: Mapping[str, Any] | bool | None = None,
    finish_reason: str | None = "stop",
    done: bool = True,
    role_first: bool = True,
    model: str = DEFAULT_MODEL,
) -> StreamReply:
    """A well-formed chat stream, one SSE event per HTTP chunk.

    Events: a role chunk (``{"role": "assistant", "content": ""}``, unless ``role_first`` is
    false), one ``reasoning_content`` chunk per reasoning token, one ``content`` chunk per
    text token, a finish chunk (skipped when ``finish_reason`` is None), a usage-only chunk
    (``choices: []``) when ``usage`` is given (``True`` computes one: prompt 11, completion =
    number of text tokens), and ``data: [DONE]`` when ``done``.
    """
    parts: list[StreamPart] = []
    if role_first:
        parts.append(sse(chunk("", role="assistant", model=model)))
    parts.extend(sse(chunk(reasoning_content=t, model=model)) for t in reasoning_tokens)
    parts.extend(sse(chunk(t, model=model)) for t in text_tokens)
    if finish_reason is not None:
        parts.append(sse(chunk(finish_reason=finish_reason, model=model)))
    if usage is True:
        usage = _usage(len(text_tokens))
    if isinstance(usage, Mapping):
        parts.append(sse(chunk(choices=False, usage=usage, model=model)))
    if done:
        parts.append(DONE)
    return StreamReply(parts)


def tool_call_stream(
    calls: Sequence[tuple[str, str, str]],
    *,
    style: str = "fragments",
    reasoning_tokens: Sequence[str] = (),
    text_tokens: Sequence[str] = (),
    finish_reason: str = "tool_calls",
    pieces: int = 3,
) -> StreamReply:
    """A reply that calls tools: ``calls`` are ``(id, name, arguments JSON text)``.

    ``style="whole"`` sends each call complete in one delta (z.ai); ``"fragments"`` sends a
    first delta with index, id and name, then the arguments in ``pieces`` parts, the calls
    interleaved by index (vLLM / OpenAI, parallel calls). Reasoning and text come first.
    """
    parts: list[StreamPart] = [sse(chunk("", role="assistant"))]
    parts.extend(sse(chunk(reasoning_content=t)) for t in reasoning_tokens)
    parts.extend(sse(chunk(t)) for t in text_tokens)
    if style == "whole":
        for index, (call_id, name, arguments) in enumerate(calls):
            whole = {"id": call_id, "type": "function", "index": index}
            whole["function"] = {"name": name, "arguments": arguments}
            parts.append(sse(chunk(tool_calls=[whole])))
    else:
        for index, (call_id, name, _) in enumerate(calls):
            head = {"index": index, "id": call_id, "type": "function"}
            head["function"] = {"name": name, "arguments": ""}
            parts.append(sse(chunk(tool_calls=[head])))
        size = max(1, max((len(a) for _, _, a in calls), default=1) // pieces + 1)
        for start in range(0, max((len(a) for _, _, a in calls), default=0), size):
            for index, (_, _, arguments) in enumerate(calls):
                piece = arguments[start : start + size]
                if piece:
                    more = {"index": index, "function": {"arguments": piece}}
                    parts.append(sse(chunk(tool_calls=[more])))
    parts.append(sse(chunk(finish_reason=finish_reason)))
    parts.append(DONE)
    return StreamReply(parts)


def _usage(completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": completion_tokens,
        "total_tokens": PROMPT_TOKENS + completion_tokens,
    }


@functools.lru_cache(maxsize=32)
def _content_events(n_tokens: int | None, model: str, doc: str = "prose") -> tuple[bytes, ...]:
    tokens = HELLO_TOKENS if n_tokens is None else _build_tokens(n_tokens, doc)
    return tuple(sse(chunk(t, model=model)) for t in tokens)


# --------------------------------------------------------------------------------------------
# Connection plumbing
# --------------------------------------------------------------------------------------------


class _ClientGone(Exception):
    """The peer disconnected before the reply was complete."""


class _BadRequest(Exception):
    """The request could not be parsed."""


class _Conn:
    """One client connection: a background pump buffers everything the client sends, so the
    server notices EOF (a disconnect) at any time without a read racing the request parser."""

    def __init__(self, number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.number = number
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()
        self.eof = asyncio.Event()
        self._data = asyncio.Event()
        self.pump_task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                self.buf += data
                self._data.set()
        except (ConnectionError, OSError):
            pass
        finally:
            self.eof.set()
            self._data.set()

    async def _more(self) -> None:
        if self.eof.is_set():
            raise _ClientGone
        self._data.clear()
        await self._data.wait()

    async def read_until(self, sep: bytes, limit: int = 1 << 20) -> bytes:
        while True:
            index = self.buf.find(sep)
            if index >= 0:
                end = index + len(sep)
                data = bytes(self.buf[:end])
                del self.buf[:end]
                return data
            if len(self.buf) > limit:
                raise _BadRequest("header section too long")
            await self._more()

    async def read_exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            await self._more()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    async def send(self, data: bytes) -> None:
        """Write and drain (write buffer limits are 0: drained = handed to the kernel)."""
        if self.eof.is_set() or self.writer.transport.is_closing():
            raise _ClientGone
        self.writer.write(data)
        try:
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            raise _ClientGone from exc

    async def pause(self, seconds: float) -> None:
        """Sleep, raising _ClientGone as soon as the client disconnects."""
        if self.eof.is_set():
            raise _ClientGone
        timeout = None if math.isinf(seconds) else max(0.0, seconds)
        try:
            await asyncio.wait_for(self.eof.wait(), timeout)
        except TimeoutError:
            return
        raise _ClientGone

    def reset(self) -> None:
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


def _frame(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _head(status: int, defaults: Mapping[str, str], extra: Mapping[str, str]) -> bytes:
    merged: dict[str, tuple[str, str]] = {}
    for name, value in itertools.chain(defaults.items(), extra.items()):
        merged[name.lower()] = (name, str(value))
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines.extend(f"{name}: {value}" for name, value in merged.values())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _wants_close(headers: Mapping[str, str]) -> bool:
    return any(k.lower() == "connection" and "close" in v.lower() for k, v in headers.items())


def _route_path(target: str) -> str:
    path = urllib.parse.urlsplit(target).path or "/"
    if path == "/v1" or path.startswith("/v1/"):
        path = path[3:] or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class LoopbackServer:
    """Scripted HTTP/1.1 server on 127.0.0.1, running its own asyncio loop in a daemon thread.

    All public methods are thread-safe and may be called from any thread (including from
    inside another event loop). ``start()`` takes a few milliseconds.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        default_tokens: int | None = None,
        default_rate: float = 0.0,
        verbose: bool = False,
        tool_calls: Sequence[tuple[str, str]] = (),
        tool_style: str = "fragments",
    ) -> None:
        """``default_tokens``/``default_rate`` apply when a chat request has no
        ``x_tokens``/``x_rate`` (None = the short hello reply); ``verbose`` logs requests to
        stderr. With ``tool_calls`` (``(name, arguments JSON)``), a default reply to a request
        that offers tools and ends with the user's prompt calls them (in ``tool_style``, see
        :func:`tool_call_stream`), and one that ends with tool results quotes them."""
        self._requested_port = port
        self.default_tokens = default_tokens
        self.default_rate = default_rate
        self.verbose = verbose
        self.tool_calls = list(tool_calls)
        self.tool_style = tool_style
        self._call_numbers = itertools.count(1)
        self._port: int | None = None
        self._cond = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._disconnects = 0
        self._queues: dict[str, deque[Reply | ReplyFactory]] = {}
        self._defaults: dict[str, Reply | ReplyFactory] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._conn_tasks: set[asyncio.Task[None]] = set()
        self._conn_numbers = itertools.count(1)
        self._timelines: dict[str, list[tuple[float, int]]] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LoopbackServer:
        """Bind and start serving; returns self. Raises RuntimeError if already started."""
        if self._thread is not None:
            raise RuntimeError("LoopbackServer already started")
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        thread = threading.Thread(target=run, name="loopback-server", daemon=True)
        thread.start()
        ready.wait()
        self._loop, self._thread = loop, thread
        try:
            future = asyncio.run_coroutine_threadsafe(self._astart(), loop)
            self._port = future.result(timeout=10)
        except BaseException:
            self._shutdown_loop()
            raise
        return self

    def stop(self) -> None:
        """Close the listener and every connection (HANG/stalled replies included) and join
        the thread. Idempotent; returns promptly."""
        loop = self._loop
        if loop is None:
            return
        if not loop.is_closed() and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._astop(), loop)
            with contextlib.suppress(Exception):
                future.result(timeout=5)
        self._shutdown_loop()

    def _shutdown_loop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)
        if loop is not None and not loop.is_closed() and not loop.is_running():
            loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> LoopbackServer:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port (an ephemeral one unless a port was given)."""
        if self._port is None:
            raise RuntimeError("LoopbackServer not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:{port}/v1`` - what an OpenAI client takes as its base URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    def url(self, path: str = "") -> str:
        """Absolute URL for a route: ``url("/models")`` -> ``http://127.0.0.1:{port}/v1/models``."""
        if path and not path.startswith("/"):
            path = "/" + path
        return self.base_url + path

    # -- scripting ---------------------------------------------------------------------------

    def enqueue(
        self, reply: Reply | ReplyFactory, path: str = "/chat/completions"
    ) -> LoopbackServer:
        """Queue a reply (FIFO) for the next request to ``path`` (``/v1`` prefix optional; any
        method). A callable is called with the :class:`RecordedRequest` and returns the reply
        (None = default handler). Returns self so calls can be chained."""
        with self._cond:
            self._queues.setdefault(_route_path(path), deque()).append(reply)
        return self

    def set_default(
        self, reply: Reply | ReplyFactory | None, path: str = "/chat/completions"
    ) -> None:
        """Replace the built-in default handler for ``path`` (used whenever its queue is
        empty); None restores the built-in one."""
        with self._cond:
            if reply is None:
                self._defaults.pop(_route_path(path), None)
            else:
                self._defaults[_route_path(path)] = reply

    def pending(self, path: str = "/chat/completions") -> int:
        """How many queued replies for ``path`` have not been used yet."""
        with self._cond:
            return len(self._queues.get(_route_path(path), ()))

    def clear(self) -> None:
        """Forget recorded requests, the disconnect count, queued replies and set defaults."""
        with self._cond:
            self._requests.clear()
            self._disconnects = 0
            self._queues.clear()
            self._defaults.clear()

    # -- recording ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._cond:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Only the ``POST /chat/completions`` requests."""
        return [r for r in self.requests if r.method == "POST" and r.path == "/chat/completions"]

    @property
    def disconnects(self) -> int:
        """How many times a client went away before its reply was complete (mid-stream,
        during a stall or a HANG)."""
        with self._cond:
            return self._disconnects

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``n`` requests arrived; returns the snapshot. Raises
        TimeoutError otherwise."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._requests) >= n, timeout):
                raise TimeoutError(
                    f"expected {n} request(s) within {timeout}s, got {len(self._requests)}"
                )
            return list(self._requests)

    def wait_for_disconnects(self, n: int = 1, timeout: float = 5.0) -> int:
        """Block until at least ``n`` mid-reply disconnects happened; returns the count.
        Raises TimeoutError otherwise."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._disconnects >= n, timeout):
                raise TimeoutError(
                    f"expected {n} disconnect(s) within {timeout}s, got {self._disconnects}"
                )
            return self._disconnects

    async def async_wait_for_requests(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - thin wrapper, mirrors the sync API
    ) -> list[RecordedRequest]:
        """:meth:`wait_for_requests` for async tests (waits in a worker thread)."""
        return await asyncio.to_thread(self.wait_for_requests, n, timeout)

    async def async_wait_for_disconnects(
        self,
        n: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - thin wrapper, mirrors the sync API
    ) -> int:
        """:meth:`wait_for_disconnects` for async tests (waits in a worker thread)."""
        return await asyncio.to_thread(self.wait_for_disconnects, n, timeout)

    # -- loop-thread internals -----------------------------------------------------------------

    async def _astart(self) -> int:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self._requested_port, reuse_address=True
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def _astop(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._conn_tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()
        if self.verbose:
            print(
                f"{time.strftime('%H:%M:%S')} #{request.conn} {request.method} "
                f"{request.target} {len(request.body)}B",
                file=sys.stderr,
                flush=True,
            )

    def _note_disconnect(self) -> None:
        with self._cond:
            self._disconnects += 1
            self._cond.notify_all()

    def _take(self, request: RecordedRequest) -> Reply | None:
        with self._cond:
            queue = self._queues.get(request.path)
            item = queue.popleft() if queue else self._defaults.get(request.path)
        if callable(item):  # a ReplyFactory (replies and Actions are not callable)
            return item(request)
        return item

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conn_tasks.add(task)
        writer.transport.set_write_buffer_limits(high=0)
        conn = _Conn(next(self._conn_numbers), reader, writer)
        aborted = False
        try:
            while True:
                try:
                    request, keep_alive = await self._read_request(conn)
                except _ClientGone:
                    break
                except _BadRequest as exc:
                    error = oxen_error("Bad request", str(exc), type="bad_request")
                    with contextlib.suppress(_ClientGone):
                        await self._send_simple(
                            conn, JsonReply(400, error, {"connection": "close"})
                        )
                    break
                self._record(request)
                try:
                    keep = await self._respond(conn, request, self._take(request))
                except _ClientGone:
                    self._note_disconnect()
                    break
                if not (keep and keep_alive):
                    break
        except asyncio.CancelledError:
            # Only stop() cancels handlers. Swallowed on purpose: asyncio's start_server
            # callback calls task.exception(), which would log a cancelled task as an error.
            aborted = True
        except Exception as exc:  # pragma: no cover - a bug here or in a ReplyFactory
            print(f"loopback server error: {exc!r}", file=sys.stderr)
            aborted = True
        finally:
            conn.pump_task.cancel()
            if aborted:
                writer.transport.abort()
            elif not writer.transport.is_closing():
                writer.close()
            with contextlib.suppress(BaseException):
                await conn.pump_task
            self._conn_tasks.discard(task)

    async def _read_request(self, conn: _Conn) -> tuple[RecordedRequest, bool]:
        head = await conn.read_until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        while lines and not lines[0]:  # tolerate stray CRLFs between requests
            lines.pop(0)
        try:
            method, target, version = lines[0].split(" ", 2)
        except (IndexError, ValueError) as exc:
            raise _BadRequest(f"bad request line {lines[:1]!r}") from exc
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" not in line:
                continue
            name, value = line.split(":", 1)
            key, value = name.strip().lower(), value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if headers.get("expect", "").lower() == "100-continue":
            await conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size_line = await conn.read_until(b"\r\n")
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError as exc:
                    raise _BadRequest(f"bad chunk size {size_line!r}") from exc
                if size == 0:
                    while await conn.read_until(b"\r\n") != b"\r\n":  # trailers
                        pass
                    break
                parts.append(await conn.read_exactly(size))
                await conn.read_exactly(2)
            body = b"".join(parts)
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError as exc:
                raise _BadRequest("bad content-length") from exc
            body = await conn.read_exactly(length)
        connection = headers.get("connection", "").lower()
        if version.upper() == "HTTP/1.0":
            keep_alive = "keep-alive" in connection
        else:
            keep_alive = "close" not in connection
        request = RecordedRequest(
            method=method.upper(),
            path=_route_path(target),
            headers=headers,
            body=body,
            target=target,
            conn=conn.number,
            received=time.monotonic(),
        )
        return request, keep_alive

    async def _respond(self, conn: _Conn, request: RecordedRequest, reply: Reply | None) -> bool:
        """Send one reply; returns whether the connection may be reused."""
        if reply is None:
            return await self._default(conn, request)
        if isinstance(reply, Action):
            return await self._act(conn, reply)
        if isinstance(reply, StallReply):
            await conn.pause(reply.seconds)
            return await self._respond(conn, request, reply.then)
        if isinstance(reply, WireReply):
            if reply.data:
                await conn.send(reply.data)
            if reply.close:
                await conn.close()
            return not reply.close
        if isinstance(reply, StreamReply):
            return await self._send_stream(conn, reply)
        return await self._send_simple(conn, reply)

    async def _act(self, conn: _Conn, action: Action) -> bool:
        if action is Action.RESET:
            conn.reset()
        elif action is Action.CLOSE:
            await conn.close()
        else:
            await conn.pause(math.inf)  # HANG: returns only by _ClientGone or cancellation
        return False

    async def _send_simple(self, conn: _Conn, reply: JsonReply | RawReply) -> bool:
        if isinstance(reply, JsonReply):
            body = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        else:
            body = reply.body
        defaults = {"Content-Length": str(len(body))}
        if reply.content_type is not None:
            defaults = {"Content-Type": reply.content_type, **defaults}
        await conn.send(_head(reply.status, defaults, reply.headers) + body)
        return not _wants_close(reply.headers)

    async def _send_stream(self, conn: _Conn, reply: StreamReply) -> bool:
        defaults = {"Cache-Control": "no-cache"}
        if reply.content_type is not None:
            defaults = {"Content-Type": reply.content_type, **defaults}
        if reply.chunked:
            defaults["Transfer-Encoding"] = "chunked"
        else:
            defaults["Connection"] = "close"
        await conn.send(_head(reply.status, defaults, reply.headers))
        for part in reply.parts:
            if isinstance(part, Action):
                return await self._act(conn, part)
            if isinstance(part, (int, float)) and not isinstance(part, bool):
                await conn.pause(float(part))
                continue
            data = part.encode("utf-8") if isinstance(part, str) else bytes(part)
            if data:
                await conn.send(_frame(data) if reply.chunked else data)
        if not reply.chunked:
            await conn.close()
            return False
        await conn.send(b"0\r\n\r\n")
        return not _wants_close(reply.headers)

    # -- default handlers ----------------------------------------------------------------------

    async def _default(self, conn: _Conn, request: RecordedRequest) -> bool:
        path, method = request.path, request.method
        if path == "/chat/completions" and method == "POST":
            return await self._default_chat(conn, request)
        if path == "/models" and method == "GET":
            return await self._send_simple(conn, JsonReply(200, CATALOGUE))
        if path.startswith("/models/") and method == "GET":
            model_id = urllib.parse.unquote(path[len("/models/") :])
            for model in CATALOGUE["data"]:
                if model["id"] == model_id:
                    return await self._send_simple(conn, JsonReply(200, model))
            error = oxen_error(
                "Model not found", f"No model with id {model_id!r}", type="not_found"
            )
            return await self._send_simple(conn, JsonReply(404, error))
        if path.startswith("/x/timeline/") and method == "GET":
            trace = urllib.parse.unquote(path[len("/x/timeline/") :])
            sends = self._timelines.pop(trace, None)  # only ever touched in the loop thread
            if sends is not None:
                return await self._send_simple(
                    conn, JsonReply(200, {"trace": trace, "sends": sends})
                )
        error = oxen_error("Not found", f"No route for {method} {request.target}", type="not_found")
        return await self._send_simple(conn, JsonReply(404, error))

    async def _default_chat(self, conn: _Conn, request: RecordedRequest) -> bool:
        try:
            body = request.json()
            if not isinstance(body, dict):
                raise ValueError("body is not a JSON object")
            n_tokens = body.get("x_tokens", self.default_tokens)
            n_tokens = None if n_tokens is None else int(n_tokens)
            rate = float(body.get("x_rate", self.default_rate) or 0.0)
            doc = str(body.get("x_doc") or "prose")
            trace = body.get("x_trace")
            if doc not in DOCS:
                raise ValueError(f"unknown x_doc {doc!r} (known: {', '.join(DOCS)})")
        except (ValueError, TypeError) as exc:
            error = oxen_error("Bad request", f"invalid request body: {exc}", type="bad_request")
            return await self._send_simple(conn, JsonReply(400, error))
        model = str(body.get("model") or DEFAULT_MODEL)
        scripted = self._scripted_tool_turn(body)
        if scripted is not None:
            return await self._respond(conn, request, scripted)
        tokens = HELLO_TOKENS if n_tokens is None else _build_tokens(n_tokens, doc)
        if not body.get("stream"):
            completion = {
                "id": _COMPLETION_ID,
                "object": "chat.completion",
                "created": _CREATED,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": "".join(tokens),
                            "reasoning_content": "".join(HELLO_REASONING_TOKENS),
                        },
                        "finish_reason": "stop",
                    }
                ],
                "usage": _usage(len(tokens)),
            }
            return await self._send_simple(conn, JsonReply(200, completion))

        head = {
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "Transfer-Encoding": "chunked",
        }
        await conn.send(_head(200, head, {}))
        await conn.send(_frame(sse(chunk("", role="assistant", model=model))))
        for token in HELLO_REASONING_TOKENS:
            await conn.send(_frame(sse(chunk(reasoning_content=token, model=model))))
        events = _content_events(n_tokens, model, doc)
        # x_trace: note when each write left (time.monotonic(), content characters sent so far),
        # for GET /x/timeline/<trace>. On loopback a write lands in the client's socket at once.
        timeline: list[tuple[float, int]] | None = None
        sent_chars: list[int] = []
        if trace is not None:
            timeline = self._timelines[str(trace)] = []
            sent_chars = [0, *itertools.accumulate(len(t) for t in tokens)]
        loop = asyncio.get_running_loop()
        start = loop.time()
        batch: list[bytes] = []
        for i, event in enumerate(events):
            batch.append(event)
            if rate > 0:
                delay = start + (i + 1) / rate - loop.time()
                if delay > 0:  # behind schedule: keep batching until we catch up
                    await conn.send(_frame(b"".join(batch)))
                    if timeline is not None:
                        timeline.append((time.monotonic(), sent_chars[i + 1]))
                    batch.clear()
                    await conn.pause(delay)
            elif len(batch) >= _FAST_BATCH:
                await conn.send(_frame(b"".join(batch)))
                if timeline is not None:
                    timeline.append((time.monotonic(), sent_chars[i + 1]))
                batch.clear()
        tail = [*batch, sse(chunk(finish_reason="stop", model=model))]
        if (body.get("stream_options") or {}).get("include_usage"):
            tail.append(sse(chunk(choices=False, usage=_usage(len(events)), model=model)))
        tail.append(DONE)
        await conn.send(_frame(b"".join(tail)) + b"0\r\n\r\n")
        if timeline is not None:
            timeline.append((time.monotonic(), sent_chars[-1]))
        return True

    def _scripted_tool_turn(self, body: dict[str, Any]) -> StreamReply | None:
        """With ``tool_calls`` set: the calls, for a prompt when tools are offered; a quote
        of the results, after them. None: the usual default reply."""
        messages = body.get("messages") or [{}]
        if not self.tool_calls or not body.get("tools") or not body.get("stream"):
            return None
        last = messages[-1] if isinstance(messages[-1], dict) else {}
        if last.get("role") == "user":
            turn = next(self._call_numbers)
            calls = [
                (f"call_{turn}_{n}", name, arguments)
                for n, (name, arguments) in enumerate(self.tool_calls)
            ]
            return tool_call_stream(
                calls, style=self.tool_style, reasoning_tokens=["I will ", "use the tools."]
            )
        if last.get("role") == "tool":
            results = [m for m in messages if isinstance(m, dict) and m.get("role") == "tool"]
            quoted = [str(m.get("content", ""))[:300] for m in results[-len(self.tool_calls) :]]
            text = "The tools said:\n\n" + "\n\n".join(f"> {q}" for q in quoted)
            return stream_of(tokenize(text))
        return None


def main(argv: Sequence[str] | None = None) -> None:
    """Run the server in the foreground (for manual testing, e.g. in tmux) until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.server",
        description="Loopback OpenAI-compatible chat API for manual testing.",
    )
    parser.add_argument("--port", type=int, default=8765, help="TCP port (0 = ephemeral)")
    parser.add_argument(
        "--tokens",
        type=int,
        default=None,
        help="content tokens per chat reply when the request has no x_tokens "
        "(default: the short hello reply)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="content chunks per second when the request has no x_rate (0 = as fast as possible)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    parser.add_argument(
        "--tool-call",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="answer a prompt that comes with tools by calling NAME with these arguments "
        "(repeat for parallel calls); answer the results by quoting them",
    )
    parser.add_argument(
        "--tool-style",
        choices=("fragments", "whole"),
        default="fragments",
        help="tool-call deltas as vLLM/OpenAI send them (fragments) or as z.ai does (whole)",
    )
    args = parser.parse_args(argv)
    calls = [tuple(spec.split("=", 1)) if "=" in spec else (spec, "{}") for spec in args.tool_call]
    server = LoopbackServer(
        args.port,
        default_tokens=args.tokens,
        default_rate=args.rate,
        verbose=not args.quiet,
        tool_calls=calls,  # type: ignore[arg-type]
        tool_style=args.tool_style,
    )
    server.start()
    print(
        f"listening on {server.base_url} (models: {', '.join(m['id'] for m in CATALOGUE['data'])}; "
        f"tokens={args.tokens or 'hello'} rate={args.rate or 'max'}) - Ctrl-C to stop",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
