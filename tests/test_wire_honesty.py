"""What goes on the wire is what the user meant, and what comes back is said as it is.

Three classes of problem a user found by pointing glmtui at a real third-party server
(llama-cpp-python) and attacking it, each checked against the loopback server's record of the
raw requests:

- a model id is data: it is sent as exactly one path segment of ``/models/{id}``, whatever it
  holds (``../../etc/passwd`` must not become ``GET /etc/passwd`` with the key), and no other
  value a user or server supplies changes where a request goes;
- a stream that ends before any event is "closed without replying", with the likely causes and
  the server's own words (asked once more, without streaming, for one token), never "what
  arrived is kept"; that second request is never sent once anything arrived, and a Stop
  cancels it;
- a non-streamed request that runs into the read timeout says it was waiting for the complete
  reply, and what to do, instead of blaming an overloaded server.
"""

from __future__ import annotations

import asyncio
import io
import string
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from glmtui.api.client import ChatClient, RetryPolicy, Timeouts, path_segment
from glmtui.api.errors import (
    ApiError,
    ApiTimeout,
    BadRequestError,
    ClosedWithoutReply,
    NotFoundError,
    StreamInterrupted,
    error_for_status,
)
from glmtui.api.events import ContentDelta, StreamEvent, ToolCallDelta
from glmtui.api.request import ChatRequest
from glmtui.cli import main
from glmtui.domain import Parameters
from tests.conftest import FAKE_KEY
from tests.server import (
    CLOSE,
    DONE,
    HANG,
    RESET,
    JsonReply,
    LoopbackServer,
    RawReply,
    StallReply,
    StreamReply,
    chunk,
    comment,
    sse,
    stream_of,
)
from tests.wire_helpers import NO_RETRY, client_for

FAST_RETRY = RetryPolicy(max_retries=3, base_delay=0.001, max_delay=0.002)
UNRESERVED = set(string.ascii_letters + string.digits + "-._~")

LLAMA_CPP_TOO_LONG = {
    "error": {
        "code": 400,
        "message": "the request exceeds the available context size, try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 5210,
        "n_ctx": 4096,
    }
}
"""llama.cpp's server, asked without streaming for a prompt longer than its window."""

LLAMA_CPP_PYTHON_TOO_LONG = {
    "error": {
        "message": "Requested tokens (5210) exceed context window of 4096",
        "type": "invalid_request_error",
    }
}
"""llama-cpp-python's server, the same."""


def request(**parameters: object) -> ChatRequest:
    return ChatRequest(
        model="zai-org-glm-5",
        messages=({"role": "user", "content": "a very long prompt"},),
        parameters=Parameters(**parameters),  # type: ignore[arg-type]
    )


async def collect(client: ChatClient, req: ChatRequest | None = None) -> list[StreamEvent]:
    async with client:
        return [event async for event in client.stream_chat(req or request())]


# --- 11. a model id is one path segment ----------------------------------------------------

HOSTILE_IDS = [
    "../../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "...",
    "../",
    "a/../../b",
    "zai-org/GLM-5-FP8",
    "%2e%2e%2fadmin",
    "odd id?v=1#frag",
    "50%",
    "naïve-模型-🙂",
    "tab\there",
    "back\\slash",
    "//host.example/x",
    "~user",
]


def _segment_of(target: str) -> str:
    """The part of a recorded request target after ``/v1/models/``."""
    prefix = "/v1/models/"
    assert target.startswith(prefix), target
    return target[len(prefix) :]


