"""``glmtui ask --session ID "next prompt"``: the command line continues a saved conversation
through the same turn engine as the app (its server, model, parameters and history)."""

from __future__ import annotations

import io
import sys

import pytest

from glmtui.cli import main
from glmtui.config import load_settings
from glmtui.domain import Message, Parameters, Session
from glmtui.store import SCHEMA_VERSION, SessionStore, encode_session
from tests.conftest import FAKE_KEY
from tests.server import LoopbackServer, stream_of


@pytest.fixture(autouse=True)
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def store() -> SessionStore:
    return SessionStore.from_settings(load_settings())


def saved_session(server: LoopbackServer, **changes: object) -> Session:
    session = Session(
        title="Rust lifetimes",
        provider="oxen",
        base_url=server.base_url,
        system_prompt="Be brief.",
        parameters=Parameters(temperature=0.4),
        messages=[
            Message("user", "What is a lifetime?"),
            Message("assistant", "A scope for a borrow.", status="complete", reasoning="hm"),
        ],
    )
    for name, value in changes.items():
        setattr(session, name, value)
    with store() as the_store:
        the_store.save(session)
    return session


def test_the_next_turn_carries_the_history_and_is_saved_into_the_session(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer
) -> None:
    before = saved_session(server)
    server.enqueue(stream_of(["Like a ", "loan."]))
    code, out, err = run(
        capsys, "ask", "--base-url", server.base_url, "--session", before.id[:6], "And why?"
    )
    assert code == 0, err
    assert out == "Like a loan."
    assert f"saved into session {before.id[:8]}" in err
    [request] = server.chat_requests
    body = request.json()
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is a lifetime?"},
        {"role": "assistant", "content": "A scope for a borrow."},
        {"role": "user", "content": "And why?"},
    ]
    assert body["temperature"] == 0.4
    after = store().load(before.id)
    assert after.messages[:2] == before.messages  # untouched
    assert [(m.role, m.content, m.status) for m in after.messages[2:]] == [
        ("user", "And why?", None),
        ("assistant", "Like a loan.", "complete"),
    ]
    assert len(store().list_sessions()) == 1  # into the session, not a new one


def test_options_given_change_the_session_from_this_turn_on(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer
) -> None:
    before = saved_session(server)
    server.enqueue(stream_of(["ok"]))
    code, _, err = run(
        capsys,
        "ask",
        "--base-url",
        server.base_url,
        "--session",
        before.id,
        "--temperature",
        "0.9",
        "--system",
        "Be long.",
        "Go on",
    )
    assert code == 0, err
    body = server.chat_requests[0].json()
    assert (body["temperature"], body["messages"][0]["content"]) == (0.9, "Be long.")
    after = store().load(before.id)
    assert (after.parameters.temperature, after.system_prompt) == (0.9, "Be long.")


def test_global_session_option_before_the_command_means_the_same(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer
) -> None:
    before = saved_session(server)
    server.enqueue(stream_of(["ok"]))
    code, _, err = run(capsys, "--session", before.id, "--base-url", server.base_url, "ask", "x")
    assert code == 0, err
    assert len(store().load(before.id).messages) == 4


def test_a_session_whose_server_is_not_configured_sends_nothing(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer, unused_port: int
) -> None:
    elsewhere = f"http://127.0.0.1:{unused_port}/v1"
    before = saved_session(server, base_url=elsewhere)
    code, out, err = run(
        capsys, "ask", "--base-url", server.base_url, "--session", before.id, "Go on"
    )
    assert (code, out) == (2, "")
    assert elsewhere in err
    assert "nothing was sent" in err
    assert f"--base-url {elsewhere}" in err
    assert server.requests == []
    assert store().load(before.id).messages == before.messages


def test_a_demo_session_continues_in_the_demo(
    capsys: pytest.CaptureFixture[str], config_file: object
) -> None:
    from pathlib import Path

    Path(str(config_file)).write_text("demo_pace = 0\n", encoding="utf-8")
    code, _, err = run(capsys, "ask", "--demo", "--save", "first")
    assert code == 0, err
    [summary] = store().list_sessions()
    code, out, err = run(capsys, "ask", "--session", summary.id, "second")  # no --demo
    assert code == 0, err
    assert "offline demo" in out
    after = store().load(summary.id)
    assert (after.provider, len(after.messages)) == ("demo", 4)


@pytest.mark.parametrize(
    ("ref", "reason"),
    [("zzzz", "No session with id 'zzzz'"), ("", "No session id given")],
    ids=["unknown", "empty"],
)
def test_an_unknown_session_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer, ref: str, reason: str
) -> None:
    code, out, err = run(capsys, "ask", "--base-url", server.base_url, "--session", ref, "x")
    assert (code, out) == (2, "")
    assert reason in err
    assert server.requests == []


def test_a_read_only_session_is_refused(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer
) -> None:
    session = Session(id="future01", title="From the future", messages=[Message("user", "x")])
    folder = store().folder
    folder.mkdir(parents=True, exist_ok=True)
    data = encode_session(session, "toml").replace(
        f"schema_version = {SCHEMA_VERSION}".encode(), b"schema_version = 9"
    )
    (folder / "20300101-000000-future.toml").write_bytes(data)
    code, out, err = run(capsys, "ask", "--base-url", server.base_url, "--session", "future01", "x")
    assert (code, out) == (2, "")
    assert "read-only" in err
    assert server.requests == []


def test_save_and_session_cannot_be_combined(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ask", "--demo", "--save", "--session", "abc", "x")
    assert code == 2
    assert "not allowed with" in err
