"""ChatClient against a real HTTP server on 127.0.0.1: every wire case and every error class."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import httpx
import pytest

from glmtui.api.client import ChatClient, RetryPolicy, Timeouts
from glmtui.api.errors import (
    ApiTimeout,
    AuthError,
    BadRequestError,
    CreditsError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamInterrupted,
)
from glmtui.api.events import (
    ContentDelta,
    Finished,
    ReasoningDelta,
    Retrying,
    StreamEvent,
    ToolCallDelta,
    UsageReport,
)
from glmtui.api.pacing import READ_SIZE, WAITED, Pacer, ReadPacing, paced
from glmtui.api.request import ChatRequest
from glmtui.domain import Parameters
from tests.conftest import FAKE_KEY
from tests.server import (
    CLOSE,
    DONE,
    GLM5_MODEL,
    HANG,
    RESET,
    JsonReply,
    LoopbackServer,
    RawReply,
    StallReply,
    StreamReply,
    chunk,
    comment,
    oxen_error,
    sse,
    stream_of,
)
from tests.wire_helpers import NO_RETRY, client_for

FAST_RETRY = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.02)


def request(**parameters: object) -> ChatRequest:
    return ChatRequest(
        model="zai-org-glm-5",
        messages=({"role": "user", "content": "hi"},),
        parameters=Parameters(**parameters),  # type: ignore[arg-type]
    )


async def collect(client: ChatClient, req: ChatRequest | None = None) -> list[StreamEvent]:
    async with client:
        return [event async for event in client.stream_chat(req or request())]


def content(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


def reasoning(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


async def test_request_carries_model_messages_stream_options_key_and_only_set_params(
    server: LoopbackServer,
) -> None:
    await collect(client_for(server), request(temperature=0.4, max_tokens=50))
    sent = server.chat_requests[0]
    assert sent.headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert sent.json() == {
        "model": "zai-org-glm-5",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.4,
        "max_tokens": 50,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_default_stream_reasoning_content_usage_and_finish(server: LoopbackServer) -> None:
    events = await collect(client_for(server))
    assert reasoning(events) == "Thinking briefly."
    assert content(events) == "Hello from the loopback server."
    usage = next(e for e in events if isinstance(e, UsageReport)).usage
    assert usage.prompt_tokens == 11
    assert events[-1] == Finished("stop", "zai-org-glm-5")


async def test_reasoning_field_vllm_style(server: LoopbackServer) -> None:
    parts = [sse(chunk(reasoning="vllm thinks")), sse(chunk("ok")), DONE]
    server.enqueue(StreamReply(parts))
    events = await collect(client_for(server))
    assert (reasoning(events), content(events)) == ("vllm thinks", "ok")


async def test_inline_think_tags(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["<think>", "hmm", "</think>", "\n\nAnswer"]))
    events = await collect(client_for(server))
    assert (reasoning(events), content(events)) == ("hmm", "Answer")


async def test_comments_crlf_split_data_and_no_space(server: LoopbackServer) -> None:
    parts = [
        comment("ping"),
        comment("OPENROUTER PROCESSING"),
        sse(chunk("", role="assistant"), crlf=True),
        sse(chunk("one "), split=True),
        sse(chunk("two "), no_space=True),
        sse(chunk("three", with_object=False), crlf=True, split=True),
        sse(chunk(finish_reason="stop")),
        DONE,
    ]
    server.enqueue(StreamReply(parts))
    assert content(await collect(client_for(server))) == "one two three"


async def test_event_split_across_network_chunks(server: LoopbackServer) -> None:
    wire = sse(chunk("split across reads")) + DONE
    server.enqueue(StreamReply([wire[:7], wire[7:19], wire[19:]]))
    assert content(await collect(client_for(server))) == "split across reads"


async def test_usage_on_choice_chunk_and_repeated_finish(server: LoopbackServer) -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    parts = [
        sse(chunk("a", finish_reason="stop", usage=usage)),
        sse(chunk(finish_reason="stop")),
        DONE,
    ]
    server.enqueue(StreamReply(parts))
    events = await collect(client_for(server))
    assert next(e for e in events if isinstance(e, UsageReport)).usage.total_tokens == 3
    assert [e for e in events if isinstance(e, Finished)] == [Finished("stop", "zai-org-glm-5")]


async def test_missing_done_after_finish_is_complete(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["all", " here"], done=False))
    events = await collect(client_for(server))
    assert content(events) == "all here"
    assert isinstance(events[-1], Finished)


async def test_finish_then_connection_reset_is_still_complete(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("done", finish_reason="stop")), 0.05, RESET]))
    events = await collect(client_for(server))
    assert content(events) == "done"
    assert isinstance(events[-1], Finished)


async def test_truncated_stream_is_an_error_with_partial(server: LoopbackServer) -> None:
    server.enqueue(
        stream_of(["partial", " answer"], reasoning_tokens=["r"], finish_reason=None, done=False)
    )
    seen: list[StreamEvent] = []
    with pytest.raises(StreamInterrupted) as info:
        async with client_for(server) as client:
            async for event in client.stream_chat(request()):
                seen.append(event)
    assert content(seen) == "partial answer"
    assert info.value.partial_content == "partial answer"
    assert info.value.partial_reasoning == "r"
    assert "cut off" in str(info.value)


async def test_connection_cut_mid_chunked_body(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("half")), CLOSE]))
    with pytest.raises(StreamInterrupted) as info:
        await collect(client_for(server))
    assert info.value.partial_content == "half"


async def test_connection_reset_mid_stream(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("before reset")), 0.05, RESET]))
    with pytest.raises(StreamInterrupted) as info:
        await collect(client_for(server))
    assert info.value.partial_content == "before reset"


@pytest.mark.parametrize("reason", ["sensitive", "network_error", "content_filter", "abort"])
async def test_unknown_finish_reason_verbatim(server: LoopbackServer, reason: str) -> None:
    server.enqueue(stream_of(["x"], finish_reason=reason))
    assert (await collect(client_for(server)))[-1] == Finished(reason, "zai-org-glm-5")


async def test_event_error_mid_stream(server: LoopbackServer) -> None:
    parts = [sse(chunk("some")), sse({"error": {"message": "Upstream overloaded"}}, event="error")]
    server.enqueue(StreamReply(parts))
    with pytest.raises(ProviderError, match="Upstream overloaded") as info:
        await collect(client_for(server))
    assert info.value.partial_content == "some"


async def test_error_object_mid_stream(server: LoopbackServer) -> None:
    parts = [sse(chunk("some")), sse({"error": {"message": "context length exceeded"}})]
    server.enqueue(StreamReply(parts))
    with pytest.raises(ProviderError, match="context length exceeded"):
        await collect(client_for(server))


async def test_malformed_json_event(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("ok ")), b'data: {"choices": [\n\n']))
    with pytest.raises(ProtocolError, match="not valid JSON") as info:
        await collect(client_for(server))
    assert info.value.partial_content == "ok "


async def test_tool_call_deltas_over_the_wire(server: LoopbackServer) -> None:
    call = {
        "index": 0,
        "id": "c1",
        "type": "function",
        "function": {"name": "lookup", "arguments": "{}"},
    }
    server.enqueue(
        StreamReply([sse(chunk(tool_calls=[call])), sse(chunk(finish_reason="tool_calls")), DONE])
    )
    events = await collect(client_for(server))
    assert ToolCallDelta(0, "c1", "lookup", "{}") in events
    assert events[-1] == Finished("tool_calls", "zai-org-glm-5")


async def test_html_page_with_status_200(server: LoopbackServer) -> None:
    server.enqueue(RawReply(200, b"<html><body>Bad gateway</body></html>"))
    with pytest.raises(ProtocolError, match=r"did not answer with an event stream \(text/html\)"):
        await collect(client_for(server))


async def test_json_completion_when_stream_was_ignored(server: LoopbackServer) -> None:
    body = {
        "object": "chat.completion",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "whole"},
                "finish_reason": "stop",
            }
        ],
    }
    server.enqueue(JsonReply(200, body))
    events = await collect(client_for(server))
    assert content(events) == "whole"
    assert events[-1] == Finished("stop", "m")


async def test_invalid_utf8_is_replaced_not_fatal(server: LoopbackServer) -> None:
    server.enqueue(
        StreamReply([b'data: {"choices":[{"delta":{"content":"ok \xff\xfe"}}]}\n\n', DONE])
    )
    assert content(await collect(client_for(server))).startswith("ok ")


async def test_ten_megabyte_event(server: LoopbackServer) -> None:
    big = "x" * (10 * 1024 * 1024)
    server.enqueue(StreamReply([sse(chunk(big)), sse(chunk(finish_reason="stop")), DONE]))
    assert len(content(await collect(client_for(server)))) == len(big)


@pytest.mark.parametrize(
    ("status", "body", "error_type", "words"),
    [
        (401, {"error": {"message": "Invalid API key"}}, AuthError, "key was rejected"),
        (402, oxen_error("Payment required", "No credits"), CreditsError, "Out of credits"),
        (
            404,
            oxen_error("Model not found", "nope"),
            NotFoundError,
            "'zai-org-glm-5' was not found",
        ),
        (
            400,
            oxen_error("Bad Request", "temperature too high", type="bad_request"),
            BadRequestError,
            "Bad Request: temperature too high",
        ),
        (500, {"message": "boom"}, ServerError, "server failed (500"),
        (502, {}, ServerError, "server failed (502"),
        (503, {}, ServerError, "server failed (503"),
    ],
)
async def test_http_errors_are_typed_with_one_line_messages(
    server: LoopbackServer, status: int, body: dict, error_type: type, words: str
) -> None:
    server.enqueue(JsonReply(status, body))
    with pytest.raises(error_type) as info:
        await collect(client_for(server))
    assert words in str(info.value)
    assert "\n" not in info.value.describe()
    assert info.value.status == status
    assert FAKE_KEY not in info.value.describe()


async def test_5xx_is_retried_then_succeeds(server: LoopbackServer) -> None:
    server.enqueue(JsonReply(503, {}))
    server.enqueue(JsonReply(500, {}))
    events = await collect(client_for(server, retry=FAST_RETRY))
    retries = [e for e in events if isinstance(e, Retrying)]
    assert [r.attempt for r in retries] == [1, 2]
    assert content(events) == "Hello from the loopback server."
    assert len(server.chat_requests) == 3


async def test_408_is_retried(server: LoopbackServer) -> None:
    server.enqueue(JsonReply(408, {}))
    events = await collect(client_for(server, retry=FAST_RETRY))
    assert content(events) == "Hello from the loopback server."


async def test_retries_give_up_with_the_last_error(server: LoopbackServer) -> None:
    for _ in range(3):
        server.enqueue(JsonReply(502, {}))
    with pytest.raises(ServerError):
        await collect(client_for(server, retry=FAST_RETRY))
    assert len(server.chat_requests) == 3


async def test_429_honours_retry_after(server: LoopbackServer) -> None:
    server.enqueue(JsonReply(429, {"error": {"message": "slow down"}}, {"retry-after": "7"}))
    async with client_for(server, retry=RetryPolicy(max_retries=1)) as client:
        stream = client.stream_chat(request())
        first = await anext(stream)
        await stream.aclose()
    assert first == Retrying(attempt=1, delay=7.0, reason=first.reason)
    assert "Rate limited" in first.reason


async def test_429_with_retry_after_zero_succeeds(server: LoopbackServer) -> None:
    server.enqueue(JsonReply(429, {}, {"retry-after": "0"}))
    events = await collect(client_for(server, retry=FAST_RETRY))
    assert content(events) == "Hello from the loopback server."


async def test_429_without_retry_after_backs_off_then_explains(server: LoopbackServer) -> None:
    for _ in range(3):
        server.enqueue(JsonReply(429, {"error": {"message": "Too many requests"}}))
    with pytest.raises(RateLimitError, match="Rate limited by the provider") as info:
        await collect(client_for(server, retry=FAST_RETRY))
    assert info.value.retry_after is None
    assert len(server.chat_requests) == 3


async def test_no_retry_once_text_was_shown(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("shown")), 0.05, RESET]))
    with pytest.raises(StreamInterrupted):
        await collect(client_for(server, retry=FAST_RETRY))
    assert len(server.chat_requests) == 1


async def test_connection_refused(unused_port: int) -> None:
    client = ChatClient(f"http://127.0.0.1:{unused_port}/v1", retry=NO_RETRY)
    with pytest.raises(NetworkError, match="connection refused"):
        await collect(client)


async def test_connection_refused_is_retried(unused_port: int) -> None:
    client = ChatClient(f"http://127.0.0.1:{unused_port}/v1", retry=FAST_RETRY)
    events: list[StreamEvent] = []
    with pytest.raises(NetworkError):
        async with client:
            async for event in client.stream_chat(request()):
                events.append(event)
    assert [e.attempt for e in events if isinstance(e, Retrying)] == [1, 2]


async def test_unresolvable_host() -> None:
    client = ChatClient("http://glmtui-no-such-host.invalid/v1", retry=NO_RETRY)
    with pytest.raises(
        NetworkError, match=r"Could not resolve host 'glmtui-no-such-host\.invalid'"
    ):
        await collect(client)


async def test_tls_handshake_failure() -> None:
    """An https:// URL pointing at a server that does not speak TLS."""

    async def not_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)  # the ClientHello arrives; answer with plain HTTP
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    plain = await asyncio.start_server(not_tls, "127.0.0.1", 0)
    port = plain.sockets[0].getsockname()[1]
    async with plain:
        client = ChatClient(f"https://127.0.0.1:{port}/v1", retry=NO_RETRY)
        with pytest.raises(NetworkError, match=r"Secure connection \(TLS\) to 127.0.0.1"):
            await collect(client)


