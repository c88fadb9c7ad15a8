"""Parameter validation rules and the request as cURL / Python / JSON (no UI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from glmtui.api.models import builtin_card, parse_model
from glmtui.api.request import ChatRequest
from glmtui.chat.export import as_curl, as_json, as_python, render
from glmtui.domain import Parameters
from glmtui.domain.params import (
    OPENAI_RANGES,
    ParameterError,
    parse,
    parse_stop,
    ranges_for,
    validate,
)
from tests.conftest import FAKE_KEY
from tests.server import (
    DONE,
    HELLO_TEXT,
    JsonReply,
    LoopbackServer,
    StreamPart,
    StreamReply,
    chunk,
    comment,
    oxen_error,
    sse,
    stream_of,
)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("temperature", "0.7", 0.7),
        ("temperature", "", None),
        ("temperature", " default ", None),
        ("top_p", "1", 1.0),
        ("max_tokens", "1_024", 1024),
        ("seed", "-3", -3),
        ("frequency_penalty", "-2", -2.0),
    ],
)
def test_parse_valid(name: str, text: str, expected: object) -> None:
    assert parse(name, text, OPENAI_RANGES) == expected


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("temperature", "2.5", "must be 0–2 (got 2.5)"),
        ("top_p", "-0.1", "must be 0–1"),
        ("max_tokens", "0", "must be ≥ 1"),
        ("max_tokens", "1.5", "must be a whole number"),
        ("presence_penalty", "3", "must be -2–2"),
        ("temperature", "warm", "“warm” is not a number"),
        ("temperature", "nan", "must be a number"),
    ],
)
def test_parse_invalid_gives_reason(name: str, text: str, reason: str) -> None:
    with pytest.raises(ParameterError) as info:
        parse(name, text, OPENAI_RANGES)
    assert reason in info.value.reason


def test_ranges_from_request_schema_and_output_limit() -> None:
    card = parse_model(
        {
            "id": "m",
            "max_output_tokens": 4096,
            "request_schema": {
                "properties": {
                    "temperature": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.6},
                    "max_tokens": {"type": "integer", "minimum": 16},
                }
            },
        }
    )
    ranges = ranges_for(card)
    assert (ranges["temperature"].maximum, ranges["temperature"].default) == (1, 0.6)
    assert (ranges["max_tokens"].minimum, ranges["max_tokens"].maximum) == (16, 4096)
    with pytest.raises(ParameterError, match="must be 0–1"):
        parse("temperature", "1.5", ranges)


def test_max_tokens_capped_by_a_known_context_but_not_an_assumed_one() -> None:
    """The built-in GLM-5 card's 200,000 is an assumption (a llama.cpp server of 4,096 was
    credited with it): it caps nothing. A context the server or the config states does."""
    card = builtin_card()
    assert card is not None
    assert card.context_assumed
    assert ranges_for(card)["max_tokens"].maximum == OPENAI_RANGES["max_tokens"].maximum
    stated = replace(card, context_length=4096, context_source="model")
    assert ranges_for(stated)["max_tokens"].maximum == 4096
    configured = replace(card, context_length=8192, context_source="config")
    assert ranges_for(configured)["max_tokens"].maximum == 8192


def test_validate_collects_every_problem() -> None:
    problems = validate(Parameters(temperature=3, top_p=2, max_tokens=10), OPENAI_RANGES)
    assert [p.name for p in problems] == ["temperature", "top_p"]


def test_stop_sequences() -> None:
    assert parse_stop("END\n\n###\n") == ("END", "###")
    assert parse_stop("  \n") is None
    with pytest.raises(ParameterError, match="at most 4"):
        parse_stop("a\nb\nc\nd\ne")


def request(stream: bool = True) -> ChatRequest:
    return ChatRequest(
        model="zai-org-glm-5",
        messages=({"role": "user", "content": 'it\'s a "quote" and $HOME and `tick`'},),
        parameters=Parameters(temperature=0.3, stop=("END",)),
        stream=stream,
    )


def test_json_is_the_body() -> None:
    assert json.loads(as_json(request())) == request().body()


def test_no_key_in_any_form() -> None:
    for fmt in ("curl", "python", "json"):
        text = render(request(), fmt, "http://127.0.0.1:9/v1", "OXEN_API_KEY")
        assert FAKE_KEY not in text
    assert "$OXEN_API_KEY" in as_curl(request(), "http://x/v1", "OXEN_API_KEY")
    assert "os.environ['OXEN_API_KEY']" in as_python(request(), "http://x/v1", "OXEN_API_KEY")
    assert "Authorization" not in as_curl(request(), "http://x/v1", None)


def test_python_snippet_is_valid_python() -> None:
    compile(as_python(request(), "http://x/v1", "OXEN_API_KEY"), "snippet", "exec")
    compile(as_python(request(stream=False), "http://x/v1", None), "snippet", "exec")


def test_curl_through_a_shell_reaches_the_server(server: LoopbackServer) -> None:
    """The printed cURL command, run by a shell, sends exactly the request glmtui would."""
    if not any((Path(d) / "curl").exists() for d in os.environ.get("PATH", "").split(":")):
        pytest.skip("curl is not installed")
    script = as_curl(request(), server.base_url, "OXEN_API_KEY")
    result = subprocess.run(
        ["sh", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "OXEN_API_KEY": FAKE_KEY},
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    sent = server.chat_requests[0]
    assert sent.json() == request().body()
    assert sent.headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert "data:" in result.stdout


def test_print_request_matches_what_ask_sends(
    server: LoopbackServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from glmtui.cli import main

    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    argv = ["ask", "--base-url", server.base_url, "--temperature", "0.2", "--stop", "X", "hello"]
    assert main([*argv, "--print-request", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert server.chat_requests == []  # nothing sent
    assert main(argv) == 0
    assert capsys.readouterr().out == HELLO_TEXT
    assert server.chat_requests[0].json() == printed


def _sse_text(stdout: str) -> str:
    """The reply text in a raw SSE stream (what cURL prints)."""
    text = []
    for line in stdout.splitlines():
        if line.startswith("data:") and line[5:].strip() != "[DONE]":
            for choice in json.loads(line[5:]).get("choices", []):
                text.append(choice.get("delta", {}).get("content") or "")
    return "".join(text)


def test_printed_curl_run_by_a_shell_gets_the_same_reply_as_ask(
    server: LoopbackServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``glmtui ask --print-request curl … | sh`` gets what ``glmtui ask …`` prints."""
    import io

    from glmtui.cli import main

    if not any((Path(d) / "curl").exists() for d in os.environ.get("PATH", "").split(":")):
        pytest.skip("curl is not installed")
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    argv = ["ask", "--base-url", server.base_url, "--max-tokens", "64", "say hello"]
    assert main([*argv, "--print-request", "curl"]) == 0
    script = capsys.readouterr().out
    assert FAKE_KEY not in script
    shell = subprocess.run(
        ["sh"],
        input=script,
        capture_output=True,
        text=True,
        env={**os.environ, "OXEN_API_KEY": FAKE_KEY},
        timeout=30,
    )
    assert shell.returncode == 0, shell.stderr
    assert main(argv) == 0
    asked = capsys.readouterr().out
    assert _sse_text(shell.stdout) == asked.rstrip("\n") == HELLO_TEXT.rstrip("\n")
    first, second = server.chat_requests
    assert first.json() == second.json()
    assert first.headers["authorization"] == second.headers["authorization"]


