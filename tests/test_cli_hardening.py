"""The command line under hostile or unusual input: never a traceback, always one clear line.

Each class of input is tried at every place it can enter: malformed base URLs from the flag,
the environment, the config file and a provider profile, against the app, ``ask`` and
``config show``; config files that are not small regular files; output into a pipe that was
closed; bytes that are not UTF-8 in arguments and on stdin; a config file that exposes a key.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from glmtui.chat.endpoints import DEMO_URL
from glmtui.cli import EXIT_OUTPUT_CLOSED, main
from glmtui.store import SessionStore
from glmtui.ui.app import GlmApp

FORBIDDEN_IN_A_LINE = [chr(c) for c in (*range(0, 9), *range(11, 32), 127)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def no_app(monkeypatch: pytest.MonkeyPatch) -> list[GlmApp]:
    """``glmtui`` with no command must not get as far as running the app on bad input."""
    started: list[GlmApp] = []

    def refuse(self: GlmApp, *args: Any, **kwargs: Any) -> None:
        started.append(self)
        raise AssertionError("the app was started despite the bad input")

    monkeypatch.setattr(GlmApp, "run", refuse)
    return started


@pytest.fixture(autouse=True)
def empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def one_clean_line(err: str) -> None:
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not [c for c in err.rstrip("\n") if c in FORBIDDEN_IN_A_LINE], repr(err)


# --- malformed base URLs -------------------------------------------------------------------

BAD_URLS = [
    pytest.param("http://[::1", "not a valid URL", id="unclosed-ipv6"),
    pytest.param("http://127.0.0.1:99999/v1", "invalid port", id="port-too-big"),
    pytest.param("http://127.0.0.1:0/v1", "invalid port", id="port-zero"),
    pytest.param("http://127.0.0.1:http/v1", "invalid port", id="port-not-a-number"),
    pytest.param("http://host\r\nX-Evil: 1/v1", "control characters", id="crlf"),
    pytest.param("http://host/v1\x1b]2;pwned\x07", "control characters", id="escape"),
    pytest.param("http://host /v1", "spaces", id="space"),
    pytest.param("http://user:s3cr3t-pass@127.0.0.1/v1", "user name or password", id="password"),
    pytest.param("https://s3cr3t-pass@hub.oxen.ai/api/ai", "user name or password", id="userinfo"),
    pytest.param("ftp://127.0.0.1/v1", "http:// or https://", id="scheme"),
    pytest.param("http://", "no host", id="no-host"),
    pytest.param("127.0.0.1:8000/v1", "http:// or https://", id="no-scheme"),
    pytest.param("http://127.0.0.1/v1?key=1", "query", id="query"),
]

ENTRY_POINTS = [
    pytest.param([], id="app"),
    pytest.param(["ask", "hi"], id="ask"),
    pytest.param(["config", "show"], id="config-show"),
    pytest.param(["models"], id="models"),
]


def place_url(
    source: str, url: str, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """Put ``url`` where ``source`` says; returns the extra arguments that use it."""
    if source == "flag":
        return ["--base-url", url]
    if source == "env":
        monkeypatch.setenv("GLMTUI_BASE_URL", url)
    elif source == "config":
        config_file.write_text(tomli_w.dumps({"base_url": url}), encoding="utf-8")
    elif source == "profile":
        config_file.write_text(
            tomli_w.dumps({"providers": {"gpu": {"base_url": url}}}), encoding="utf-8"
        )
        return ["--provider", "gpu"]
    return []


@pytest.mark.parametrize("source", ["flag", "env", "config", "profile"])
@pytest.mark.parametrize("argv", ENTRY_POINTS)
@pytest.mark.parametrize(("url", "reason"), BAD_URLS)
def test_a_bad_base_url_stops_every_entry_point_with_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    config_file: Path,
    no_app: list[GlmApp],
    source: str,
    argv: list[str],
    url: str,
    reason: str,
) -> None:
    monkeypatch.setenv("OXEN_API_KEY", "unused")
    extra = place_url(source, url, config_file, monkeypatch)
    code, out, err = run(capsys, *argv, *extra)
    assert (code, out, no_app) == (2, "", [])
    assert err.startswith("glmtui: config error: ")
    assert reason in err
    assert "s3cr3t" not in err  # a password in a URL is never printed
    one_clean_line(err)


@pytest.mark.parametrize(
    "url",
    ["http://[::1]:8000/v1", "http://localhost:8000/v1/", "https://hub.oxen.ai/api/ai"],
)
def test_good_urls_pass(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, _ = run(capsys, "config", "show", "--base-url", url)
    assert code == 0
    assert url.rstrip("/") in out


# --- config files that are not small regular files --------------------------------------------


def glmtui_process(*argv: str, **options: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "glmtui", *argv], capture_output=True, timeout=20, **options
    )


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "config.fifo"
    os.mkfifo(path)
    return path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero")
@pytest.mark.parametrize("kind", ["dev-zero", "fifo"])
def test_a_config_that_never_ends_is_refused_at_once(kind: str, fifo: Path) -> None:
    """``--config /dev/zero`` once read 4 GB in 4 s, and a FIFO with no writer hung."""
    target = "/dev/zero" if kind == "dev-zero" else str(fifo)
    done = glmtui_process("config", "show", "--config", target)
    assert done.returncode == 2
    assert done.stdout == b""
    err = done.stderr.decode()
    assert f"{target}: cannot read the config file (it is not a regular file)." in err
    one_clean_line(err)


def test_a_folder_or_a_huge_file_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    code, _, err = run(capsys, "config", "show", "--config", str(folder))
    assert code == 2
    assert "(it is a folder)" in err
    one_clean_line(err)
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"# " + b"x" * (2 * 1024 * 1024) + b"\n")
    code, _, err = run(capsys, "config", "show", "--config", str(huge))
    assert code == 2
    assert "a config file is at most 1,048,576" in err
    one_clean_line(err)


# --- a key in a config file others can read ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mode", "warned"),
    [
        pytest.param('api_key = "k"\n', 0o644, True, id="key-readable-by-all"),
        pytest.param('api_key = "k"\n', 0o640, True, id="key-readable-by-group"),
        pytest.param('[providers.vllm]\napi_key = "k"\n', 0o644, True, id="profile-key"),
        pytest.param('api_key = "k"\n', 0o600, False, id="key-private"),
        pytest.param('model = "m"\n', 0o644, False, id="no-key"),
    ],
)
def test_a_key_in_a_config_others_can_read_is_warned_about(
    capsys: pytest.CaptureFixture[str], config_file: Path, text: str, mode: int, warned: bool
) -> None:
    config_file.write_text(text, encoding="utf-8")
    config_file.chmod(mode)
    code, _, err = run(capsys, "config", "show")
    assert code == 0
    if warned:
        assert err.count("warning:") == 1
        assert f"chmod 600 {config_file}" in err
    else:
        assert err == ""
    assert config_file.stat().st_mode & 0o777 == mode  # told, never changed behind the back


# --- output into a closed pipe ----------------------------------------------------------------


def run_into_closed_pipe(*argv: str) -> tuple[int, str]:
    """Run glmtui with stdout a pipe whose reader is already gone; returns (status, stderr)."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "glmtui", *argv],
            stdin=subprocess.DEVNULL,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(write)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err