@pytest.mark.parametrize("model_id", HOSTILE_IDS)
async def test_a_model_id_is_sent_as_exactly_one_path_segment(
    server: LoopbackServer, model_id: str
) -> None:
    """Whatever the id holds, the request line names ``/v1/models/<one segment>``, and that
    segment decodes to the id: no dot-segment, no slash, no query, no fragment."""
    with pytest.raises(NotFoundError, match="does not exist on this provider"):
        async with client_for(server) as client:
            await client.get_model(model_id)
    (sent,) = server.requests
    assert sent.method == "GET"
    segment = _segment_of(sent.target)
    for character in "/?#":
        assert character not in segment
    assert segment not in (".", "..")
    assert set(segment) <= UNRESERVED | set("%0123456789ABCDEF")
    assert unquote(segment) == model_id
    assert sent.headers["authorization"] == f"Bearer {FAKE_KEY}"  # sent where it belongs


@given(st.text(min_size=1, max_size=40))
@example(".")
@example("..")
@example("../..")
def test_path_segment_never_leaves_its_segment(model_id: str) -> None:
    """For any id: only unreserved characters and %XX escapes, never "." or "..", and the
    server gets the id back by decoding once."""
    segment = path_segment(model_id)
    assert all(c in UNRESERVED or c == "%" for c in segment)
    assert segment.strip(".") != ""
    assert unquote(segment, errors="strict") == model_id


async def test_an_empty_model_id_is_refused_before_any_request(server: LoopbackServer) -> None:
    """An empty id would name the list (``GET /models/``), not a model."""
    with pytest.raises(BadRequestError, match="model id is empty"):
        async with client_for(server) as client:
            await client.get_model("")
    assert server.requests == []