async def test_stall_before_first_byte_times_out(server: LoopbackServer) -> None:
    server.enqueue(StallReply(math.inf))
    client = client_for(server, timeouts=Timeouts(read=0.3))
    with pytest.raises(ApiTimeout, match="silent before answering"):
        await collect(client)


async def test_stall_mid_stream_times_out_with_partial(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("so far")), HANG]))
    client = client_for(server, timeouts=Timeouts(read=0.3))
    with pytest.raises(ApiTimeout, match="silent mid-reply") as info:
        await collect(client)
    assert info.value.partial_content == "so far"


async def test_keepalive_comments_reset_the_read_timeout(server: LoopbackServer) -> None:
    parts: list[object] = [sse(chunk("a"))]
    for _ in range(4):
        parts += [0.15, comment()]
    parts += [sse(chunk("b", finish_reason="stop")), DONE]
    server.enqueue(StreamReply(parts))  # type: ignore[arg-type]
    client = client_for(server, timeouts=Timeouts(read=0.4))
    assert content(await collect(client)) == "ab"  # 0.6 s in all, never 0.4 s silent


async def test_closing_the_stream_closes_the_connection(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("endless ")), HANG]))
    async with client_for(server) as client:
        stream = client.stream_chat(request())
        assert await anext(stream) == ContentDelta("endless ")
        await stream.aclose()
    assert server.wait_for_disconnects(1) >= 1