@pytest.fixture
def demo_instant(config_file: Path) -> None:
    config_file.write_text("demo_pace = 0\n", encoding="utf-8")


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["ask", "--demo", "hi"], id="ask"),
        pytest.param(["ask", "--demo", "--no-stream", "hi"], id="ask-no-stream"),
        pytest.param(["ask", "--demo", "--json", "hi"], id="ask-json"),
        pytest.param(["sessions", "list", "--json"], id="sessions-list"),
        pytest.param(["sessions", "list"], id="sessions-table"),
        pytest.param(["models", "--demo", "--json"], id="models"),
        pytest.param(["models", "show", "zai-org-glm-5", "--demo", "--json"], id="models-show"),
        pytest.param(["config", "reference"], id="config-reference"),
        pytest.param(["config", "show"], id="config-show"),
        pytest.param(["--help"], id="help"),  # argparse drops the error itself: exit 0
    ],
)
def test_output_into_a_closed_pipe_ends_quietly(demo_instant: None, argv: list[str]) -> None:
    """``glmtui … | head`` once printed a 22-line BrokenPipeError; now it stops as cat does."""
    store = SessionStore.from_settings(_settings())
    from glmtui.domain import Message, Session

    store.save(Session(title="One", messages=[Message("user", "hi")]))
    store.close()
    code, err = run_into_closed_pipe(*argv)
    assert err == ""
    assert code == (0 if argv == ["--help"] else EXIT_OUTPUT_CLOSED)