def test_models_show_with_a_path_for_an_id_stays_under_models(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reported attack: ``glmtui models show ../../../etc/passwd``."""
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = main(["models", "show", "../../../etc/passwd", "--base-url", server.base_url])
    out, err = capsys.readouterr()
    assert code == 1
    assert "does not exist on this provider" in err
    assert out == ""
    targets = [r.target for r in server.requests]
    assert targets[0] == "/v1/models/..%2F..%2F..%2Fetc%2Fpasswd"
    assert all(t.startswith("/v1/models") for t in targets), targets  # the list, at most


async def test_a_redirect_to_another_host_never_carries_the_key(
    server: LoopbackServer,
) -> None:
    """The other way a server-supplied value picks a URL: a redirect. It may be followed (a
    moved API root), but the key stays with the host it was given for."""
    with LoopbackServer() as elsewhere:
        target = elsewhere.url("/models/zai-org-glm-5")
        server.enqueue(JsonReply(307, {}, {"location": target}), path="/models/zai-org-glm-5")
        server.enqueue(
            JsonReply(307, {}, {"location": elsewhere.url("/chat/completions")}),
            path="/chat/completions",
        )
        async with client_for(server) as client:
            card = await client.get_model("zai-org-glm-5")
            events = [event async for event in client.stream_chat(request())]
        assert card.id == "zai-org-glm-5"
        assert any(isinstance(e, ContentDelta) for e in events)
        assert [r.path for r in elsewhere.requests] == [
            "/models/zai-org-glm-5",
            "/chat/completions",
        ]
        for followed in elsewhere.requests:
            assert "authorization" not in followed.headers
    assert all(r.headers["authorization"] == f"Bearer {FAKE_KEY}" for r in server.requests)


async def test_the_demo_finds_a_model_by_its_encoded_id() -> None:
    """The offline demo reads the id from the one encoded segment, as a real server would."""
    from glmtui.api.demo import DemoTransport

    async with ChatClient("http://demo.invalid/v1", transport=DemoTransport(pace=0)) as client:
        assert (await client.get_model("zai-org-glm-5")).id == "zai-org-glm-5"
        with pytest.raises(NotFoundError, match="No model named 'a/models/b'"):
            await client.get_model("a/models/b")


# --- 12. a stream that ends before any event -----------------------------------------------

EMPTY_STREAMS = {
    "eof-at-once": lambda: StreamReply([]),
    "eof-after-comments": lambda: StreamReply([comment(), comment("still here")]),
    "eof-after-role-chunk": lambda: StreamReply([sse(chunk("", role="assistant"))]),
    "eof-after-usage-only": lambda: StreamReply(
        [sse(chunk(choices=False, usage={"prompt_tokens": 5210}))]
    ),
    "closed-mid-body": lambda: StreamReply([CLOSE]),
    "closed-after-a-comment": lambda: StreamReply([comment(), CLOSE]),
    "close-delimited-body": lambda: StreamReply([], chunked=False),
}
"""Ways a server accepts a streamed request (200, an event stream) and ends it with nothing of
a reply: at once, after keep-alives, after a role-only or usage-only chunk, or by closing the
connection without ending the chunked body."""


@pytest.mark.parametrize("empty", list(EMPTY_STREAMS), ids=list(EMPTY_STREAMS))
@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (LLAMA_CPP_TOO_LONG, "the request exceeds the available context size"),
        (LLAMA_CPP_PYTHON_TOO_LONG, "Requested tokens (5210) exceed context window of 4096"),
    ],
    ids=["llama.cpp", "llama-cpp-python"],
)
async def test_closed_without_replying_says_so_with_the_servers_words(
    server: LoopbackServer, empty: str, answer: dict[str, object], said: str
) -> None:
    server.enqueue(EMPTY_STREAMS[empty]())
    server.enqueue(JsonReply(400, answer))
    with pytest.raises(ClosedWithoutReply) as info:
        await collect(client_for(server, retry=FAST_RETRY), request(temperature=0.2))
    error = info.value
    assert "closed the stream without replying" in error.message
    assert said in error.message
    assert "400 Bad Request" in error.message
    assert "context window" in error.hint
    assert "What arrived is kept" not in error.describe()
    assert (error.partial_content, error.partial_reasoning) == ("", "")
    first, second = server.chat_requests  # retries do not repeat it: asked once, then said
    assert first.json()["stream"] is True
    body = second.json()
    assert body["stream"] is False
    assert body["max_tokens"] == 1
    assert "stream_options" not in body
    assert {k: v for k, v in body.items() if k not in ("stream", "max_tokens")} == {
        k: v for k, v in first.json().items() if k not in ("stream", "stream_options")
    }
    assert second.headers["authorization"] == f"Bearer {FAKE_KEY}"


@pytest.mark.parametrize(
    ("answer", "message", "hint"),
    [
        (  # an error object behind a 200
            lambda: JsonReply(200, {"error": {"message": "prompt too long"}}),
            "it said: prompt too long.",
            "context window",
        ),
        (  # a plain-text reason
            lambda: RawReply(500, b"KV cache full", content_type="text/plain"),
            "it said (500 Internal Server Error): KV cache full.",
            "context window",
        ),
        (  # an error page says nothing useful: the plain explanation
            lambda: RawReply(502, b"<html><title>Bad Gateway</title></html>"),
            "The server closed the stream without replying.",
            "Likely causes: a prompt longer than the model's context window, or an error on "
            "the server while it prepared the reply",
        ),
        (  # JSON without a message: the same
            lambda: JsonReply(500, {}),
            "The server closed the stream without replying.",
            "Likely causes:",
        ),
        (  # the second request breaks too
            lambda: RESET,
            "The server closed the stream without replying.",
            "Likely causes:",
        ),
        (  # without streaming it answers: the stream itself is what fails
            lambda: None,
            "though the same request without streaming was answered",
            "turn streaming off",
        ),
    ],
    ids=["200-error-object", "plain-text", "html-page", "json-without-message", "reset", "ok"],
)
async def test_closed_without_replying_whatever_the_second_answer(
    server: LoopbackServer, answer: object, message: str, hint: str
) -> None:
    server.enqueue(StreamReply([]))
    reply = answer()  # type: ignore[operator]
    if reply is not None:
        server.enqueue(reply)
    with pytest.raises(ClosedWithoutReply) as info:
        await collect(client_for(server))
    assert message in info.value.message
    assert hint in info.value.hint
    assert "\n" not in info.value.describe()
    assert len(server.chat_requests) == 2


async def test_the_key_quoted_by_the_second_answer_is_masked(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([]))
    server.enqueue(JsonReply(400, {"error": {"message": f"Bad key {FAKE_KEY} for this model"}}))
    with pytest.raises(ClosedWithoutReply) as info:
        await collect(client_for(server))
    assert FAKE_KEY not in info.value.describe()
    assert "Bad key *** for this model" in info.value.message


@pytest.mark.parametrize(
    "parts",
    [
        [sse(chunk("Half an ans"))],
        [sse(chunk(reasoning_content="Thinking about"))],
        [sse(chunk(tool_calls=[{"index": 0, "id": "c1", "function": {"name": "get_time"}}]))],
        [sse(chunk("Half an ans")), CLOSE],
        [sse(chunk("Half an ans")), 0.2, RESET],
    ],
    ids=["content-eof", "reasoning-eof", "tool-call-eof", "content-close", "content-reset"],
)
async def test_a_stream_cut_after_output_keeps_it_and_is_never_sent_again(
    server: LoopbackServer, parts: list[object]
) -> None:
    """Once anything of the reply arrived, nothing is sent again behind the user's back (not
    the question without streaming, not a retry), and the error keeps what arrived."""
    server.enqueue(StreamReply(parts))  # type: ignore[arg-type]
    seen: list[StreamEvent] = []
    with pytest.raises(StreamInterrupted) as info:
        async with client_for(server, retry=FAST_RETRY) as client:
            async for event in client.stream_chat(request()):
                seen.append(event)
    assert seen, "the output arrived before the error"
    assert "What arrived is kept" in info.value.hint
    assert "closed the stream without replying" not in info.value.message
    assert len(server.chat_requests) == 1
    if any(isinstance(e, ContentDelta) for e in seen):
        assert info.value.partial_content == "Half an ans"
    if any(isinstance(e, ToolCallDelta) for e in seen):
        # a call's pieces are not text to keep
        assert (info.value.partial_content, info.value.partial_reasoning) == ("", "")


async def test_stop_cancels_the_second_request(server: LoopbackServer) -> None:
    """A user's Stop (the consuming task cancelled) while the client asks why the stream
    closed cancels that request too: its connection closes and nothing is left waiting."""
    server.enqueue(StreamReply([]))
    server.enqueue(HANG)
    client = client_for(server)  # long-lived, as the app's: closing it would hide a leak

    async def consume() -> None:
        async for _ in client.stream_chat(request()):
            pass

    async with client:
        task = asyncio.create_task(consume())
        await server.async_wait_for_requests(2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await server.async_wait_for_disconnects(1) >= 1
    assert len(server.chat_requests) == 2


async def test_a_slow_second_answer_is_not_waited_for_long(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The question without streaming has its own short read timeout: a server that has
    nothing quick to say leaves the plain explanation, not a second long wait."""
    monkeypatch.setattr("glmtui.api.client.PROBE_READ_TIMEOUT", 0.2)
    server.enqueue(StreamReply([]))
    server.enqueue(StallReply(30))
    started = asyncio.get_running_loop().time()
    with pytest.raises(ClosedWithoutReply, match=r"closed the stream without replying\.$"):
        await collect(client_for(server, timeouts=Timeouts(read=20)))
    assert asyncio.get_running_loop().time() - started < 10


