"""The offline demo backend: an httpx transport that answers like a GLM-5 server.

``--demo`` (or choosing the demo on first run) plugs :class:`DemoTransport` into the real
:class:`~glmtui.api.client.ChatClient`, so the demo exercises the same SSE parsing, reasoning
split, usage accounting and error paths as a live provider, with no network and no key.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import httpx

from glmtui.api.models import BUILTIN_GLM5, GLM5_ID

DEMO_BASE_URL = "http://demo.glmtui.invalid/v1"
"""The base URL the demo client uses; nothing ever resolves it, the transport answers."""

DEMO_MODELS: list[dict[str, Any]] = [
    {
        **BUILTIN_GLM5,
        "pricing": {
            "method": "per_token",
            "input_cost_per_token": 0.000001,
            "output_cost_per_token": 0.0000032,
        },
    },
    {
        "id": "zai-org-glm-4.7-flash",
        "object": "model",
        "created": 1766000000,
        "owned_by": "zai-org",
        "display_name": "GLM-4.7 Flash",
        "summary": "A small, fast GLM for quick questions (demo catalogue entry).",
        "description": (
            "A lightweight GLM model for fast answers.\n\n"
            "| Metric | Value |\n|---|---|\n"
            "| Parameter Count | 30 Billion |\n| Mixture of Experts | Yes |\n"
            "| Active Parameter Count | 3 Billion |\n| Context Length | 128,000 |\n"
        ),
        "model_type": "text_generation",
        "capabilities": {"input": ["text"], "output": ["text"]},
        "pricing": {
            "method": "per_token",
            "input_cost_per_token": 0.00000007,
            "output_cost_per_token": 0.0000004,
        },
        "developer": {"name": "Z.ai"},
        "released_at": "2025-12-22T00:00:00Z",
        "context_length": 128_000,
        "max_output_tokens": None,
    },
]
"""What ``GET /models`` returns in demo mode."""

_TOKEN = re.compile(r"\n|[ \t]*[A-Za-z]+|[ \t]*[0-9]{1,3}|[ \t]*[^\sA-Za-z0-9]{1,3}|[ \t]+")


def tokenize(text: str) -> list[str]:
    """Split text into LLM-sized pieces (words with their leading space, punctuation, newlines)."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        while len(token) > 7:
            tokens.append(token[:6])
            token = token[6:]
        tokens.append(token)
    return tokens


def _topic(prompt: str) -> str:
    line = " ".join(prompt.split())
    return line if len(line) <= 70 else line[:69].rstrip() + "…"


def demo_reasoning(prompt: str) -> str:
    """GLM-style thinking for a prompt."""
    topic = _topic(prompt) or "an empty prompt"
    return (
        f'The user wrote: "{topic}". This is the offline demo, so there is no real model '
        "behind this answer. I should still answer the way GLM-5 would: think first, then reply "
        "in Markdown.\n\nA good demo shows what the client can render: a short list, a table "
        "and a fenced code block, so the user can see highlighting, tables and the reasoning "
        "section working. I will also explain how to connect to a real GLM-5 endpoint."
    )


def demo_answer(prompt: str) -> str:
    """A Markdown answer that shows off lists, a table and fenced code."""
    lowered = prompt.lower()
    if any(word in lowered for word in ("code", "python", "function", "script")):
        return _CODE_ANSWER
    return _GENERAL_ANSWER.format(topic=_topic(prompt).replace("`", "'") or "(empty prompt)")


_GENERAL_ANSWER = """\
You asked: `{topic}`

This reply comes from glmtui's **offline demo**. It streams over the same wire format as a real
GLM-5 server, so everything you see here works the same way when you connect for real.

## What you can try

- Press **Esc** while a reply streams to stop it; the partial text is kept.
- Scroll up while it streams: the view stops following until you return to the bottom.
- The reasoning section above this answer folds away once the answer starts.

| Feature | Demo | Live GLM-5 |
|---|---|---|
| Streaming Markdown | yes | yes |
| Separate reasoning | simulated | real |
| Context window | 200,000 tokens | 200,000 tokens |

## Connect to GLM-5

```bash
export OXEN_API_KEY=...   # from https://www.oxen.ai/settings/profile
glmtui
```

Ask for *code* to see a longer highlighted example.
"""