def test_a_closed_pipe_still_saves_the_exchange(demo_instant: None) -> None:
    """What arrived is kept: ``ask --save`` into a closed pipe still stores the session."""
    code, err = run_into_closed_pipe("ask", "--demo", "--save", "hi")
    assert (code, err) == (EXIT_OUTPUT_CLOSED, "")
    [summary] = SessionStore.from_settings(_settings()).list_sessions()
    assert summary.message_count == 2


def _settings() -> Any:
    from glmtui.config import load_settings

    return load_settings()


# --- bytes that are not UTF-8 ---------------------------------------------------------------


def test_latin_1_on_stdin_is_sent_with_replacement_characters(demo_instant: None) -> None:
    done = glmtui_process("ask", "--demo", "--json", "Summarise:", input=b"caf\xe9 au lait\n")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert "Summarise: caf\ufffd au lait" in payload["content"]
    assert b"stdin is not UTF-8 text; 1 undecodable byte sequence" in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([b"ask", b"--demo", b"--json", b"x\xff y"], id="ask-prompt"),
        pytest.param([b"ask", b"--demo", b"--json", b"--system", b"\xfe", b"hi"], id="system"),
        pytest.param([b"sessions", b"search", b"\xff\xfe"], id="search"),
        pytest.param([b"models", b"--demo", b"--search", b"\xff"], id="models-search"),
        pytest.param([b"--demo", b"--model", b"m\xff", b"config", b"show"], id="model-id"),
    ],
)
def test_arguments_that_are_not_utf_8_never_crash(demo_instant: None, argv: list[bytes]) -> None:
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"glmtui", *argv],
        capture_output=True,
        timeout=20,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    if b"--json" in argv:
        assert json.loads(done.stdout)["error"] is None