async def test_cancelling_the_consumer_closes_the_connection(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("endless ")), HANG]))
    got_first = asyncio.Event()

    async def consume() -> None:
        async with client_for(server) as client:
            async for _ in client.stream_chat(request()):
                got_first.set()

    task = asyncio.create_task(consume())
    await got_first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert server.wait_for_disconnects(1) >= 1


async def test_complete_non_streaming(server: LoopbackServer) -> None:
    async with client_for(server) as client:
        result = await client.complete(request(top_p=0.5))
    assert result.content == "Hello from the loopback server."
    assert result.reasoning == "Thinking briefly."
    assert result.finish_reason == "stop"
    body = server.chat_requests[0].json()
    assert body["stream"] is False
    assert "stream_options" not in body
    assert body["top_p"] == 0.5


async def test_complete_error(server: LoopbackServer) -> None:
    server.enqueue(JsonReply(401, {"error": {"message": "bad key"}}))
    with pytest.raises(AuthError, match="bad key"):
        async with client_for(server) as client:
            await client.complete(request())


async def test_list_and_get_models(server: LoopbackServer) -> None:
    async with client_for(server) as client:
        cards = await client.list_models()
        card = await client.get_model("zai-org-glm-5")
    assert "zai-org-glm-5" in [c.id for c in cards]
    assert card.raw == GLM5_MODEL
    assert card.context_length == 200_000
    assert dict(card.facts)["Precision"] == "NVFP4"


