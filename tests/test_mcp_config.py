"""The ``[mcp]`` table: parsing, every error message, the JSON import and saving to the file."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from glmtui.config import ConfigError, load_settings
from glmtui.tools import ToolLoopSettings
from glmtui.tools.config import (
    McpConfig,
    McpServerConfig,
    ServerExists,
    import_json,
    parse_mcp,
    save_allowed,
    save_servers,
)


def settings_from(path: Path, text: str) -> Any:
    path.write_text(text, encoding="utf-8")
    return load_settings(config_path=path)


# --- parsing -------------------------------------------------------------------------------


def test_servers_and_limits_are_read(config_file: Path) -> None:
    settings = settings_from(
        config_file,
        """
[mcp]
max_steps = 4
timeout = 12

[mcp.servers.time]
command = "uvx"
args = ["mcp-server-time", "--local-timezone", "Europe/Paris"]
env = { TZ = "UTC", EMPTY = "" }
cwd = "~/work"
allow = ["get_current_time"]

[mcp.servers.docs]
url = "https://example.com/mcp?key=abc"
headers = { Authorization = "Bearer xyz" }
enabled = false
timeout = 5.5
allow = ["*"]
""",
    )
    mcp: McpConfig = settings.mcp
    time, docs = mcp.servers
    assert time == McpServerConfig(
        "time",
        command="uvx",
        args=("mcp-server-time", "--local-timezone", "Europe/Paris"),
        env={"TZ": "UTC", "EMPTY": ""},
        cwd="~/work",
        allow=("get_current_time",),
    )
    assert (time.transport, time.enabled, time.timeout) == ("stdio", True, None)
    assert docs.transport == "http"
    assert docs.url == "https://example.com/mcp?key=abc"
    assert docs.headers == {"Authorization": "Bearer xyz"}
    assert (docs.enabled, docs.timeout) == (False, 5.5)
    assert time.allows("get_current_time")
    assert not time.allows("convert_time")
    assert docs.allows("anything")
    assert mcp.loop == ToolLoopSettings(max_steps=4, timeout=12.0)
    assert (mcp.timeout_for("docs"), mcp.timeout_for("time"), mcp.timeout_for("x")) == (5.5, 12, 12)
    assert mcp.server("docs") is docs
    assert mcp.server("nope") is None


def test_the_defaults(config_file: Path) -> None:
    assert load_settings(config_path=config_file).mcp == McpConfig()
    assert McpConfig().loop == ToolLoopSettings()
    assert settings_from(config_file, "[mcp]\n").mcp == McpConfig(servers=(), max_steps=10)


def test_keys_and_headers_stay_out_of_repr() -> None:
    server = McpServerConfig("s", url="https://x.y/mcp", headers={"Authorization": "Bearer SECRET"})
    assert "SECRET" not in repr(server)
    assert "SECRET" not in repr(McpServerConfig("s", command="x", env={"TOKEN": "SECRET"}))
    assert McpServerConfig("s", url="https://u:SECRET@x.y/mcp").describe() == "https://***@x.y/mcp"


def test_the_parser_is_imported_only_for_a_file_with_an_mcp_table(tmp_path: Path) -> None:
    """Startup: a config without [mcp] never loads the parser (or the SDK)."""
    code = (
        "import sys; from pathlib import Path; from glmtui.config import load_settings; "
        "settings = load_settings(config_path=Path(sys.argv[1])); "
        "print('glmtui.tools.config' in sys.modules, 'mcp' in sys.modules, settings.mcp)"
    )
    plain, table = tmp_path / "plain.toml", tmp_path / "table.toml"
    plain.write_text('model = "m"\n')
    table.write_text("[mcp]\nmax_steps = 3\n")
    outputs = [
        subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
        ).stdout.split(" ", 2)
        for path in (plain, table)
    ]
    assert [out[:2] for out in outputs] == [["False", "False"], ["True", "False"]]


BAD = [
    ("mcp = 3", "'mcp' must be a table, e.g. [mcp]."),
    ("[mcp]\nmax_steps = 0", "[mcp]: 'max_steps' must be a whole number ≥ 1 (got 0)."),
    ("[mcp]\nmax_steps = 2.5", "[mcp]: 'max_steps' must be a whole number ≥ 1 (got 2.5)."),
    ("[mcp]\ntimeout = 0", "[mcp]: 'timeout' must be a number ≥ 0.1 (got 0)."),
    ("[mcp]\ntimeout = 'soon'", "[mcp]: 'timeout' must be a number ≥ 0.1 (got 'soon')."),
    ("[mcp]\nsteps = 3", "[mcp]: unknown setting 'steps'. Allowed: max_steps, servers, timeout."),
    ("[mcp]\nservers = 3", "[mcp]: 'servers' must hold one table per server"),
    ("[mcp.servers]\nx = 3", "[mcp.servers.x] must be a table."),
    ('[mcp.servers."a.b"]\ncommand = "x"', "a server's name may hold letters, digits, '_' and"),
    ("[mcp.servers.s]\nenabled = true", "[mcp.servers.s]: a server needs either 'command'"),
    (
        '[mcp.servers.s]\ncommand = "x"\nurl = "http://h/mcp"',
        "[mcp.servers.s]: has both 'command' and 'url'; a server needs either",
    ),
    ('[mcp.servers.s]\ncommand = ""', "[mcp.servers.s]: 'command' must be a non-empty string."),
    ("[mcp.servers.s]\ncommand = 3", "[mcp.servers.s]: 'command' must be a string (got 3)."),
    (
        '[mcp.servers.s]\ncommand = "x"\nargs = "-v"',
        "[mcp.servers.s]: 'args' must be a list of strings, e.g. args = [\"a\", \"b\"] (got '-v').",
    ),
    ('[mcp.servers.s]\ncommand = "x"\nargs = [1]', "'args' must be a list of strings"),
    (
        '[mcp.servers.s]\ncommand = "x"\nenv = { PORT = 8080 }',
        "[mcp.servers.s]: 'env.PORT' must be a string (quote numbers: \"8080\"); "
        "got a int value, not shown.",
    ),
    ('[mcp.servers.s]\ncommand = "x"\nenv = "A=1"', "'env' must be a table of strings, e.g. env"),
    ('[mcp.servers.s]\ncommand = "x"\ncwd = ""', "[mcp.servers.s]: 'cwd' must be a non-empty"),
    (
        '[mcp.servers.s]\ncommand = "x"\nheaders = { A = "b" }',
        "[mcp.servers.s]: 'headers' does not apply to a stdio server ('command').",
    ),
    (
        '[mcp.servers.s]\nurl = "http://h/mcp"\nargs = ["a"]',
        "[mcp.servers.s]: 'args' does not apply to an HTTP server ('url').",
    ),
    ('[mcp.servers.s]\nurl = "ftp://h/mcp"', "'url' must start with http:// or https://"),
    ('[mcp.servers.s]\nurl = "http://h /mcp"', "'url' must not contain spaces or control"),
    (
        '[mcp.servers.s]\nurl = "https://me:pw@h/mcp"',
        "'url' must not hold a user name or password (send a key in 'headers') "
        "(got 'https://***@h/mcp').",
    ),
    (
        '[mcp.servers.s]\nurl = "http://h/mcp"\nheaders = { "Bad Name" = "x" }',
        "[mcp.servers.s]: 'Bad Name' is not a valid name in 'headers'.",
    ),
    (
        '[mcp.servers.s]\nurl = "http://h/mcp"\nheaders = { A = "x\\r\\nB: y" }',
        "[mcp.servers.s]: 'headers.A' must not hold control characters.",
    ),
    ('[mcp.servers.s]\ncommand = "x"\nenabled = "yes"', "'enabled' must be true or false"),
    ('[mcp.servers.s]\ncommand = "x"\nallow = "*"', "'allow' must be a list of strings"),
    ('[mcp.servers.s]\ncommand = "x"\ntimeout = -1', "'timeout' must be a number ≥ 0.1 (got -1)"),
    (
        '[mcp.servers.s]\ncommand = "x"\ntype = "stdio"',
        "[mcp.servers.s]: unknown setting 'type'. Allowed: allow, args, command, cwd, "
        "enabled, env, headers, timeout, url.",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[b[1][:40] for b in BAD])
def test_every_wrong_value_is_named_with_what_is_allowed(
    config_file: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(config_file, text + "\n")
    assert str(caught.value).startswith(str(config_file))
    assert message in str(caught.value)


def test_an_error_never_shows_a_header_or_env_value(config_file: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(config_file, '[mcp.servers.s]\ncommand = "x"\nenv = { K = ["SECRET"] }\n')
    assert "SECRET" not in str(caught.value)


def test_parse_mcp_takes_a_table() -> None:
    parsed = parse_mcp({"servers": {"s": {"command": "x", "args": ["a"]}}}, "where")
    assert parsed.servers == (McpServerConfig("s", command="x", args=("a",)),)


# --- the JSON other clients write ----------------------------------------------------------


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_claude_desktop_and_cursor_files_are_read(tmp_path: Path) -> None:
    source = write_json(
        tmp_path / "claude_desktop_config.json",
        {
            "mcpServers": {
                "filesystem": {
                    "command": "npx",
                    "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
                    "env": {"PORT": 8080, "DEBUG": True, "NAME": "x"},
                },
                "remote": {"url": "https://example.com/mcp", "headers": {"X-Key": "k"}},
                "my server": {"command": "srv", "disabled": True, "autoApprove": ["read"]},
                "minimal": {"command": "m", "args": [], "env": {}},
            }
        },
    )
    assert import_json(source) == {
        "filesystem": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
            "env": {"PORT": "8080", "DEBUG": "true", "NAME": "x"},
        },
        "remote": {"url": "https://example.com/mcp", "headers": {"X-Key": "k"}},
        "my-server": {"command": "srv", "enabled": False, "allow": ["read"]},
        "minimal": {"command": "m"},
    }


def test_vs_code_files_are_read(tmp_path: Path) -> None:
    servers = {
        "github": {"type": "http", "url": "https://api.example.com/mcp/"},
        "local": {"type": "stdio", "command": "python", "args": ["server.py"]},
    }
    expected = {
        "github": {"url": "https://api.example.com/mcp/"},
        "local": {"command": "python", "args": ["server.py"]},
    }
    assert import_json(write_json(tmp_path / "mcp.json", {"servers": servers})) == expected
    settings_json = write_json(tmp_path / "settings.json", {"mcp": {"servers": servers}})
    assert import_json(settings_json) == expected
    bom = tmp_path / "bom.json"
    bom.write_text("\ufeff" + json.dumps({"servers": servers}), encoding="utf-8")
    assert import_json(bom) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mcpServers": {"old": {"type": "sse", "url": "https://h/sse"}}}, "SSE transport"),
        ({"mcpServers": {"old": {"url": "https://h/sse"}}}, "SSE transport"),
        ({"mcpServers": {"w": {"type": "websocket", "url": "ws://h"}}}, "unknown type"),
        ({"mcpServers": {}}, "no servers found"),
        ({"other": 1}, "no servers found"),
        ([1, 2], "no servers found"),
        ({"mcpServers": {"s": "npx"}}, "(server 's'): must be an object"),
        ({"mcpServers": {"s": {"command": 3}}}, "(server 's') [mcp.servers.s]: 'command' must"),
        ({"mcpServers": {"s": {"args": ["x"]}}}, "a server needs either 'command'"),
        ({"mcpServers": {"s": {"command": "x", "env": ["A=1"]}}}, "'env' must be an object"),
    ],
)
def test_json_that_cannot_be_imported_is_refused_clearly(
    tmp_path: Path, data: Any, message: str
) -> None:
    path = write_json(tmp_path / "servers.json", data)
    with pytest.raises(ConfigError) as caught:
        import_json(path)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_unreadable_json_is_refused_clearly(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"mcpServers": ', encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        import_json(broken)
    with pytest.raises(ConfigError, match="cannot read the file"):
        import_json(tmp_path / "missing.json")
    (tmp_path / "latin1.json").write_bytes(b'{"mcpServers": "\xe9"}')
    with pytest.raises(ConfigError, match="not UTF-8"):
        import_json(tmp_path / "latin1.json")


# --- saving --------------------------------------------------------------------------------


def test_saved_servers_join_the_file_and_keep_everything_else(config_file: Path) -> None:
    config_file.write_text(
        'model = "m"\n\n[parameters]\ntemperature = 0.5\n\n'
        '[mcp]\nmax_steps = 3\n\n[mcp.servers.old]\ncommand = "old"\n'
    )
    config_file.chmod(0o644)
    save_servers(config_file, {"new": {"command": "new", "args": ["-v"], "env": {"A": "1"}}})
    settings = load_settings(config_path=config_file)
    assert settings.model == "m"
    assert settings.parameters.temperature == 0.5
    assert settings.mcp.max_steps == 3
    assert [s.name for s in settings.mcp.servers] == ["old", "new"]
    assert settings.mcp.servers[1].env == {"A": "1"}
    assert config_file.stat().st_mode & 0o777 == 0o600  # it may hold keys


def test_a_server_of_the_same_name_is_replaced_only_when_asked(config_file: Path) -> None:
    save_servers(config_file, {"s": {"command": "first"}})
    before = config_file.read_bytes()
    with pytest.raises(ServerExists, match=r"already has \[mcp.servers.s\] \(use --replace"):
        save_servers(config_file, {"s": {"command": "second"}, "t": {"command": "t"}})
    assert config_file.read_bytes() == before  # nothing written
    save_servers(config_file, {"s": {"url": "http://h/mcp"}}, replace=True)
    assert tomllib.loads(config_file.read_text())["mcp"]["servers"] == {
        "s": {"url": "http://h/mcp"}
    }


def test_an_invalid_server_is_never_saved(config_file: Path) -> None:
    with pytest.raises(ConfigError, match="'args' must be a list of strings"):
        save_servers(config_file, {"s": {"command": "x", "args": "-v"}})
    assert not config_file.exists()


def test_allowed_tools_are_added_once(config_file: Path) -> None:
    save_servers(config_file, {"s": {"command": "x"}, "all": {"command": "y", "allow": ["*"]}})
    save_allowed(config_file, "s", "read")
    save_allowed(config_file, "s", "read")
    save_allowed(config_file, "s", "write")
    save_allowed(config_file, "all", "read")
    servers = tomllib.loads(config_file.read_text())["mcp"]["servers"]
    assert servers["s"]["allow"] == ["read", "write"]
    assert servers["all"]["allow"] == ["*"]
    with pytest.raises(ConfigError, match=r"has no \[mcp.servers.gone\] table"):
        save_allowed(config_file, "gone", "read")


def test_saving_keeps_the_files_comments_and_layout(config_file: Path) -> None:
    original = (
        "# my settings\n"
        'theme = "glmtui"  # the one I like\n'
        "\n"
        "[mcp.servers.time]  # the clock\n"
        'command = "uvx"\n'
        'args = ["mcp-server-time"]  # no options\n'
    )
    config_file.write_text(original)
    save_servers(config_file, {"web": {"url": "http://h/mcp", "headers": {"X-Key": 'a"b'}}})
    save_allowed(config_file, "time", "get_current_time")
    save_allowed(config_file, "time", "convert_time")
    assert config_file.read_text() == (
        "# my settings\n"
        'theme = "glmtui"  # the one I like\n'
        "\n"
        "[mcp.servers.time]  # the clock\n"
        'allow = ["get_current_time", "convert_time"]\n'
        'command = "uvx"\n'
        'args = ["mcp-server-time"]  # no options\n'
        "\n"
        "[mcp.servers.web]\n"
        'url = "http://h/mcp"\n'
        'headers = { X-Key = "a\\"b" }\n'
    )
    assert config_file.stat().st_mode & 0o777 == 0o600


def test_a_layout_the_edits_do_not_know_is_rewritten_correctly(config_file: Path) -> None:
    """Servers written as one inline table cannot take a new [mcp.servers.NAME] header: the
    file is written again from its data, which stays the same."""
    config_file.write_text('[mcp]\nservers = { a = { command = "x" } }\n')
    save_servers(config_file, {"b": {"command": "y", "env": {"K": "\x7f"}}})
    save_allowed(config_file, "a", "t")
    servers = tomllib.loads(config_file.read_text())["mcp"]["servers"]
    assert servers == {
        "a": {"command": "x", "allow": ["t"]},
        "b": {"command": "y", "env": {"K": "\x7f"}},
    }