def test_a_terminal_that_cannot_show_the_text_gets_escapes(demo_instant: None) -> None:
    """An ASCII-only output (``PYTHONIOENCODING=ascii``) gets ``\\u…`` escapes, not a crash."""
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = glmtui_process("ask", "--demo", "Café ☕", env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert b"Caf\\xe9 \\u2615" in done.stdout


# --- help and usage ---------------------------------------------------------------------------


def test_help_names_every_exit_status_and_the_config_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "141 output closed" in out
    assert "'glmtui config path'" in out


@pytest.mark.parametrize("command", ["models", "sessions"])
def test_usage_shows_the_action_as_optional(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "ACTION ..." not in out
    assert f"glmtui {command} [" in out


@pytest.mark.parametrize(
    ("stops", "expected"),
    [
        pytest.param(["\n\n"], ["\n\n"], id="a-line-break-is-one-sequence"),
        pytest.param(["a", "b", "c", "d"], ["a", "b", "c", "d"], id="four"),
    ],
)
def test_each_stop_is_one_sequence_as_given(
    capsys: pytest.CaptureFixture[str], stops: list[str], expected: list[str]
) -> None:
    argv = ["ask", "--demo", "--print-request", "json", "hi"]
    for stop in stops:
        argv += ["--stop", stop]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert json.loads(out)["stop"] == expected


@pytest.mark.parametrize("stops", [["a", "b", "c", "d", "e"], [""]], ids=["five", "empty"])
def test_bad_stop_sequences_are_refused(
    capsys: pytest.CaptureFixture[str], stops: list[str]
) -> None:
    argv = ["ask", "--demo", "hi"]
    for stop in stops:
        argv += ["--stop", stop]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert "nothing was sent" in err


# --- a saved exchange names the server it went to ---------------------------------------------


def test_ask_save_records_the_server_it_talked_to(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, server: Any
) -> None:
    from tests.conftest import FAKE_KEY
    from tests.server import stream_of

    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    server.enqueue(stream_of(["Local answer."]))
    code, _, _ = run(capsys, "ask", "--base-url", server.base_url, "--save", "hi")
    assert code == 0
    [summary] = SessionStore.from_settings(_settings()).list_sessions()
    session = SessionStore.from_settings(_settings()).load(summary.id)
    assert (session.provider, session.base_url) == ("oxen", server.base_url)


def test_a_demo_exchange_is_saved_as_the_demo(
    capsys: pytest.CaptureFixture[str], demo_instant: None
) -> None:
    """A demo session must never be taken for one with a real provider (and resumed there)."""
    code, _, _ = run(capsys, "ask", "--demo", "--save", "hi")
    assert code == 0
    [summary] = SessionStore.from_settings(_settings()).list_sessions()
    session = SessionStore.from_settings(_settings()).load(summary.id)
    assert (session.provider, session.base_url) == ("demo", DEMO_URL)


def test_a_provider_can_state_its_context_length(config_file: Path) -> None:
    from glmtui.config import ConfigError, load_settings

    config_file.write_text(
        '[providers.llama]\nbase_url = "http://127.0.0.1:8080/v1"\ncontext_length = 4096\n',
        encoding="utf-8",
    )
    assert load_settings().providers["llama"].context_length == 4096
    config_file.write_text(
        '[providers.llama]\nbase_url = "http://127.0.0.1:8080/v1"\ncontext_length = 0\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="'context_length' must be a whole number ≥ 1"):
        load_settings()


# --- exit statuses of session references -------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["sessions", "show", "zzz"], ["sessions", "export", "zzz"], ["--session", "zzz"]],
    ids=["show", "export", "resume"],
)
def test_an_unknown_session_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Status 1 is for API, network and file failures; a wrong reference is bad usage (2)."""
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert "No session with id 'zzz'" in err
    one_clean_line(err)


@pytest.mark.parametrize("argv", [["sessions", "show"], ["--session"]], ids=["show", "resume"])
def test_a_folder_given_as_a_session_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    """``glmtui sessions show /tmp`` raised IsADirectoryError."""
    code, out, err = run(capsys, *argv, str(tmp_path))
    assert code in (1, 2)
    assert out == ""
    assert "cannot be read (it is a folder)" in err
    one_clean_line(err)


@pytest.mark.parametrize("status", [400, 401, 402, 404, 408, 418, 429, 500, 503])
@pytest.mark.parametrize("said", ["You have no credits.", "Slow down!", "Really?", "no stop"])
def test_messages_never_end_in_a_doubled_full_stop(status: int, said: str) -> None:
    """'Out of credits (402): You have no credits..' — the server's own sentence ends it."""
    from glmtui.api.errors import error_for_status

    body = json.dumps({"error": {"message": said}}).encode()
    message = error_for_status(status, body, model="m", endpoint="model").describe()
    assert said in message
    assert ".." not in message.replace("...", "")
    assert "!." not in message
    assert "?." not in message


def test_streamed_json_gives_a_usage_object_when_the_server_sends_none(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, server: Any
) -> None:
    """Counted from the stream's deltas and marked as an estimate."""
    from tests.conftest import FAKE_KEY
    from tests.server import stream_of

    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    server.enqueue(stream_of(["one ", "two ", "three"], usage=False))
    code, out, _ = run(capsys, "ask", "--base-url", server.base_url, "--json", "count")
    assert code == 0
    usage = json.loads(out)["usage"]
    assert usage["completion_tokens"] == 3
    assert usage["estimated"] is True
