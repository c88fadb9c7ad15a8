"""``glmtui mcp list`` and ``glmtui mcp import`` through the real command line.

``list`` runs as a child process (``python -m glmtui``), as a user runs it: its servers are
real (the SDK's, from ``tests/mcp_servers``). The signal tests end that process while its
servers run and check that none of them is left.
"""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from glmtui.cli import main
from tests.mcp_servers.helpers import stdio_table, wait_for_files, wait_until_gone
from tests.mcp_servers.http_server import HttpServer
from tests.mcp_servers.toolkit import tool_names

TOOLS = tool_names()
"""The test servers' tools, in order (listed once: it runs an event loop)."""


@pytest.fixture(scope="module")
def http_server() -> Iterator[HttpServer]:
    server = HttpServer("web").start()
    yield server
    server.stop()


def write_config(path: Path, servers: dict[str, dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps({"mcp": {"servers": servers}}), encoding="utf-8")
    return path


def glmtui(*argv: str, **options: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "glmtui", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- list ----------------------------------------------------------------------------------


def test_list_shows_each_server_its_tools_or_why_it_failed(
    config_file: Path, http_server: HttpServer
) -> None:
    write_config(
        config_file,
        {
            "local": stdio_table("local"),
            "web": {"url": http_server.url},
            "broken": stdio_table("broken", "fail"),
            "off": {"command": "never-started", "enabled": False},
        },
    )
    child = glmtui("mcp", "list", "--config", str(config_file))
    out, err = child.communicate(timeout=60)
    assert child.returncode == 1, err  # a server failed
    count = len(TOOLS)
    lines = out.splitlines()
    assert lines[0] == f"local (stdio): ready, {count} tools"
    width = max(len(name) for name in TOOLS)
    assert f"  {'echo'.ljust(width)}  Repeat the text back." in lines  # the first line only
    assert f"web (http): ready, {count} tools" in lines
    broken = lines.index("broken (stdio): failed: the server exited before it was ready")
    assert lines[broken + 1 : broken + 3] == ["  stderr (last lines):", "    failure line 7"]
    assert lines[broken + 16] == "    fatal: cannot start"
    assert lines[-1] == "off (stdio): disabled"
    assert err == ""
    assert "STDERR-OF-THE" not in out  # a server's stderr only ever shows as a failure's tail


def test_list_json_and_exit_status_when_every_server_started(
    config_file: Path, http_server: HttpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(
        config_file,
        {"web": {"url": http_server.url}, "off": {"command": "x", "enabled": False}},
    )
    code, out, err = run(capsys, "mcp", "list", "--json")
    assert (code, err) == (0, "")
    web, off = json.loads(out)
    assert (web["name"], web["transport"], web["state"], web["error"]) == (
        "web",
        "http",
        "ready",
        None,
    )
    echo = next(tool for tool in web["tools"] if tool["name"] == "echo")
    assert echo["wire_name"] == "echo"
    assert echo["input_schema"]["properties"]["text"]["type"] == "string"
    assert off == {
        "name": "off",
        "transport": "stdio",
        "state": "disabled",
        "error": None,
        "tools": [],
    }
    assert run(capsys, "mcp", "--json")[:2] == (0, out)  # "list" is the default action


def test_list_without_servers_says_how_to_add_them(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "mcp", "list")
    assert (code, out) == (0, "")
    assert "no MCP servers configured" in err
    assert "glmtui mcp import FILE" in err
    assert run(capsys, "mcp", "list", "--json")[:2] == (0, "[]\n")


def test_list_with_a_bad_mcp_table_is_a_config_error(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file.write_text("[mcp.servers.s]\nargs = []\n")
    code, out, err = run(capsys, "mcp", "list")
    assert (code, out) == (2, "")
    assert err.startswith(f"glmtui: config error: {config_file} [mcp.servers.s]: a server needs")


# --- signals: no server outlives glmtui ----------------------------------------------------


def start_two_servers(config_file: Path, pids: Path) -> tuple[subprocess.Popen[str], list[int]]:
    """``glmtui mcp list`` with a server that starts and one that never answers (so the
    command is still waiting when the signal comes); both servers' process ids."""
    env = {"GLMTUI_TEST_PID_DIR": str(pids)}
    write_config(
        config_file,
        {"quick": stdio_table("quick", env=env), "mute": stdio_table("mute", "mute", env=env)},
    )
    child = glmtui("mcp", "list", "--config", str(config_file))
    files = [pids / "quick.pid", pids / "mute.pid"]
    wait_for_files(files)
    return child, [int(path.read_text()) for path in files]


def test_sigterm_stops_every_server(config_file: Path, tmp_path: Path) -> None:
    child, pids = start_two_servers(config_file, tmp_path)
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 128 + signal.SIGTERM
    assert err == "glmtui: terminated; the MCP servers were stopped.\n"
    assert out == ""
    assert wait_until_gone(pids) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_sigkill_of_glmtui_still_ends_every_server(config_file: Path, tmp_path: Path) -> None:
    """Nothing in glmtui runs after SIGKILL: the servers end through the parent-death signal
    the reaper asked for."""
    child, pids = start_two_servers(config_file, tmp_path)
    child.kill()
    child.communicate(timeout=30)
    assert wait_until_gone(pids) == []


def test_ctrl_c_stops_every_server(config_file: Path, tmp_path: Path) -> None:
    child, pids = start_two_servers(config_file, tmp_path)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130
    assert err.strip() == "glmtui: interrupted."
    assert wait_until_gone(pids) == []


# --- import --------------------------------------------------------------------------------


def test_import_adds_servers_and_refuses_to_overwrite(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file.write_text('theme = "glmtui"\n')
    source = tmp_path / "claude_desktop_config.json"
    source.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "time": {"command": "uvx", "args": ["mcp-server-time"]},
                    "docs": {"type": "http", "url": "https://example.com/mcp"},
                }
            }
        )
    )
    code, out, err = run(capsys, "mcp", "import", str(source))
    assert code == 0, err
    assert out.splitlines() == [
        f"Added to {config_file}:",
        "  time (stdio, added): uvx mcp-server-time",
        "  docs (http, added): https://example.com/mcp",
    ]
    assert "glmtui mcp list" in err
    assert config_file.stat().st_mode & 0o777 == 0o600
    assert "theme" in config_file.read_text()

    before = config_file.read_bytes()
    code, out, err = run(capsys, "mcp", "import", str(source))
    assert (code, out) == (2, "")
    assert err == (
        f"glmtui: {config_file}: already has [mcp.servers.docs], [mcp.servers.time] "
        "(use --replace to overwrite).\n"
    )
    assert config_file.read_bytes() == before

    code, out, _ = run(capsys, "mcp", "import", str(source), "--replace")
    assert code == 0
    assert "  time (stdio, replaced): uvx mcp-server-time" in out.splitlines()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"mcpServers": {"old": {"type": "sse", "url": "https://h/sse"}}}', "SSE transport"),
    ],
)
def test_import_of_a_bad_file_is_one_line(
    config_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    message: str,
) -> None:
    source = tmp_path / "servers.json"
    source.write_text(content)
    code, out, err = run(capsys, "mcp", "import", str(source))
    assert (code, out) == (2, "")
    assert err.startswith(f"glmtui: {source}")
    assert message in err
    assert err.count("\n") == 1
    assert not config_file.exists()


def test_import_that_cannot_write_the_config_is_a_file_error(
    config_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("glmtui.fileio.atomic_write_text", disk_full)
    source = tmp_path / "servers.json"
    source.write_text('{"mcpServers": {"s": {"command": "x"}}}')
    code, out, err = run(capsys, "mcp", "import", str(source))
    assert (code, out) == (1, "")
    assert err == (
        f"glmtui: error: {config_file}: cannot write the config file (No space left on device).\n"
    )