async def test_get_unknown_model_says_it_does_not_exist(server: LoopbackServer) -> None:
    with pytest.raises(NotFoundError, match="'no-such' does not exist on this provider"):
        async with client_for(server) as client:
            await client.get_model("no-such")


async def test_no_authorization_header_without_key(server: LoopbackServer) -> None:
    await collect(ChatClient(server.base_url, None, retry=NO_RETRY))
    assert "authorization" not in server.chat_requests[0].headers


def test_repr_hides_key() -> None:
    assert FAKE_KEY not in repr(ChatClient("http://127.0.0.1:1/v1", FAKE_KEY))


async def test_demo_transport_speaks_the_same_wire() -> None:
    from glmtui.api.demo import DEMO_BASE_URL, DemoTransport

    client = ChatClient(DEMO_BASE_URL, transport=DemoTransport(pace=0))
    events = await collect(client, request())
    assert "offline demo" in content(events)
    assert reasoning(events)
    assert any(isinstance(e, UsageReport) for e in events)
    assert events[-1] == Finished("stop", "zai-org-glm-5")
    text = content(events)
    for block in ("```", "| Feature |", "\n- "):  # fenced code, a table, a list
        assert block in text


async def test_demo_honours_max_tokens() -> None:
    from glmtui.api.demo import DEMO_BASE_URL, DemoTransport

    client = ChatClient(DEMO_BASE_URL, transport=DemoTransport(pace=0))
    events = await collect(client, request(max_tokens=120))
    assert events[-1] == Finished("length", "zai-org-glm-5")