# --- the exported Python script decodes any valid event stream ---------------------------------


def run_script(script: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run an exported script with this interpreter (it has httpx) and the key set."""
    return subprocess.run(
        [sys.executable, "-"],
        input=script,
        capture_output=True,
        text=True,
        env={**os.environ, "OXEN_API_KEY": FAKE_KEY},
        timeout=timeout,
    )


def _hello(*, split: bool = False, crlf: bool = False, no_space: bool = False) -> list[StreamPart]:
    """'Hello' in three events of the given SSE style, then [DONE] in the same style."""
    chunks = [chunk("", role="assistant"), chunk("Hel"), chunk("lo", finish_reason="stop")]
    parts: list[StreamPart] = [
        sse(data, split=split, crlf=crlf, no_space=no_space) for data in chunks
    ]
    return [*parts, sse("[DONE]", crlf=crlf, no_space=no_space)]


def _halves(data: bytes) -> list[StreamPart]:
    middle = len(data) // 2
    return [data[:middle], 0.05, data[middle:]]


VALID_STREAMS: dict[str, list[StreamPart]] = {
    "one-line-events": _hello(),
    "multi-line-data": _hello(split=True),  # z.ai: one event over several data: lines
    "crlf": _hello(crlf=True),
    "data-without-space": _hello(no_space=True),
    "all-at-once": _hello(split=True, crlf=True, no_space=True),
    "comments": [comment(), sse(chunk("Hel")), comment("OPENROUTER PROCESSING"), *_hello()[2:]],
    "event-split-across-reads": [*_halves(sse(chunk("Hel"), split=True)), *_hello()[2:]],
    "nothing-after-done-is-read": [*_hello(), sse({"not": "a chunk"}), b"data: {broken\n\n"],
    "no-done-after-finish": _hello()[:3],
    "usage-only-chunk": [
        *_hello()[:3],
        sse(chunk(choices=False, usage={"prompt_tokens": 1, "completion_tokens": 2})),
        DONE,
    ],
    "newline-in-text-over-lines": [
        sse(chunk("Hel"), split=True),
        sse(chunk("lo\n\nand more"), split=True),
        DONE,
    ],
}
"""Valid server-sent event streams of one reply, in each form a provider may send."""

_EXPECTED = {"newline-in-text-over-lines": "Hello\n\nand more"}


@pytest.mark.parametrize("name", list(VALID_STREAMS), ids=list(VALID_STREAMS))
def test_exported_python_decodes_every_valid_stream(server: LoopbackServer, name: str) -> None:
    server.enqueue(StreamReply(VALID_STREAMS[name]))
    result = run_script(as_python(request(), server.base_url, "OXEN_API_KEY"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == _EXPECTED.get(name, "Hello") + "\n"
    assert "Traceback" not in result.stderr
    sent = server.chat_requests[0]
    assert sent.json() == request().body()
    assert sent.headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_exported_python_shows_reasoning_apart(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["Hel", "lo"], reasoning_tokens=["Let me ", "think."]))
    result = run_script(as_python(request(), server.base_url, "OXEN_API_KEY"))
    assert (result.returncode, result.stdout) == (0, "Hello\n")
    assert result.stderr == "Let me think."


_OVERLOADED = {"error": {"message": "Upstream overloaded"}}

ERROR_STREAMS: dict[str, list[StreamPart]] = {
    "error-object": [sse(chunk("Some text ")), sse(_OVERLOADED)],
    "event-error": [sse(chunk("Some text ")), sse(_OVERLOADED, event="error")],
    "event-error-plain-text": [sse(chunk("Some text ")), sse("Upstream overloaded", event="error")],
    "error-object-over-lines": [sse(chunk("Some text ")), sse(_OVERLOADED, split=True)],
}
"""Streams that report an error after some text, in each form a provider may use."""


@pytest.mark.parametrize("name", list(ERROR_STREAMS), ids=list(ERROR_STREAMS))
def test_exported_python_stops_at_an_error_with_its_message(
    server: LoopbackServer, name: str
) -> None:
    parts = ERROR_STREAMS[name]
    server.enqueue(StreamReply([*parts, sse(chunk("never shown")), DONE]))
    result = run_script(as_python(request(), server.base_url, "OXEN_API_KEY"))
    assert result.returncode == 1
    assert result.stdout == "Some text "  # what arrived, then nothing after the error
    assert "Upstream overloaded" in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_exported_python_reports_an_http_error_in_one_line(
    server: LoopbackServer, stream: bool
) -> None:
    server.enqueue(JsonReply(400, oxen_error("Bad Request", "temperature too high")))
    result = run_script(as_python(request(stream=stream), server.base_url, None))
    assert result.returncode == 1
    assert "400 Bad Request" in result.stderr
    assert "temperature too high" in result.stderr
    assert "Traceback" not in result.stderr
    assert "authorization" not in server.chat_requests[0].headers


def test_exported_python_without_streaming_prints_the_answer(server: LoopbackServer) -> None:
    result = run_script(as_python(request(stream=False), server.base_url, "OXEN_API_KEY"))
    assert (result.returncode, result.stdout) == (0, HELLO_TEXT + "\n")
    assert server.chat_requests[0].json() == request(stream=False).body()


def test_print_request_python_gets_what_ask_prints(
    server: LoopbackServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``glmtui ask --print-request python`` run by Python gets the reply ``glmtui ask``
    prints, from a server that spreads each event over several data: lines."""
    import io

    from glmtui.cli import main

    def split_events(_: object) -> StreamReply:
        parts: list[StreamPart] = [sse(chunk(t), split=True) for t in ("Split ", "over ", "lines.")]
        return StreamReply([*parts, sse(chunk(finish_reason="stop"), split=True), DONE])

    server.set_default(split_events)
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    argv = ["ask", "--base-url", server.base_url, "--temperature", "0.5", "say hello"]
    assert main([*argv, "--print-request", "python"]) == 0
    script = capsys.readouterr().out
    assert FAKE_KEY not in script
    result = run_script(script)
    assert result.returncode == 0, result.stderr
    assert main(argv) == 0
    assert result.stdout == capsys.readouterr().out + "\n" == "Split over lines.\n"
    first, second = server.chat_requests
    assert first.json() == second.json()
