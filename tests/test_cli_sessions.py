"""`glmtui sessions …` and `glmtui ask --save`, in-process through ``main()``."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from glmtui import paths
from glmtui.cli import main
from glmtui.domain import Message, Session, Usage
from glmtui.store import SCHEMA_VERSION, SessionStore, encode_session
from tests.conftest import FAKE_KEY
from tests.server import HANG, HELLO_TEXT, JsonReply, LoopbackServer, StreamReply, chunk, sse


@pytest.fixture(autouse=True)
def empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs see an empty, non-interactive stdin (as under a script)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    return FAKE_KEY


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def saved_sessions() -> list[Session]:
    with SessionStore(paths.data_dir()) as store:
        return [store.load(s.path) for s in store.list_sessions() if s.readable]


@pytest.fixture
def two_sessions() -> tuple[Session, Session]:
    first = Session(
        id="aaaa1111",
        title="Rust lifetimes question",
        created_at=datetime(2026, 11, 25, 20, 31, 3, tzinfo=UTC),
        updated_at=datetime(2026, 11, 25, 20, 35, 10, tzinfo=UTC),
        messages=[
            Message("user", "Why does elision work?"),
            Message(
                "assistant",
                "Because of the three rules.",
                reasoning="Explain elision.",
                status="complete",
                usage=Usage(10, 20, 30),
            ),
        ],
    )
    second = Session(
        id="aaaa2222",
        title="Docker \x1b[31mcache\x1b[0m",
        created_at=datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC),
        updated_at=datetime(2026, 11, 26, 9, 5, 0, tzinfo=UTC),
        messages=[Message("user", "Layers rebuild every time.")],
    )
    with SessionStore(paths.data_dir()) as store:
        store.save(first)
        store.save(second)
    return first, second


# --- sessions list / show / search / export ------------------------------------------------------


def test_list_with_no_sessions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sessions", "list")
    assert (code, out) == (0, "")
    assert "No sessions yet" in err
    code, out, _ = run(capsys, "sessions", "--json")
    assert (code, json.loads(out)) == (0, [])


def test_list_table_and_json(
    capsys: pytest.CaptureFixture[str], two_sessions: tuple[Session, Session]
) -> None:
    code, out, err = run(capsys, "sessions", "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "UPDATED", "MSGS", "TOKENS", "MODEL", "TITLE"]
    assert lines[1].startswith("aaaa2222  2026-11-26 09:05     1")
    assert lines[1].endswith("Docker \\x1b[31mcache\\x1b[0m")  # no escape reaches the terminal
    assert lines[2].startswith("aaaa1111  2026-11-25 20:35     2      30  zai-org-glm-5")
    assert lines[2].endswith("Rust lifetimes question")

    code, out, _ = run(capsys, "sessions", "list", "--json")
    listed = json.loads(out)
    assert [s["id"] for s in listed] == ["aaaa2222", "aaaa1111"]
    assert json.loads(run(capsys, "sessions", "--json", "list")[1]) == listed
    assert listed[1]["tokens"] == 30
    assert listed[1]["message_count"] == 2
    assert listed[1]["error"] is None
    assert Path(listed[1]["path"]).name == "20261125-203103-rust-lifetimes-question.toml"


def test_unreadable_files_are_listed_without_a_traceback(
    capsys: pytest.CaptureFixture[str], two_sessions: tuple[Session, Session]
) -> None:
    bad = paths.sessions_dir() / "20240101-000000-broken.toml"
    bad.write_bytes(b'schema_version = 1\ntitle = "cut')
    code, out, err = run(capsys, "sessions", "list")
    assert code == 0
    assert "20240101-000000-broken.toml: unreadable (at the end: invalid TOML" in out
    assert "Traceback" not in out + err
    code, out, _ = run(capsys, "sessions", "list", "--json")
    [broken] = [s for s in json.loads(out) if s["error"]]
    assert broken["id"] is None
    code, out, err = run(capsys, "sessions", "show", str(bad))
    assert code == 1
    assert err.startswith("glmtui: error: 20240101-000000-broken.toml: at the end: invalid TOML")
    assert err.count("\n") == 1
    assert bad.read_bytes() == b'schema_version = 1\ntitle = "cut'


def test_show_by_prefix(
    capsys: pytest.CaptureFixture[str], two_sessions: tuple[Session, Session]
) -> None:
    code, out, _ = run(capsys, "sessions", "show", "aaaa1")
    assert code == 0
    assert out.startswith('---\ntitle: "Rust lifetimes question"\n')
    assert "## User\n\nWhy does elision work?" in out
    assert "<summary>Reasoning</summary>\n\nExplain elision." in out
    code, _, err = run(capsys, "sessions", "show", "aaaa")
    assert code == 2  # a reference that names several sessions: bad usage, not a failure
    assert "'aaaa' matches 2 sessions" in err
    code, _, err = run(capsys, "sessions", "show", "zzzz")
    assert code == 2
    assert "No session with id 'zzzz'" in err
    code, _, err = run(capsys, "sessions", "show")
    assert code == 2


def test_search(capsys: pytest.CaptureFixture[str], two_sessions: tuple[Session, Session]) -> None:
    code, out, _ = run(capsys, "sessions", "search", "three", "RULES")
    assert code == 0
    assert out.splitlines() == [
        "aaaa1111  2026-11-25 20:35  Rust lifetimes question",
        "    Because of the three rules.",
    ]
    code, out, _ = run(capsys, "sessions", "search", "layers", "--json")
    [hit] = json.loads(out)
    assert (hit["id"], hit["snippet"], hit["match"], hit["message_index"]) == (
        "aaaa2222",
        "Layers rebuild every time.",
        "message",
        0,
    )
    code, out, err = run(capsys, "sessions", "search", "nowhere")
    assert (code, out) == (0, "")
    assert "No sessions match 'nowhere'" in err
    code, _, err = run(capsys, "sessions", "search", "x", "--limit", "0")
    assert code == 2


@pytest.mark.parametrize("fmt", ["md", "json", "toml"])
def test_export(
    capsys: pytest.CaptureFixture[str],
    two_sessions: tuple[Session, Session],
    tmp_path: Path,
    fmt: str,
) -> None:
    first, _ = two_sessions
    code, out, _ = run(capsys, "sessions", "export", "aaaa1111", "--format", fmt)
    assert code == 0
    if fmt == "json":
        assert json.loads(out)["id"] == first.id
    elif fmt == "toml":
        assert tomllib.loads(out)["messages"][1]["content"] == "Because of the three rules."
    else:
        assert out.startswith("---\ntitle:")
    target = tmp_path / "out" / f"export.{fmt}"
    code, _, err = run(
        capsys, "sessions", "export", "aaaa1111", f"--format={fmt}", "-o", str(target)
    )
    assert code == 0
    assert target.read_text() == out
    assert str(target) in err


def test_export_to_an_unwritable_place(
    capsys: pytest.CaptureFixture[str], two_sessions: tuple[Session, Session], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "sessions", "export", "aaaa1111", "-o", str(blocker / "out.md"))
    assert code == 1
    assert err.startswith("glmtui: error: Could not write out.md")
    assert "Traceback" not in err


def test_a_newer_schema_is_shown_read_only(capsys: pytest.CaptureFixture[str]) -> None:
    folder = paths.sessions_dir()
    folder.mkdir(parents=True)
    data = encode_session(Session(id="future1", title="From the future"), "json")
    now, future = f'"schema_version": {SCHEMA_VERSION}', f'"schema_version": {SCHEMA_VERSION + 1}'
    (folder / "20300101-000000-future.json").write_bytes(
        data.replace(now.encode(), future.encode())
    )
    code, out, _ = run(capsys, "sessions", "list")
    assert "From the future (read-only)" in out
    code, out, _ = run(capsys, "sessions", "show", "future1")
    assert code == 0
    assert "read_only: true" in out


def test_sessions_commands_never_load_textual(two_sessions: tuple[Session, Session]) -> None:
    code = (
        "import sys; from glmtui.cli import main; "
        "rc = main(['sessions', 'list']) or main(['sessions', 'search', 'rust']) "
        "or main(['sessions', 'show', 'aaaa1']); "
        "sys.stderr.write(str(any(m.startswith('textual') for m in sys.modules))); sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("False")


# --- ask --save ---------------------------------------------------------------------------------


def test_ask_save_stores_the_exchange_as_toml(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "ask", "--save", "--base-url", server.base_url, "Say hello")
    assert (code, out) == (0, HELLO_TEXT)
    assert err.startswith("glmtui: saved as session ")
    [path] = paths.sessions_dir().iterdir()
    assert path.suffix == ".toml"
    assert path.name.endswith("-say-hello.toml")
    raw = path.read_bytes()
    assert FAKE_KEY.encode() not in raw
    data = tomllib.loads(raw.decode())
    assert data["title"] == "Say hello"
    user, reply = data["messages"]
    assert (user["role"], user["content"]) == ("user", "Say hello")
    assert reply["content"] == HELLO_TEXT
    assert reply["reasoning"] == "Thinking briefly."
    assert reply["status"] == "complete"
    assert reply["finish_reason"] == "stop"
    assert reply["usage"]["prompt_tokens"] == 11
    code, out, _ = run(capsys, "sessions", "list", "--json")
    assert [s["title"] for s in json.loads(out)] == ["Say hello"]


def test_ask_save_follows_session_format_and_reports_json(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    config_file.write_text('session_format = "json"\n')
    code, out, _ = run(capsys, "ask", "--save", "--json", "--base-url", server.base_url, "hi")
    assert code == 0
    payload = json.loads(out)
    path = Path(payload["session"]["path"])
    assert path.suffix == ".json"
    raw = path.read_bytes()
    assert FAKE_KEY.encode() not in raw
    data = json.loads(raw)
    assert data["id"] == payload["session"]["id"]
    assert data["messages"][1]["content"] == HELLO_TEXT


def test_ask_save_keeps_a_failed_exchange(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(StreamReply([sse(chunk("half an ")), sse({"error": {"message": "died"}})]))
    code, out, err = run(capsys, "ask", "--save", "--base-url", server.base_url, "hi")
    assert (code, out) == (1, "half an ")
    assert "saved as session" in err
    [session] = saved_sessions()
    reply = session.messages[1]
    assert (reply.content, reply.status) == ("half an ", "error")
    assert "died" in str(reply.error)

    server.enqueue(JsonReply(404, {"error": {"message": "no such model"}}))
    code, _, _ = run(capsys, "ask", "--save", "--base-url", server.base_url, "again")
    assert code == 1
    failed = next(s for s in saved_sessions() if s.title == "again")
    assert failed.messages[1].status == "error"
    assert failed.messages[1].content == ""


def test_ask_save_reports_a_write_failure(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    paths.data_dir().mkdir(parents=True)
    paths.sessions_dir().write_text("not a folder")
    code, out, err = run(capsys, "ask", "--save", "--base-url", server.base_url, "hi")
    assert code == 1
    assert out == HELLO_TEXT  # the answer is still printed
    assert err.startswith("glmtui: error: Could not save ")
    assert "Traceback" not in err


def test_ask_without_save_stores_nothing(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "ask", "--base-url", server.base_url, "hi")
    assert (code, err) == (0, "")
    assert not paths.sessions_dir().exists()


def test_ask_save_keeps_the_partial_reply_on_ctrl_c(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("kept ")), HANG]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "glmtui", "ask", "--save", "--base-url", server.base_url, "hi"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "OXEN_API_KEY": FAKE_KEY},
    )
    assert proc.stdout is not None
    assert proc.stdout.read(5) == b"kept "
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert b"Traceback" not in err
    [session] = saved_sessions()
    assert (session.messages[1].content, session.messages[1].status) == ("kept ", "interrupted")
