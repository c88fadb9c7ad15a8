"""Parameter validation rules and the request as cURL / Python / JSON (no UI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from glmtui.api.models import builtin_card, parse_model
from glmtui.api.request import ChatRequest
from glmtui.domain import Parameters
from glmtui.params import OPENAI_RANGES, ParameterError, parse, parse_stop, ranges_for, validate
from glmtui.request_export import as_curl, as_json, as_python, render
from tests.conftest import FAKE_KEY
from tests.server import HELLO_TEXT, LoopbackServer


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


def test_glm5_max_tokens_capped_by_context() -> None:
    ranges = ranges_for(builtin_card())
    assert ranges["max_tokens"].maximum == 200_000


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