def test_ask_says_closed_without_replying_in_one_line(
    server: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    server.enqueue(StreamReply([]))
    server.enqueue(JsonReply(400, LLAMA_CPP_TOO_LONG))
    code = main(["ask", "--base-url", server.base_url, "--json", "a very long prompt"])
    out, err = capsys.readouterr()
    assert code == 1
    assert '"kind": "no_reply"' in out
    assert "the request exceeds the available context size" in out
    assert "Traceback" not in err


# --- 14. a non-streamed request and the read timeout ---------------------------------------


async def test_a_non_streamed_timeout_says_it_waited_for_the_whole_reply(
    server: LoopbackServer,
) -> None:
    server.enqueue(StallReply(30))
    client = client_for(server, timeouts=Timeouts(read=0.3))
    with pytest.raises(ApiTimeout) as info:
        async with client:
            await client.complete(request())
    error = info.value
    assert "waiting for the complete reply" in error.message
    assert "0.3 s" in error.message
    assert "overloaded" not in error.describe()
    assert "streaming" in error.hint
    assert "max_tokens" in error.hint


async def test_a_non_streamed_request_through_stream_chat_says_the_same(
    server: LoopbackServer,
) -> None:
    """The chat screen sends every request through ``stream_chat``; with streaming off
    (``ChatRequest.stream`` false) it too waits for the whole reply."""
    server.enqueue(StallReply(30))
    with pytest.raises(ApiTimeout, match="waiting for the complete reply"):
        whole = replace(request(), stream=False)
        await collect(client_for(server, timeouts=Timeouts(read=0.3)), whole)
    assert server.chat_requests[0].json()["stream"] is False


async def test_a_streamed_timeout_still_says_the_server_went_silent(
    server: LoopbackServer,
) -> None:
    server.enqueue(StallReply(30))
    with pytest.raises(ApiTimeout) as info:
        await collect(client_for(server, timeouts=Timeouts(read=0.3)))
    assert "silent before answering" in info.value.message
    assert "complete reply" not in info.value.describe()


def test_ask_no_stream_timeout_explains(
    server: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config_file: Path,
) -> None:
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    config_file.write_text("timeout = 1\nmax_retries = 0\n")
    server.enqueue(StallReply(30))
    code = main(["ask", "--base-url", server.base_url, "--no-stream", "hi"])
    _, err = capsys.readouterr()
    assert code == 1
    assert "waiting for the complete reply" in err
    assert "max_tokens" in err
    assert err.count("glmtui: error:") == 1


async def test_a_whole_reply_within_the_timeout_is_unaffected(server: LoopbackServer) -> None:
    server.enqueue(
        JsonReply(
            200,
            {"choices": [{"message": {"content": "Done."}, "finish_reason": "stop"}]},
        )
    )
    async with client_for(server, timeouts=Timeouts(read=5)) as client:
        assert (await client.complete(request())).content == "Done."


async def test_an_ordinary_stream_is_sent_once(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["Fine."]))
    events = await collect(client_for(server))
    assert "".join(e.text for e in events if isinstance(e, ContentDelta)) == "Fine."
    assert len(server.chat_requests) == 1
    server.enqueue(StreamReply([sse(chunk(finish_reason="stop")), DONE]))  # empty, finished
    await collect(client_for(server))
    assert len(server.chat_requests) == 2  # a finished empty reply is no failure


async def test_credentials_in_a_url_never_reach_a_message(server: LoopbackServer) -> None:
    """A base URL may carry ``user:password@`` (or a ``?key=``); an error that names the
    address names it without them."""
    server.enqueue(JsonReply(404, {}), path="/models")
    base = f"http://reader:s3cret-pass@127.0.0.1:{server.port}/v1"
    with pytest.raises(NotFoundError) as info:
        async with ChatClient(base, retry=NO_RETRY) as client:
            await client.list_models()
    assert f"Nothing found at http://127.0.0.1:{server.port}/v1/models" in info.value.message
    assert "s3cret-pass" not in info.value.describe()
    with pytest.raises(ApiError) as bad:
        async with ChatClient("htp://reader:s3cret-pass@example.invalid/v1", retry=NO_RETRY) as c:
            await c.list_models()
    assert "s3cret-pass" not in bad.value.describe()
    assert "htp://example.invalid/v1/models" in bad.value.message
    said = error_for_status(404, b"", url="https://h.example/v1/x?key=k3y-secret#f")
    assert "k3y-secret" not in said.describe()
    assert "https://h.example/v1/x" in said.message
