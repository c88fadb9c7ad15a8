"""`glmtui ask`, `glmtui models`, `glmtui config` and the global options, against the loopback
server. Most tests call ``main()`` in-process; a few run the real console script."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from glmtui.cli import main
from tests.conftest import FAKE_KEY
from tests.server import (
    HANG,
    JsonReply,
    LoopbackServer,
    StreamReply,
    chunk,
    oxen_error,
    sse,
    stream_of,
)


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    return FAKE_KEY


def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the retry count but shrink the backoff, so retry tests take milliseconds."""
    import functools

    from glmtui.api.client import RetryPolicy

    fast = functools.partial(RetryPolicy, base_delay=0.01, max_delay=0.02)
    monkeypatch.setattr("glmtui.api.client.RetryPolicy", fast)


@pytest.fixture(autouse=True)
def empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs see an empty, non-interactive stdin (as under a script)."""
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_streams_exactly_the_answer(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "ask", "--base-url", server.base_url, "hi")
    assert (code, out, err) == (0, "Hello from the loopback server.", "")


def test_global_options_before_or_after_the_subcommand(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--base-url", server.base_url, "--model", "m-x", "ask", "hi")
    assert (code, out) == (0, "Hello from the loopback server.")
    code, out, _ = run(capsys, "ask", "hi", "--model", "m-y", "--base-url", server.base_url)
    assert code == 0
    assert [r.json()["model"] for r in server.chat_requests] == ["m-x", "m-y"]


def test_ask_sends_the_set_parameters_and_key(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(
        capsys,
        "ask",
        "--base-url",
        server.base_url,
        "--system",
        "Be terse.",
        "--temperature",
        "0.5",
        "--top-p",
        "0.9",
        "--max-tokens",
        "64",
        "question",
    )
    assert code == 0
    sent = server.chat_requests[0]
    assert sent.headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert sent.json() == {
        "model": "zai-org-glm-5",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "question"},
        ],
        "temperature": 0.5,
        "top_p": 0.9,
        "max_tokens": 64,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_ask_show_reasoning_goes_to_stderr(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "ask", "--base-url", server.base_url, "--show-reasoning", "hi")
    assert code == 0
    assert out == "Hello from the loopback server."
    assert err.startswith("Thinking briefly.")


def test_ask_json(server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ask", "--base-url", server.base_url, "--json", "hi")
    payload = json.loads(out)
    assert code == 0
    assert payload["content"] == "Hello from the loopback server."
    assert payload["reasoning"] == "Thinking briefly."
    assert payload["finish_reason"] == "stop"
    assert payload["usage"]["prompt_tokens"] == 11
    assert payload["error"] is None


def test_ask_no_stream(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "ask", "--base-url", server.base_url, "--no-stream", "hi")
    assert (code, out) == (0, "Hello from the loopback server.")
    assert server.chat_requests[0].json()["stream"] is False


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (JsonReply(401, {"error": {"message": "Invalid key"}}), "API key was rejected"),
        (JsonReply(402, oxen_error("Payment Required", "Out of credits")), "Out of credits"),
        (JsonReply(404, oxen_error("Not found", "no model")), "was not found on this provider"),
        (JsonReply(500, {"message": "boom"}), "server failed (500"),
    ],
)
def test_ask_errors_exit_1_with_one_line(
    server: LoopbackServer,
    keyed: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    reply: JsonReply,
    words: str,
) -> None:
    for _ in range(4):
        server.enqueue(reply)
    fast_retries(monkeypatch)
    code, out, err = run(capsys, "ask", "--base-url", server.base_url, "hi")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("glmtui: error: ")
    assert words in err
    assert FAKE_KEY not in err


def test_ask_429_is_retried_then_explained(
    server: LoopbackServer,
    keyed: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast_retries(monkeypatch)
    for _ in range(4):
        server.enqueue(JsonReply(429, {"error": {"message": "slow down"}}))
    code, _, err = run(capsys, "ask", "--base-url", server.base_url, "hi")
    assert code == 1
    assert "Rate limited" in err
    assert len(server.chat_requests) == 4  # the first try and three retries


def test_ask_truncated_keeps_partial_on_stdout(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(stream_of(["partial", " text"], finish_reason=None, done=False))
    code, out, err = run(capsys, "ask", "--base-url", server.base_url, "hi")
    assert (code, out) == (1, "partial text")
    assert "cut off" in err


def test_ask_json_on_error_keeps_partial(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(StreamReply([sse(chunk("half")), sse({"error": {"message": "died"}})]))
    code, out, _ = run(capsys, "ask", "--base-url", server.base_url, "--json", "hi")
    payload = json.loads(out)
    assert code == 1
    assert payload["content"] == "half"
    assert payload["status"] == "error"  # as the TUI: an error, with the partial kept
    assert "died" in payload["error"]["message"]


def test_ask_without_key_explains_how_to_set_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ask", "hi")
    assert code == 2
    assert out == ""
    assert "OXEN_API_KEY" in err
    assert "--demo" in err


def test_ask_demo_needs_no_key(capsys: pytest.CaptureFixture[str], config_file: Path) -> None:
    config_file.write_text("demo_pace = 0\n")
    code, out, _ = run(capsys, "ask", "--demo", "hello")
    assert code == 0
    assert "offline demo" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["ask", "--temperature", "3", "hi"], "--temperature: must be 0–2 (got 3)"),
        (["ask", "--top-p", "-1", "hi"], "--top-p: must be 0–1 (got -1)"),
        (["ask", "--max-tokens", "0", "hi"], "--max-tokens: must be ≥ 1 (got 0)"),
        (
            ["ask", "--frequency-penalty", "2.5", "hi"],
            "--frequency-penalty: must be -2–2 (got 2.5)",
        ),
        (["ask", *["--stop", "x"] * 5, "hi"], "--stop: at most 4 stop sequences"),
        (["ask", "--temperature", "warm", "hi"], "invalid float value"),
        (["ask", "--bogus"], "unrecognized arguments"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_usage_exits_2_and_sends_nothing(
    server: LoopbackServer,
    keyed: str,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    words: str,
) -> None:
    code, _, err = run(capsys, *argv, "--base-url", server.base_url)
    assert code == 2
    assert words in err
    assert server.chat_requests == []


def test_bad_config_exits_2_with_one_message(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    config_file.write_text('session_format = "yaml"\n')
    code, _, err = run(capsys, "ask", "--demo", "hi")
    assert code == 2
    assert str(config_file) in err
    assert "session_format" in err
    assert "Traceback" not in err


def test_config_option_names_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, server: LoopbackServer
) -> None:
    other = tmp_path / "other.toml"
    other.write_text(f'base_url = "{server.base_url}"\napi_key = "{FAKE_KEY}"\n')
    code, out, _ = run(capsys, "ask", "hi", "--config", str(other))
    assert (code, out) == (0, "Hello from the loopback server.")


def test_models_list_and_search(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "models", "--base-url", server.base_url)
    assert code == 0
    assert "zai-org-glm-5" in out
    assert "200,000" in out
    code, out, _ = run(capsys, "models", "--search", "llama", "--base-url", server.base_url)
    assert "zai-org-glm-5" not in out
    code, out, _ = run(capsys, "models", "--json", "--base-url", server.base_url)
    assert "zai-org-glm-5" in [m["id"] for m in json.loads(out)]


def test_models_show_prints_the_facts(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "models", "show", "zai-org-glm-5", "--base-url", server.base_url)
    assert code == 0
    for fact in ("744 Billion", "40 Billion", "200,000", "NVFP4", "/ 1M"):
        assert fact in out


def test_models_show_unknown_exits_1(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "models", "show", "nope", "--base-url", server.base_url)
    assert code == 1
    assert "'nope' does not exist on this provider" in err


def test_models_in_demo_mode(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "models", "--demo")
    assert code == 0
    assert "zai-org-glm-5" in out


def test_config_show_never_prints_the_key(keyed: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "config")
    assert code == 0
    assert "set (from OXEN_API_KEY)" in out
    assert FAKE_KEY not in out


def test_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    for option in ("--base-url", "--model", "--provider", "--demo", "--config", "--theme"):
        assert option in top
    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    ask = capsys.readouterr().out
    for option in (
        "--system",
        "--temperature",
        "--top-p",
        "--max-tokens",
        "--no-stream",
        "--show-reasoning",
        "--json",
        "--base-url",
        "--demo",
    ):
        assert option in ask


# --- the real console script -------------------------------------------------------------


def glmtui(*argv: str, **kw: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "glmtui", *argv],
        stdin=kw.pop("stdin", subprocess.PIPE),  # type: ignore[arg-type]
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "OXEN_API_KEY": FAKE_KEY},
    )


def test_prompt_from_stdin(server: LoopbackServer) -> None:
    proc = glmtui("ask", "--base-url", server.base_url)
    out, err = proc.communicate(b"piped question\n", timeout=30)
    assert proc.returncode == 0, err
    assert out.decode() == "Hello from the loopback server."
    assert server.chat_requests[0].json()["messages"][-1]["content"] == "piped question\n"


def test_idle_open_stdin_does_not_block_a_prompt_argument(server: LoopbackServer) -> None:
    proc = glmtui("ask", "--base-url", server.base_url, "hi")  # stdin: a pipe never closed
    assert proc.stdout is not None
    assert proc.stdout.read() == b"Hello from the loopback server."
    assert proc.wait(timeout=30) == 0
    assert proc.stdin is not None
    proc.stdin.close()


def test_arguments_and_stdin_are_combined(server: LoopbackServer) -> None:
    proc = glmtui("ask", "Summarise:", "--base-url", server.base_url)
    proc.communicate(b"some file contents", timeout=30)
    assert proc.returncode == 0
    sent = server.chat_requests[0].json()["messages"][-1]["content"]
    assert sent == "Summarise:\n\nsome file contents"


def test_ctrl_c_exits_130_and_keeps_partial(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("kept ")), HANG]))
    proc = glmtui("ask", "--base-url", server.base_url, "hi", stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    assert proc.stdout.read(5) == b"kept "
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert b"interrupted" in err
    assert b"Traceback" not in err
    assert server.wait_for_disconnects(1) >= 1