async def test_paced_reads_lose_nothing(server: LoopbackServer) -> None:
    """Reading at most once per frame (as the UI does) delivers every event, in order."""
    tokens = [f"t{n} " for n in range(60)]
    parts: list[object] = [sse(chunk("", role="assistant"))]
    for token in tokens:
        parts += [sse(chunk(token)), 0.002]
    parts += [sse(chunk(finish_reason="stop")), DONE]
    server.enqueue(StreamReply(parts))  # type: ignore[arg-type]
    events = await collect(client_for(server, read_pacing=ReadPacing(0.03, 0.1, 5)))
    assert content(events) == "".join(tokens)
    assert isinstance(events[-1], Finished)


async def test_a_model_id_is_quoted_in_the_url(server: LoopbackServer) -> None:
    """An id is data: "?" and "#" would otherwise cut the path, "%" and spaces garble it."""
    with pytest.raises(NotFoundError, match="does not exist"):
        async with client_for(server) as client:
            await client.get_model("odd id?v=1#x%")
    assert server.requests[-1].target == "/v1/models/odd%20id%3Fv%3D1%23x%25"


async def paced_bursts(
    server: LoopbackServer,
    pacing: ReadPacing,
    spacing: float,
    *,
    silence: float = 0.0,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[int, float]:
    """Stream 100 tokens ``spacing`` s apart (after ``silence`` s with nothing but the role
    chunk) to a client reading with ``pacing``. Returns how many reads of the body took them
    (counted where the pacer is told of each chunk, not guessed from arrival times, which a
    loaded machine spreads out) and over how many seconds they arrived. Checks that every
    token arrived, in order."""
    tokens = [f"t{n} " for n in range(100)]
    parts: list[object] = [sse(chunk("", role="assistant")), silence]
    for token in tokens:
        parts += [sse(chunk(token)), spacing]
    parts += [sse(chunk(finish_reason="stop")), DONE]
    server.enqueue(StreamReply(parts))  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    reads: list[float] = []
    hold = Pacer.hold

    async def counted(pacer: Pacer, size: int, waited: float) -> None:
        if waited >= WAITED:  # a chunk that started a read of the network
            reads.append(loop.time())
        await hold(pacer, size, waited)

    monkeypatch.setattr(Pacer, "hold", counted)
    received: list[str] = []
    async with client_for(server, read_pacing=pacing) as client:
        async for event in client.stream_chat(request()):
            if isinstance(event, ContentDelta):
                received.append(event.text)
    assert received == tokens
    return len(reads), reads[-1] - reads[0]


async def test_paced_reads_take_what_piled_up_at_once(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a read interval, tokens sent 2 ms apart reach the app in a few bursts (one socket
    read per interval), not one wake-up per token, and none is lost or reordered."""
    bursts, duration = await paced_bursts(
        server, ReadPacing(0.05, 0.05, 5), 0.002, monkeypatch=monkeypatch
    )
    # Unpaced, each token is its own burst (~100); paced, one per 0.05 s of sending (~0.3 s
    # here, longer on a busy machine: the bound grows with it).
    assert bursts <= duration * 30 + 3, f"{bursts} bursts for 100 tokens in {duration:.2f} s"


def test_the_tui_client_is_paced_and_scripts_are_not() -> None:
    """The app's client reads at most once per frame (the demo's too); ``glmtui ask`` reads
    as data arrives."""
    from glmtui.chat.endpoints import make_client
    from glmtui.config import Overrides, load_settings
    from glmtui.ui.app import READ_PACING, GlmApp

    for demo in (False, True):
        settings = load_settings(Overrides(base_url="http://127.0.0.1:9/v1", demo=demo))
        assert GlmApp(settings).client.read_pacing == READ_PACING
        assert make_client(settings).read_pacing is None


def test_read_pacing_follows_the_event_rate() -> None:
    """Fast streams are read once per frame; slow ones about ``batch`` events per read,
    never less often than ``slowest``."""
    pacing = ReadPacing(fastest=1 / 30, slowest=1 / 12, batch=5)
    assert pacing.interval(0, 0.0) == pacing.fastest  # nothing to go on yet
    assert pacing.interval(2000, 10.0) == pacing.fastest  # 200 events/s
    assert pacing.interval(600, 10.0) == pytest.approx(5 / 60)  # 60 events/s: 5 a read
    assert pacing.interval(10, 10.0) == pacing.slowest  # a trickle
    # A UI's reads come a little after its frames are due, so each read is drawn at once.
    behind = ReadPacing(fastest=1 / 30, slowest=1 / 12, batch=5, behind=0.002)
    assert behind.interval(2000, 10.0) == pytest.approx(1 / 30 + 0.002)
    assert behind.interval(10, 10.0) == pytest.approx(1 / 12 + 0.002)


async def test_a_slow_stream_is_read_a_batch_at_a_time(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At ~50 events/s a read takes about ``batch`` of them (one read per frame), not one
    read per 1/30 s."""
    bursts, duration = await paced_bursts(
        server, ReadPacing(1 / 30, 0.1, 5), 0.02, monkeypatch=monkeypatch
    )
    # Read every 1/30 s this would be ~duration * 30 bursts; at 5 events a read, ~duration * 10.
    assert bursts <= duration * 15 + 3, f"{bursts} bursts in {duration:.2f} s"


async def test_pacing_never_holds_back_a_burst() -> None:
    """Chunks that fill most of a read (text piling up: a burst, a reply sent at once) are
    read on at once; a chunk that brought little after waiting is held until an interval
    after the last. With 10 s of pacing, a single pause would show."""
    loop = asyncio.get_running_loop()
    burst = Pacer(ReadPacing(10.0, 10.0, 5))
    started = loop.time()
    for _ in range(20):
        await burst.hold(READ_SIZE, waited=0.01)
    assert loop.time() - started < 1.0

    trickle = Pacer(ReadPacing(0.05, 0.05, 5))
    started = loop.time()
    for _ in range(3):
        await trickle.hold(len(b"data: x\n\n"), waited=0.01)
    # The first is handed on at once; each later one an interval after the one before.
    assert loop.time() - started >= 0.09
    started = loop.time()
    for _ in range(50):
        await trickle.hold(len(b"data: x\n\n"), waited=0.0)
    assert loop.time() - started < 1.0  # buffered chunks of one read: passed on at once


async def test_a_pause_before_the_text_does_not_slow_its_reading(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model that is silent for a while (thinking) and then streams fast is read at the
    fast pace: the event rate is measured afresh after a silence."""
    pacing = ReadPacing(1 / 30, 0.25, 5)
    bursts, _ = await paced_bursts(server, pacing, 0.003, silence=0.6, monkeypatch=monkeypatch)
    # ~0.3 s of text: about 9 reads at 1/30 s; taken for a slow stream (2 events in the first
    # 0.6 s) it would be read every 0.25 s, in 2 or 3 bursts.
    assert bursts >= 5, f"{bursts} bursts"


async def test_a_paced_body_is_decoded_once() -> None:
    """Pacing reads the raw body (public httpx API) and hands it to a response that decodes
    it as the original would: a compressed event stream reads as it was sent."""
    import gzip

    raw = gzip.compress(sse(chunk("compressed")) + DONE)

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 7):
            yield raw[start : start + 7]

    original = httpx.Response(
        200,
        headers={"content-type": "text/event-stream", "content-encoding": "gzip"},
        content=body(),
        request=httpx.Request("POST", "http://127.0.0.1/v1/chat/completions"),
    )
    response, pacer = paced(original, ReadPacing(0.001, 0.001, 5))
    text = b"".join([part async for part in response.aiter_bytes()])
    assert text == sse(chunk("compressed")) + DONE
    assert isinstance(pacer, Pacer)
