"""McpHost against real MCP servers (the SDK's own, over stdio and streamable HTTP).

One host with every kind of server is started once for the module (a stdio server costs ~1 s
to start: Python plus the SDK); the tests that stop, crash or kill servers start their own.
Nothing sleeps for a fixed time: the test servers answer when an event happened (``hang_*``),
state changes are awaited through ``on_change``, and processes are polled with a deadline.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from mcp_types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

from glmtui.domain.tools import ToolSpec
from glmtui.tools import ToolBox, ToolError
from glmtui.tools.content import size_text, tool_result
from glmtui.tools.host import McpHost, ServerStatus, _unique, _wire
from glmtui.tools.settings import McpConfig, McpServerConfig
from tests.conftest import FAKE_KEY
from tests.mcp_servers.helpers import stdio_server, wait_for_files, wait_until_gone
from tests.mcp_servers.http_server import HttpServer
from tests.mcp_servers.toolkit import BIG_SIZE, tool_names

TOOLS = tool_names()
"""The test servers' tools, in order (listed once: it runs an event loop)."""

shared_loop = pytest.mark.asyncio(loop_scope="module")
"""Tests that use the module's host run in its event loop."""

PROVIDER_KEYS = ("OXEN_API_KEY", "ZAI_API_KEY", "VLLM_API_KEY", "SGLANG_API_KEY", "OPENAI_API_KEY")
WIRE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@pytest.fixture(scope="module")
def http_server() -> Iterator[HttpServer]:
    server = HttpServer("web").start()
    yield server
    server.stop()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def host(
    http_server: HttpServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[McpHost]:
    """Two working servers offering the same tools, two that cannot start, one disabled;
    started while glmtui's environment holds provider keys (none may reach a server)."""
    config = McpConfig(
        servers=(
            stdio_server("local", env={"GLMTUI_TEST_VALUE": "passed"}, allow=("echo",)),
            McpServerConfig("web", url=http_server.url, headers={"X-Test": "1"}, allow=("*",)),
            McpServerConfig("missing", command="glmtui-no-such-command"),
            stdio_server("broken", "fail"),
            McpServerConfig("off", command="never-started", enabled=False),
        )
    )
    folder = tmp_path_factory.mktemp("mcp-host")
    with pytest.MonkeyPatch.context() as env:
        for name in PROVIDER_KEYS:
            env.setenv(name, FAKE_KEY)
        env.setenv("GLMTUI_SECRET_PROBE", "not for servers")
        host = McpHost(config, config_path=folder / "config.toml")
        await host.start()
    yield host
    await host.close()


def status(host: McpHost, name: str) -> ServerStatus:
    return next(s for s in host.servers() if s.name == name)


def spec(host: McpHost, wire_name: str) -> ToolSpec:
    found = host.find(wire_name)
    assert found is not None, f"{wire_name} is not offered"
    return found


# --- starting ------------------------------------------------------------------------------


@shared_loop
async def test_each_server_reports_how_it_started(host: McpHost) -> None:
    states = [(s.name, s.transport, s.state) for s in host.servers()]
    assert states == [
        ("local", "stdio", "ready"),
        ("web", "http", "ready"),
        ("missing", "stdio", "failed"),
        ("broken", "stdio", "failed"),
        ("off", "stdio", "disabled"),
    ]
    assert [t.name for t in status(host, "local").tools] == TOOLS
    assert [t.name for t in status(host, "web").tools] == TOOLS
    assert status(host, "missing").error == "command not found: glmtui-no-such-command"
    assert status(host, "off").tools == ()
    assert status(host, "local").error == ""


@shared_loop
async def test_a_failed_server_carries_the_tail_of_its_stderr(host: McpHost) -> None:
    reason, *tail = status(host, "broken").error.splitlines()
    assert reason == "the server exited before it was ready"
    expected = [f"failure line {n}" for n in range(7, 21)] + ["fatal: cannot start"]
    assert tail == expected  # the last 15 lines, colour codes removed


@shared_loop
async def test_tool_names_are_unique_and_valid_on_the_wire(host: McpHost) -> None:
    offered = host.tools()
    names = [t.wire_name for t in offered]
    assert len(names) == len(set(names)) == 2 * len(TOOLS)
    assert all(WIRE_NAME.fullmatch(name) for name in names)
    # Both servers offer "echo": each is named after its server.
    assert spec(host, "local__echo").label == "local.echo"
    assert spec(host, "web__echo").label == "web.echo"
    assert host.find("echo") is None
    assert spec(host, "local__echo").summary == "Repeat the text back."


def test_wire_names_are_made_safe_and_unique() -> None:
    assert _wire("read.file") == "read_file"
    assert _wire("ünïcode tool!") == "_n_code_tool_"
    assert _wire("") == "tool"
    assert len(_wire("x" * 100)) == 64
    taken = {"a", "a_2"}
    assert _unique("a", taken) == "a_3"
    long = "y" * 64
    assert _unique(long, {long}) == "y" * 62 + "_2"


@shared_loop
async def test_the_host_is_a_toolbox(host: McpHost) -> None:
    box: ToolBox = host
    assert box.tools()


# --- calling -------------------------------------------------------------------------------


@shared_loop
@pytest.mark.parametrize("server", ["local", "web"])
async def test_calls_return_text(host: McpHost, server: str) -> None:
    echoed = await host.call(spec(host, f"{server}__echo"), {"text": "hi there"})
    assert (echoed.text, echoed.is_error, echoed.kinds) == ("hi there", False, ("text",))
    added = await host.call(spec(host, f"{server}__add"), {"a": 2, "b": 3})
    assert added.text == "5"


@shared_loop
async def test_a_tool_that_fails_gives_an_error_result(host: McpHost) -> None:
    raised = await host.call(spec(host, "local__fail"), {"message": "boom"})
    assert raised.is_error
    reported = await host.call(spec(host, "web__error_result"), {})
    assert (reported.text, reported.is_error) == ("the tool reported an error", True)
    wrong = await host.call(spec(host, "local__add"), {"a": "not a number"})
    assert wrong.is_error


@shared_loop
async def test_a_call_to_a_server_that_is_not_running_raises(host: McpHost) -> None:
    for server in ("missing", "off", "nowhere"):
        with pytest.raises(ToolError, match=f"MCP server '{server}' is not running"):
            await host.call(ToolSpec(server, "echo"), {"text": "x"})


@shared_loop
async def test_a_megabyte_of_text_arrives_whole(host: McpHost) -> None:
    for server in ("local", "web"):
        result = await host.call(spec(host, f"{server}__big"), {})
        assert result.text == "x" * BIG_SIZE


@shared_loop
async def test_images_are_named_and_structured_content_is_json(host: McpHost) -> None:
    image = await host.call(spec(host, "local__image"), {})
    assert (image.text, image.kinds) == ("[image image/png, 67 B]", ("image/png 67 B",))
    data = await host.call(spec(host, "web__structured"), {})
    assert json.loads(data.text) == {"city": "Paris", "temp": 21}
    assert data.kinds == ("structured",)


@shared_loop
@pytest.mark.parametrize("server", ["local", "web"])
async def test_cancelling_a_call_cancels_it_in_the_server(host: McpHost, server: str) -> None:
    call = asyncio.create_task(host.call(spec(host, f"{server}__hang"), {}))
    started = await host.call(spec(host, f"{server}__hang_started"), {})
    assert started.text == "started"
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    cancelled = await host.call(spec(host, f"{server}__hang_cancelled"), {})
    assert cancelled.text == "cancelled"  # the server's handler was cancelled, not abandoned


# --- environment and output ----------------------------------------------------------------


@shared_loop
async def test_a_stdio_server_gets_the_safe_environment_and_its_own_env(host: McpHost) -> None:
    shown = json.loads((await host.call(spec(host, "local__environment"), {})).text)
    assert shown["value"] == "passed"
    leaked = set(shown["names"]) & {*PROVIDER_KEYS, "GLMTUI_SECRET_PROBE"}
    assert leaked == set()
    assert set(shown["names"]) <= {
        "HOME",
        "LOGNAME",
        "PATH",
        "SHELL",
        "TERM",
        "USER",
        "GLMTUI_TEST_VALUE",
        "LC_CTYPE",  # set by the server's own Python when the locale is C (PEP 538)
    }


@shared_loop
async def test_a_servers_stderr_never_reaches_the_terminal(
    host: McpHost, capfd: pytest.CaptureFixture[str]
) -> None:
    assert (await host.call(spec(host, "local__noisy"), {})).text == "ok"
    out, err = capfd.readouterr()
    assert "NOISE-FROM-A-TOOL" not in out + err
    assert "STDERR-OF-THE" not in out + err


# --- toggles and approval ------------------------------------------------------------------


@shared_loop
async def test_a_tool_switched_off_is_not_offered(host: McpHost) -> None:
    echo = spec(host, "local__echo")
    host.set_enabled("local.echo", False)
    try:
        assert not host.is_enabled(echo)
        assert host.find("local__echo") is None
        assert "local__echo" not in [t.wire_name for t in host.tools()]
        assert "echo" in [t.name for t in status(host, "local").tools]  # still listed
        assert host.find("web__echo") is not None
    finally:
        host.set_enabled("local.echo", True)
    assert host.is_enabled(echo)


@shared_loop
async def test_allow_lists_decide_what_runs_unasked(host: McpHost) -> None:
    assert host.is_allowed(spec(host, "local__echo"))
    assert not host.is_allowed(spec(host, "local__add"))
    assert host.is_allowed(spec(host, "web__add"))  # allow = ["*"]


@shared_loop
async def test_always_allow_that_cannot_be_saved_holds_for_the_run(host: McpHost) -> None:
    changes: list[str] = []
    host.on_change = lambda: changes.append(host.last_error)
    try:
        pid = spec(host, "local__pid")
        host.allow_always(pid)  # the module's config file has no [mcp.servers.local]
        assert host.is_allowed(pid)
        assert "holds for this run only" in host.last_error
        assert changes[-1:] == [host.last_error]
    finally:
        host.on_change = lambda: None


def test_always_allow_is_saved_to_the_config_file(tmp_path: Path) -> None:
    from glmtui.config import load_settings

    path = tmp_path / "config.toml"
    path.write_text('model = "m"\n\n[mcp.servers.local]\ncommand = "x"\nallow = ["a"]\n')
    settings = load_settings(config_path=path)
    box = McpHost(settings.mcp, config_path=path)
    echo = ToolSpec("local", "echo")
    assert not box.is_allowed(echo)
    box.allow_always(echo)
    assert box.is_allowed(echo)
    assert box.last_error == ""
    reloaded = load_settings(config_path=path)
    assert reloaded.model == "m"
    server = reloaded.mcp.server("local")
    assert server is not None
    assert server.allow == ("a", "echo")
    assert path.stat().st_mode & 0o777 == 0o600


# --- stopping: no process outlives the host ------------------------------------------------


async def started(config: McpConfig, tmp_path: Path) -> tuple[McpHost, asyncio.Event]:
    """A host for ``config``, started; the event is set whenever something changed."""
    changed = asyncio.Event()
    host = McpHost(config, config_path=tmp_path / "config.toml", on_change=changed.set)
    await host.start()
    return host, changed


async def wait_for(changed: asyncio.Event, condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):
        while not condition():
            changed.clear()
            await changed.wait()


def pid_of(tmp_path: Path, name: str) -> int:
    wait_for_files([tmp_path / f"{name}.pid"])
    return int((tmp_path / f"{name}.pid").read_text())


async def test_a_server_that_never_answers_fails_after_the_start_timeout(tmp_path: Path) -> None:
    config = McpConfig(servers=(stdio_server("mute", "mute", env=pid_dir(tmp_path)),))
    host = McpHost(config, config_path=tmp_path / "config.toml")
    host.start_timeout = 0.5
    await host.start()
    reason, *tail = status(host, "mute").error.splitlines()
    assert status(host, "mute").state == "failed"
    assert reason == "no answer within 0.5 s"
    assert tail == ["STDERR-OF-THE-MUTE-SERVER starting in mode mute"]
    assert wait_until_gone([pid_of(tmp_path, "mute")]) == []
    await host.close()


async def test_a_server_that_exits_later_is_failed_and_close_leaves_nothing(
    tmp_path: Path,
) -> None:
    env = pid_dir(tmp_path)
    config = McpConfig(servers=(stdio_server("one", env=env), stdio_server("two", env=env)))
    host, changed = await started(config, tmp_path)
    assert [s.state for s in host.servers()] == ["ready", "ready"]
    pids = [pid_of(tmp_path, "one"), pid_of(tmp_path, "two")]
    grandchild = int((await host.call(spec(host, "two__spawn_child"), {})).text)

    with pytest.raises(ToolError, match=r"^one: "):
        await host.call(spec(host, "one__crash"), {})
    await wait_for(changed, lambda: status(host, "one").state == "failed")
    reason, *tail = status(host, "one").error.splitlines()
    assert reason == "the server exited"
    assert tail[-1] == "crashing on purpose"
    assert [t.server for t in host.tools()] == ["two"] * len(TOOLS)
    assert host.find("two__echo") is None  # no clash now: the plain name
    assert host.find("echo") is not None

    await host.close()
    assert [s.state for s in host.servers()] == ["failed", "stopped"]
    assert wait_until_gone([*pids, grandchild]) == []
    await host.close()  # again: nothing to do


async def test_kill_now_kills_every_server_and_what_it_started(tmp_path: Path) -> None:
    config = McpConfig(servers=(stdio_server("one", env=pid_dir(tmp_path)),))
    host, _ = await started(config, tmp_path)
    grandchild = int((await host.call(spec(host, "spawn_child"), {})).text)
    host.kill_now()  # no await: what atexit and signal handlers call
    assert wait_until_gone([pid_of(tmp_path, "one"), grandchild]) == []
    assert status(host, "one").state == "stopped"
    with pytest.raises(ToolError):
        await host.call(ToolSpec("one", "echo"), {"text": "x"})
    await host.close()
    assert status(host, "one").state == "stopped"  # not "failed": it was stopped on purpose


async def test_a_host_without_enabled_servers_starts_and_closes_at_once(tmp_path: Path) -> None:
    config = McpConfig(servers=(McpServerConfig("off", command="x", enabled=False),))
    host = McpHost(config, config_path=tmp_path / "config.toml")
    await host.start()
    assert host.tools() == []
    await host.close()
    await McpHost(McpConfig(), config_path=tmp_path / "c.toml").close()  # never started


def pid_dir(tmp_path: Path) -> dict[str, str]:
    return {"GLMTUI_TEST_PID_DIR": str(tmp_path)}


def test_importing_the_tools_package_does_not_load_the_sdk() -> None:
    code = (
        "import sys, glmtui.tools.host, glmtui.tools.config, glmtui.tools.content; "
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'anyio'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr


# --- results as text (no server) -----------------------------------------------------------


def test_text_parts_are_joined_and_other_parts_named() -> None:
    png = "iVBORw0KGgo=" * 1024  # 12 KB of base64 → 9 KB of bytes
    result = CallToolResult(
        content=[
            TextContent(text="first"),
            ImageContent(data=png, mime_type="image/png"),
            AudioContent(data="AAAA", mime_type="audio/wav"),
            TextContent(text="second"),
        ],
        structured_content={"ignored": "there is text"},
    )
    converted = tool_result(result)
    assert converted.text == "first\n\n[image image/png, 9 KB]\n\n[audio audio/wav, 3 B]\n\nsecond"
    assert converted.kinds == ("text", "image/png 9 KB", "audio/wav 3 B", "text")
    assert not converted.is_error


def test_structured_content_stands_in_for_missing_text() -> None:
    result = CallToolResult(content=[], structured_content={"a": [1, 2], "é": "ü"}, is_error=True)
    converted = tool_result(result)
    assert converted.text == '{\n  "a": [\n    1,\n    2\n  ],\n  "é": "ü"\n}'
    assert (converted.is_error, converted.kinds) == (True, ("structured",))


def test_resources_and_links_are_named_never_dumped() -> None:
    blob = "QUJD" * 300_000  # 1.2 MB of base64
    result = CallToolResult(
        content=[
            EmbeddedResource(
                resource=TextResourceContents(
                    uri="file:///a.txt", mime_type="text/plain", text="hi"
                ),
            ),
            EmbeddedResource(
                resource=BlobResourceContents(uri="file:///b.bin", mime_type=None, blob=blob)
            ),
            ResourceLink(uri="https://x.y/z", name="z", mime_type="text/html", size=2048),
        ]
    )
    converted = tool_result(result)
    assert converted.text.splitlines() == [
        "[resource file:///a.txt]",
        "hi",
        "",
        "[resource file:///b.bin application/octet-stream, 879 KB]",
        "",
        "[link https://x.y/z text/html, 2 KB]",
    ]
    assert converted.kinds == (
        "resource text/plain",
        "resource application/octet-stream 879 KB",
        "link text/html",
    )
    assert len(converted.text) < 200


def test_sizes_read_like_sizes() -> None:
    assert [size_text(n) for n in (0, 1023, 1024, 12_800, 5 * 1024 * 1024)] == [
        "0 B",
        "1023 B",
        "1 KB",
        "12 KB",
        "5.0 MB",
    ]


def test_an_empty_result_is_empty_text() -> None:
    assert tool_result(CallToolResult(content=[])).text == ""
