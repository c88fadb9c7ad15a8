"""Self-checks for the loopback test server: if these fail, every API test is suspect."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server import (
    CATALOGUE,
    CLOSE,
    DONE,
    END_MARKER,
    GLM5_MODEL,
    HANG,
    RESET,
    JsonReply,
    LoopbackServer,
    RawReply,
    StallReply,
    StreamReply,
    WireReply,
    build_tokens,
    chunk,
    comment,
    sse,
    stream_of,
)

# The `server` fixture comes from tests/fixtures_server.py, re-exported by tests/conftest.py.


@pytest.fixture
def client(server: LoopbackServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=5.0) as c:
        yield c


def parse_sse(raw: bytes) -> list[str]:
    """The ``data`` payload of each event in a (LF-only) SSE byte stream."""
    events = []
    for block in raw.decode().split("\n\n"):
        lines = [ln[5:].removeprefix(" ") for ln in block.split("\n") if ln.startswith("data:")]
        if lines:
            events.append("\n".join(lines))
    return events


def deltas(events: list[str], key: str) -> str:
    out = ""
    for data in events:
        if data == "[DONE]":
            continue
        for choice in json.loads(data)["choices"]:
            out += choice["delta"].get(key) or ""
    return out


def test_default_stream_is_valid_sse_with_usage_and_done(
    server: LoopbackServer, client: httpx.Client
) -> None:
    body = {"model": "zai-org-glm-5", "stream": True, "stream_options": {"include_usage": True}}
    response = client.post("/chat/completions", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["transfer-encoding"] == "chunked"
    events = parse_sse(response.content)
    assert events[-1] == "[DONE]"
    chunks: list[dict[str, Any]] = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert deltas(events, "reasoning_content") == "Thinking briefly."
    assert deltas(events, "content") == "Hello from the loopback server."
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16}
    # Without include_usage there is no usage chunk.
    plain = parse_sse(client.post("/chat/completions", json={"stream": True}).content)
    assert all("usage" not in json.loads(e) for e in plain[:-1])
    # Both requests used one keep-alive connection.
    first, second = server.wait_for_requests(2)
    assert first.conn == second.conn


def test_default_non_stream_completion(client: httpx.Client) -> None:
    data = client.post("/chat/completions", json={"model": "m"}).json()
    assert data["object"] == "chat.completion"
    assert data["model"] == "m"
    assert data["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hello from the loopback server.",
        "reasoning_content": "Thinking briefly.",
    }
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["usage"]["completion_tokens"] == 5


def test_x_tokens_document_streamed_and_plain(client: httpx.Client) -> None:
    tokens = build_tokens(300)
    assert len(tokens) == 300
    assert "".join(tokens).rstrip("\n").endswith("\n" + END_MARKER)
    body = {"stream": True, "x_tokens": 300, "x_rate": 0}
    events = parse_sse(client.post("/chat/completions", json=body).content)
    assert deltas(events, "content") == "".join(tokens)
    plain = client.post("/chat/completions", json={"x_tokens": 300}).json()
    assert plain["choices"][0]["message"]["content"] == "".join(tokens)


def test_enqueued_429_with_retry_after_then_default(
    server: LoopbackServer, client: httpx.Client
) -> None:
    server.enqueue(JsonReply(429, {"error": {"message": "slow down"}}, {"retry-after": "1"}))
    limited = client.post("/chat/completions", json={"stream": True})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    assert limited.json() == {"error": {"message": "slow down"}}
    assert server.pending() == 0
    assert client.post("/chat/completions", json={}).status_code == 200


def test_enqueue_fifo_raw_and_factory(server: LoopbackServer, client: httpx.Client) -> None:
    server.enqueue(RawReply(502, b"<html>Bad gateway</html>"))
    server.enqueue(lambda req: JsonReply(200, {"echo": req.json()["n"]}))
    server.enqueue(stream_of(["a", "b"], reasoning_tokens=["r"], usage=True))
    bad = client.post("/chat/completions", json={"n": 0})
    assert (bad.status_code, bad.text) == (502, "<html>Bad gateway</html>")
    assert bad.headers["content-type"].startswith("text/html")
    assert client.post("/chat/completions", json={"n": 7}).json() == {"echo": 7}
    events = parse_sse(client.post("/chat/completions", json={"n": 1}).content)
    assert deltas(events, "content") == "ab"
    assert deltas(events, "reasoning_content") == "r"
    assert events[-1] == "[DONE]"


def test_requests_recorded_with_headers_and_body(
    server: LoopbackServer, client: httpx.Client
) -> None:
    client.post("/chat/completions", json={"x": 1}, headers={"Authorization": "Bearer k"})

    def body_chunks() -> Iterator[bytes]:  # no length known: httpx sends a chunked body
        yield b'{"model":'
        yield b' "glm"}'

    client.post("/chat/completions", content=body_chunks())
    client.get("/models")
    first, second, third = server.wait_for_requests(3)
    assert (first.method, first.path, first.json()) == ("POST", "/chat/completions", {"x": 1})
    assert first.headers["authorization"] == "Bearer k"
    assert first.headers["content-type"] == "application/json"
    assert second.headers["transfer-encoding"] == "chunked"
    assert second.body == b'{"model": "glm"}'
    assert (third.method, third.path, third.target) == ("GET", "/models", "/v1/models")
    assert server.chat_requests == [first, second]


def test_wait_for_requests_times_out(server: LoopbackServer) -> None:
    with pytest.raises(TimeoutError):
        server.wait_for_requests(1, timeout=0.01)


def test_models_catalogue_and_lookup(client: httpx.Client) -> None:
    assert client.get("/models").json() == CATALOGUE
    assert client.get("/models/zai-org-glm-5").json() == GLM5_MODEL
    missing = client.get("/models/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["title"] == "Model not found"
    assert missing.json()["status"] == "error"
    assert client.get("/nothing-here").status_code == 404


def test_reset_raises_transport_error(server: LoopbackServer, client: httpx.Client) -> None:
    server.enqueue(StreamReply([sse(chunk("Hi")), RESET]))
    with (
        pytest.raises(httpx.TransportError),
        client.stream("POST", "/chat/completions", json={}) as response,
    ):
        for _ in response.iter_bytes():
            pass


def test_reset_before_headers(server: LoopbackServer, client: httpx.Client) -> None:
    server.enqueue(RESET)
    with pytest.raises(httpx.TransportError):
        client.post("/chat/completions", json={})


def test_close_truncates_chunked_body(server: LoopbackServer, client: httpx.Client) -> None:
    server.enqueue(StreamReply([sse(chunk("Hi")), CLOSE]))
    received: list[bytes] = []

    def read_all() -> None:
        with client.stream("POST", "/chat/completions", json={}) as response:
            received.extend(response.iter_bytes())

    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        read_all()
    assert b"".join(received) == sse(chunk("Hi"))


def test_wire_reply_and_sleep_parts(server: LoopbackServer, client: httpx.Client) -> None:
    # WireReply closes after writing, so the bytes must say so or httpx would reuse the socket.
    server.enqueue(
        WireReply(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    )
    assert client.post("/chat/completions", json={}).text == "ok"
    server.enqueue(StreamReply([comment(), 0.01, "data: x\n\n", DONE]))
    response = client.post("/chat/completions", json={})
    assert response.content == b": ping\n\ndata: x\n\n" + DONE


def test_hang_then_client_close_counts_disconnect_and_stop_is_prompt(
    server: LoopbackServer, client: httpx.Client
) -> None:
    server.enqueue(StreamReply([sse(chunk("Hi")), HANG]))
    with client.stream("POST", "/chat/completions", json={}) as response:
        first = next(response.iter_raw())
        assert first == sse(chunk("Hi"))
    # Leaving the block closes the half-read response, i.e. the connection.
    assert server.wait_for_disconnects(1) == 1
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1.0


def test_stop_is_prompt_while_client_still_waits(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([HANG]))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1.0
        assert sock.recv(4096) == b""  # the server closed the connection
    assert server.disconnects == 0  # a server stop is not a client disconnect


def test_stall_read_timeout_counts_disconnect(server: LoopbackServer) -> None:
    server.enqueue(StallReply(30, JsonReply(200, {})))
    with (
        httpx.Client(base_url=server.base_url, timeout=httpx.Timeout(5.0, read=0.1)) as c,
        pytest.raises(httpx.ReadTimeout),
    ):
        c.post("/chat/completions", json={})
    assert server.wait_for_disconnects(1) == 1


def test_sse_helpers_bytes() -> None:
    assert DONE == b"data: [DONE]\n\n"
    assert comment() == b": ping\n\n"
    assert sse({"a": 1}, event="error", crlf=True) == b'event: error\r\ndata: {"a":1}\r\n\r\n'
    assert sse({"a": 1}, no_space=True) == b'data:{"a":1}\n\n'
    assert (
        sse({"a": 1, "b": 2}, split=True) == b'data: {\ndata:  "a": 1,\ndata:  "b": 2\ndata: }\n\n'
    )
    usage_only = chunk(choices=False, usage={"total_tokens": 3}, with_object=False)
    assert "object" not in usage_only
    assert usage_only["choices"] == []
    assert usage_only["usage"] == {"total_tokens": 3}
    assert chunk(reasoning="r")["choices"][0]["delta"] == {"reasoning": "r"}
    assert chunk(finish_reason="length")["choices"][0] == {
        "index": 0,
        "delta": {},
        "finish_reason": "length",
    }


def test_start_is_cheap_and_ports_differ() -> None:
    started = time.monotonic()
    with LoopbackServer() as a, LoopbackServer() as b:
        assert a.port != b.port
        assert a.base_url == f"http://127.0.0.1:{a.port}/v1"
        assert a.url("/models") == f"http://127.0.0.1:{a.port}/v1/models"
    assert time.monotonic() - started < 1.0