_CODE_ANSWER = """\
Here is a small, complete example: an async client that streams a chat reply from an
OpenAI-compatible server such as Oxen.ai.

```python
import asyncio
import json
import os

import httpx


async def stream_reply(prompt: str) -> str:
    \"\"\"Stream GLM-5's answer to stdout and return it.\"\"\"
    body = {
        "model": "zai-org-glm-5",
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {os.environ['OXEN_API_KEY']}"}
    parts: list[str] = []
    async with httpx.AsyncClient(timeout=120) as client:
        async with client.stream(
            "POST", "https://hub.oxen.ai/api/ai/chat/completions", json=body, headers=headers
        ) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data:") or line.endswith("[DONE]"):
                    continue
                delta = json.loads(line[5:])["choices"][0]["delta"]
                text = delta.get("content") or ""
                print(text, end="", flush=True)
                parts.append(text)
    return "".join(parts)


if __name__ == "__main__":
    asyncio.run(stream_reply("Explain Rust lifetimes in three sentences."))
```

How it works:

1. `client.stream` keeps the connection open while the server sends events.
2. Each `data:` line holds one JSON chunk with a `delta`.
3. The final `data: [DONE]` line ends the stream.

| Part | Why it matters |
|---|---|
| `timeout=120` | GLM-5 may think for a while before the first token |
| `flush=True` | text appears as it arrives |

In real code, also read `delta["reasoning_content"]` to show GLM's thinking separately.
"""


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _estimate_prompt_tokens(body: dict[str, Any]) -> int:
    text = json.dumps(body.get("messages") or [])
    return max(1, len(text) // 4)


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    payload = {
        "id": "chatcmpl-demo",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


class _PacedStream(httpx.AsyncByteStream):
    """SSE bytes released at a steady token rate, like a model generating."""

    def __init__(self, events: list[bytes], pace: float) -> None:
        self._events = events
        self._pace = pace

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._pace <= 0:
            yield b"".join(self._events)
            return
        interval = 1.0 / self._pace
        start = time.monotonic()
        batch: list[bytes] = []
        for index, event in enumerate(self._events):
            batch.append(event)
            delay = start + index * interval - time.monotonic()
            if delay > 0:
                yield b"".join(batch)
                batch.clear()
                await asyncio.sleep(delay)
        if batch:
            yield b"".join(batch)

    async def aclose(self) -> None:
        self._events = []


class DemoTransport(httpx.AsyncBaseTransport):
    """Answers chat and model requests locally, in the OpenAI wire format.

    Args:
        pace: Tokens per second for streamed replies (0 sends everything at once).
    """

    def __init__(self, pace: float = 60.0) -> None:
        self.pace = pace

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rstrip("/")
        if request.method == "POST" and path.endswith("/chat/completions"):
            try:
                body = json.loads(await request.aread() or b"{}")
            except ValueError:
                return _json(400, {"error": {"message": "Request body is not JSON."}})
            return self._chat(body)
        if request.method in ("GET", "HEAD") and path.endswith("/models"):
            return _json(200, {"object": "list", "data": DEMO_MODELS})
        raw_path = request.url.raw_path.decode("ascii").split("?", 1)[0]
        if request.method == "GET" and "/models/" in raw_path:
            # From the raw path: an id is one encoded segment, and "/" inside it is "%2F".
            model_id = unquote(raw_path.split("/models/", 1)[1])
            for model in DEMO_MODELS:
                if model["id"] == model_id:
                    return _json(200, model)
            return _json(
                404,
                {
                    "error": {
                        "type": "not_found",
                        "title": "Model not found",
                        "detail": f"No model named '{model_id}'.",
                    }
                },
            )
        return _json(404, {"error": {"message": f"No route for {request.method} {path}."}})

    def _chat(self, body: dict[str, Any]) -> httpx.Response:
        model = str(body.get("model") or GLM5_ID)
        prompt = _last_user_text(body)
        reasoning, answer = demo_reasoning(prompt), demo_answer(prompt)
        reasoning_tokens, answer_tokens = tokenize(reasoning), tokenize(answer)
        max_tokens = body.get("max_tokens")
        finish = "stop"
        if isinstance(max_tokens, int) and max_tokens > 0:
            budget = max(0, max_tokens - len(reasoning_tokens))
            if budget < len(answer_tokens):
                answer_tokens, finish = answer_tokens[:budget], "length"
        prompt_count = _estimate_prompt_tokens(body)
        completion_count = len(reasoning_tokens) + len(answer_tokens)
        usage = {
            "prompt_tokens": prompt_count,
            "completion_tokens": completion_count,
            "total_tokens": prompt_count + completion_count,
            "completion_tokens_details": {"reasoning_tokens": len(reasoning_tokens)},
        }
        if not body.get("stream"):
            return _json(
                200,
                {
                    "id": "chatcmpl-demo",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": "".join(answer_tokens),
                                "reasoning_content": reasoning,
                            },
                            "finish_reason": finish,
                        }
                    ],
                    "usage": usage,
                },
            )
        events = [_chunk(model, {"role": "assistant", "content": ""})]
        events += [_chunk(model, {"reasoning_content": t}) for t in reasoning_tokens]
        events += [_chunk(model, {"content": t}) for t in answer_tokens]
        events.append(_chunk(model, {}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            tail = {
                "id": "chatcmpl-demo",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [],
                "usage": usage,
            }
            events.append(b"data: " + json.dumps(tail).encode() + b"\n\n")
        events.append(b"data: [DONE]\n\n")
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            stream=_PacedStream(events, self.pace),
        )


def _json(status: int, payload: Any) -> httpx.Response:
    return httpx.Response(status, json=payload)
