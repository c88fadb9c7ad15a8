"""``glmtui ask`` with MCP servers in the config: a real stdio server written with the SDK
(``tests/mcp_servers``) and the loopback API asking for calls in both delta styles.

Nobody is there to approve a call, so only the config's ``allow`` lists and the command line
(``--allow-tool``, ``--allow-tools``) let one run; every call is reported on stderr, and the
session file keeps the whole loop.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from glmtui.cli import main
from glmtui.config import load_settings
from glmtui.store import SessionStore
from tests.mcp_servers.helpers import stdio_table, wait_until_gone
from tests.server import LoopbackServer, stream_of, tool_call_stream


@pytest.fixture(autouse=True)
def quiet_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def configure(server: LoopbackServer, **table: Any) -> Path:
    """A config sending to the loopback server (no key needed), with one MCP server."""
    path = Path(os.environ["GLMTUI_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "provider": "local",
        "providers": {"local": {"base_url": server.base_url, "model": "zai-org-glm-5"}},
        "mcp": {"servers": {"kit": stdio_table("kit", **table)}},
    }
    path.write_text(tomli_w.dumps(config))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("style", ["fragments", "whole"])
def test_an_allowed_call_runs_once_and_the_loop_is_saved(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer, style: str, tmp_path: Path
) -> None:
    configure(server, env={"GLMTUI_TEST_PID_DIR": str(tmp_path)})
    server.enqueue(
        tool_call_stream([("call_1", "add", '{"a": 2, "b": 3}')], style=style, text_tokens=["Hm."])
    )
    server.enqueue(stream_of(["Five."]))
    code, out, err = run(capsys, "ask", "--save", "--allow-tool", "kit.add", "Add 2 and 3")
    assert code == 0, err
    assert out == "Hm.\n\nFive."  # each step's text, a paragraph apart
    assert "glmtui: tool kit.add ran (" in err
    assert "STDERR-OF-THE" not in err + out  # the server's own stderr stays out
    first, follow_up = (r.json() for r in server.wait_for_requests(2))
    assert [t["function"]["name"] for t in first["tools"]][:2] == ["echo", "add"]
    assert follow_up["messages"][-2]["tool_calls"][0]["function"] == {
        "name": "add",
        "arguments": '{"a": 2, "b": 3}',
    }
    assert follow_up["messages"][-1] == {"role": "tool", "tool_call_id": "call_1", "content": "5"}
    (session,) = [s for s in SessionStore.from_settings(load_settings()).list_sessions()]
    saved = SessionStore.from_settings(load_settings()).load(session.id)
    assert [m.role for m in saved.messages] == ["user", "assistant", "tool", "assistant"]
    assert (saved.messages[2].tool_name, saved.messages[2].tool_outcome) == ("kit.add", "ok")
    # The server ended with the command.
    pid = int((tmp_path / "kit.pid").read_text())
    assert wait_until_gone([pid]) == []


def test_a_call_nothing_allows_is_denied_and_said(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer
) -> None:
    configure(server)
    server.enqueue(tool_call_stream([("call_1", "echo", '{"text": "hi"}')]))
    server.enqueue(stream_of(["Fine."]))
    code, out, err = run(capsys, "ask", "Echo hi")
    assert code == 0
    assert out == "Fine."
    assert (
        "glmtui: tool kit.echo was denied: not allowed by the config; pass --allow-tool "
        "kit.echo (or --allow-tools) to let it run"
    ) in err
    (answer,) = [
        m for m in server.wait_for_requests(2)[1].json()["messages"] if m["role"] == "tool"
    ]
    assert answer["content"] == "The user denied this tool call."


def test_the_config_allow_list_and_allow_tools_let_calls_run(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer
) -> None:
    configure(server, allow=["echo"])
    server.enqueue(tool_call_stream([("c1", "echo", '{"text": "a"}'), ("c2", "add", "{}")]))
    server.enqueue(stream_of(["Ok."]))
    code, _, err = run(capsys, "ask", "--json", "Go")
    assert code == 0
    assert "glmtui: tool kit.echo ran" in err
    assert "glmtui: tool kit.add was denied" in err
    server.enqueue(tool_call_stream([("c3", "add", '{"a": 1, "b": 1}')]))
    server.enqueue(stream_of(["Two."]))
    code, out, err = run(capsys, "ask", "--json", "--allow-tools", "Go")
    assert code == 0
    payload = json.loads(out)
    assert payload["content"] == "Two."
    assert payload["tools"] == [
        {
            "tool": "kit.add",
            "outcome": "ok",
            "duration_ms": payload["tools"][0]["duration_ms"],
            "result": "2",
        }
    ]


def test_no_tools_offers_none_and_starts_no_server(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer, tmp_path: Path
) -> None:
    configure(server, env={"GLMTUI_TEST_PID_DIR": str(tmp_path)})
    server.enqueue(stream_of(["Plain."]))
    code, out, _ = run(capsys, "ask", "--no-tools", "Hi")
    assert (code, out) == (0, "Plain.")
    assert "tools" not in server.wait_for_requests(1)[0].json()
    assert not (tmp_path / "kit.pid").exists()


def test_a_server_that_cannot_start_is_said_and_the_question_goes_on(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer
) -> None:
    configure(server, args=[stdio_table("kit")["args"][0], "fail", "kit"])
    server.enqueue(stream_of(["Still here."]))
    code, out, err = run(capsys, "ask", "Hi")
    assert (code, out) == (0, "Still here.")
    assert "glmtui: MCP server 'kit' did not start:" in err
    assert "fatal: cannot start" in err  # the end of its stderr, as the reason
    assert "tools" not in server.wait_for_requests(1)[0].json()
