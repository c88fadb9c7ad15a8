"""The ``[mcp]`` table of the config file: which MCP servers to start, and the tool loop's limits.

```toml
[mcp]
max_steps = 10          # requests one prompt may make while the model keeps calling tools
timeout = 60            # seconds a call may run

[mcp.servers.time]      # a stdio server: a program glmtui starts
command = "uvx"
args = ["mcp-server-time"]
env = { TZ = "Europe/Paris" }
allow = ["get_current_time"]   # tools that run without asking ("*": all)

[mcp.servers.docs]      # a streamable-HTTP server
url = "https://example.com/mcp"
headers = { Authorization = "Bearer …" }
```

Parsed into frozen :class:`McpConfig` / :class:`McpServerConfig` (defined in
:mod:`glmtui.tools.settings`, so that a config without ``[mcp]`` never imports this module);
every wrong value is a :class:`~glmtui.config.ConfigError` naming the file, the table and what
is allowed, worded as :mod:`glmtui.config` words its own. :func:`import_json` reads the
``mcpServers`` JSON other MCP clients use (Claude Desktop, Cursor, VS Code);
:func:`save_servers` and :func:`save_allowed` write to the config file, which keeps mode
0600 (it may hold keys).

Servers are only ever started from here: nothing a model or a server says adds one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import glmtui.config as _config
from glmtui.config import ConfigError, Setting
from glmtui.tools.settings import McpConfig, McpServerConfig, Transport


class ServerExists(ConfigError):
    """The config file already has a server of that name (and replacing was not asked for)."""


SERVER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""Server names as tool names allow them: the model may see one (``server__tool``)."""

MCP_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "max_steps",
        "int",
        10,
        "Requests one prompt may make while the model keeps calling tools.",
        minimum=1,
    ),
    Setting("timeout", "float", 60.0, "Seconds a tool call may run.", minimum=0.1),
)
"""Keys of the ``[mcp]`` table (besides ``servers``)."""

SERVER_SETTINGS: tuple[Setting, ...] = (
    Setting("command", "str", None, "The program that runs a stdio server."),
    Setting("cwd", "str", None, "Folder the program starts in."),
    Setting("url", "str", None, "The endpoint of a streamable-HTTP server."),
    Setting("enabled", "bool", True, "Start this server (false: keep it, do not start it)."),
    Setting("timeout", "float", None, "Seconds a call to this server may run.", minimum=0.1),
)
"""Keys of a ``[mcp.servers.NAME]`` table with one value each; see :data:`SERVER_LISTS`."""

SERVER_LISTS = ("args", "env", "headers", "allow")
"""Keys of a server's table that hold a list or a table, checked by their own code."""

STDIO_ONLY = ("command", "args", "env", "cwd")
HTTP_ONLY = ("url", "headers")


# --- reading -------------------------------------------------------------------------------


def parse_mcp(table: Any, where: str) -> McpConfig:
    """Validate the ``[mcp]`` table of the file ``where``.

    Raises:
        ConfigError: a value is wrong; the message names the file, the table and what is
            allowed.
    """
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: 'mcp' must be a table, e.g. [mcp].")
    values = _config._check_table(table, MCP_SETTINGS, f"{where} [mcp]", extra=("servers",))
    servers = table.get("servers", {})
    if not isinstance(servers, Mapping):
        raise ConfigError(
            f"{where} [mcp]: 'servers' must hold one table per server, e.g. [mcp.servers.time]."
        )
    parsed = tuple(parse_server(name, body, where) for name, body in servers.items())
    return McpConfig(servers=parsed, **values)


def parse_server(name: str, body: Any, where: str) -> McpServerConfig:
    """Validate one ``[mcp.servers.NAME]`` table.

    Raises:
        ConfigError: the name or a value is wrong, or the table names neither or both of
            ``command`` and ``url``.
    """
    shown = _config._shown(name)
    if not SERVER_NAME.fullmatch(name):
        raise ConfigError(
            f"{where}: [mcp.servers.{shown}]: a server's name may hold letters, digits, "
            "'_' and '-' only (at most 64), as the model sees it in tool names."
        )
    table = f"{where} [mcp.servers.{name}]"
    if not isinstance(body, Mapping):
        raise ConfigError(f"{where}: [mcp.servers.{name}] must be a table.")
    values = _config._check_table(body, SERVER_SETTINGS, table, extra=SERVER_LISTS)
    has_command, has_url = "command" in values, "url" in values
    if has_command == has_url:
        raise ConfigError(
            f"{table}: "
            + ("has both 'command' and 'url'; " if has_command else "")
            + "a server needs either 'command' (a program glmtui starts, talking over "
            "stdin/stdout) or 'url' (a streamable-HTTP endpoint), not both."
        )
    other = HTTP_ONLY if has_command else STDIO_ONLY
    misplaced = [key for key in other if key in body]
    if misplaced:
        kind = "a stdio server ('command')" if has_command else "an HTTP server ('url')"
        raise ConfigError(
            f"{table}: {', '.join(repr(k) for k in misplaced)} does not apply to {kind}."
        )
    if has_command:
        values["command"] = _text(values["command"], "command", table)
        values["args"] = _strings(body.get("args", []), "args", table)
        values["env"] = _string_table(body.get("env", {}), "env", table, _ENV_NAME)
        if "cwd" in values:
            values["cwd"] = _text(values["cwd"], "cwd", table)
    else:
        values["url"] = _url(values["url"], table)
        values["headers"] = _string_table(body.get("headers", {}), "headers", table, _HEADER)
    values["allow"] = _strings(body.get("allow", []), "allow", table)
    return McpServerConfig(name=name, **values)


_ENV_NAME = re.compile(r"[^=\x00]+")
_HEADER = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP header name (RFC 9110 token)."""
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _text(value: str, key: str, table: str) -> str:
    if not value.strip() or "\x00" in value:
        raise ConfigError(f"{table}: '{key}' must be a non-empty string.")
    return value


def _strings(value: Any, key: str, table: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(
            f'{table}: \'{key}\' must be a list of strings, e.g. {key} = ["a", "b"] '
            f"(got {_got(value)})."
        )
    if any("\x00" in item for item in value):
        raise ConfigError(f"{table}: '{key}' must not hold a NUL character.")
    return tuple(value)


def _string_table(value: Any, key: str, table: str, names: re.Pattern[str]) -> dict[str, str]:
    example = 'env = { TZ = "UTC" }' if key == "env" else 'headers = { Authorization = "…" }'
    if not isinstance(value, Mapping):
        raise ConfigError(f"{table}: '{key}' must be a table of strings, e.g. {example}.")
    for name, item in value.items():
        if not names.fullmatch(name):
            raise ConfigError(f"{table}: {_config._quoted(name)} is not a valid name in '{key}'.")
        if not isinstance(item, str):
            raise ConfigError(
                f"{table}: '{key}.{name}' must be a string (quote numbers: \"8080\"); "
                f"got a {type(item).__name__} value, not shown."
            )
        if "\x00" in item or (key == "headers" and _CONTROL.search(item)):
            raise ConfigError(f"{table}: '{key}.{name}' must not hold control characters.")
    return dict(value)


def _url(value: str, table: str) -> str:
    """An MCP endpoint: http(s), a host, no spaces or controls. Unlike an API root it may
    have a query (some hosted servers take their key in one)."""
    base = value.partition("?")[0]
    if _config._URL_UNSAFE.search(value):
        problem: str | None = "must not contain spaces or control characters"
    elif "@" in base.partition("://")[2].partition("/")[0]:
        problem = "must not hold a user name or password (send a key in 'headers')"
    else:
        problem = _config.url_problem(base)
    if problem is not None:
        raise ConfigError(f"{table}: 'url' {problem} (got {_got(_config.shown_url(value))}).")
    return value


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


# --- importing the JSON other clients use --------------------------------------------------


JSON_HTTP_TYPES = ("http", "streamable-http", "streamable_http", "streamableHttp")


def import_json(path: Path) -> dict[str, dict[str, Any]]:
    """The servers of an ``mcpServers`` JSON file, as ``[mcp.servers.NAME]`` tables.

    Reads the shape Claude Desktop, Cursor and others write (``{"mcpServers": {NAME:
    {command, args, env, cwd} | {url, headers}}}``) and VS Code's ``{"servers": …}`` with
    ``type`` ``stdio``/``http``. ``disabled: true`` becomes ``enabled = false`` and an
    ``autoApprove``/``alwaysAllow`` list becomes ``allow``. A name holding other characters
    than letters, digits, ``_`` and ``-`` has them replaced by ``-``.

    Raises:
        ConfigError: the file cannot be read or is not such JSON, a server uses the old SSE
            transport, or an entry is invalid (named, with what is allowed).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the file is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}).") from None
    entries = None
    if isinstance(data, dict):
        entries = data.get("mcpServers", data.get("servers"))
        mcp = data.get("mcp")
        if entries is None and isinstance(mcp, dict):  # VS Code's settings.json
            entries = mcp.get("servers")
    if not isinstance(entries, dict) or not entries:
        raise ConfigError(
            f'{path}: no servers found; expected {{"mcpServers": {{"NAME": {{"command": …}}}}}}.'
        )
    tables: dict[str, dict[str, Any]] = {}
    for name, entry in entries.items():
        clean = re.sub(r"[^A-Za-z0-9_-]", "-", str(name))[:64] or "server"
        table = _json_entry(entry, f"{path} (server {str(name)!r})")
        parse_server(clean, table, f"{path} (server {str(name)!r})")  # the same checks as TOML
        tables[clean] = table
    return tables


def _json_entry(entry: Any, where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be an object with 'command' or 'url'.")
    kind = str(entry.get("type") or entry.get("transport") or "").strip()
    sse_url = str(entry.get("url", "")).rstrip("/").endswith("/sse")
    if kind.lower() == "sse" or (not kind and sse_url):
        raise ConfigError(
            f"{where}: uses the SSE transport, which MCP replaced by streamable HTTP in "
            "2025; glmtui speaks stdio and streamable HTTP. Most servers serve streamable HTTP "
            'too, usually at /mcp: set its URL with "type": "http".'
        )
    if kind and kind not in ("stdio", *JSON_HTTP_TYPES):
        raise ConfigError(f"{where}: unknown type {kind!r}; glmtui takes stdio and http.")
    table: dict[str, Any] = {}
    if "url" in entry and kind != "stdio":
        table["url"] = entry["url"]
        if entry.get("headers"):
            table["headers"] = entry["headers"]
    else:
        for key in ("command", "args", "cwd"):
            if entry.get(key) not in (None, "", []):
                table[key] = entry[key]
        env = entry.get("env")
        if env:
            if not isinstance(env, dict):
                raise ConfigError(f"{where}: 'env' must be an object of strings.")
            table["env"] = {str(k): _json_scalar(v) for k, v in env.items()}
    if entry.get("disabled") is True:
        table["enabled"] = False
    allow = entry.get("autoApprove", entry.get("alwaysAllow"))
    if allow:
        table["allow"] = allow
    return table


def _json_scalar(value: Any) -> Any:
    """An environment value from JSON: numbers and booleans as the text a shell would pass
    (other types are left for the checks to refuse, by name)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


# --- writing -------------------------------------------------------------------------------


def save_servers(
    config_path: Path, servers: Mapping[str, Mapping[str, Any]], *, replace: bool = False
) -> None:
    """Add ``[mcp.servers.NAME]`` tables to the config file, keeping everything else (its
    comments too: new servers are appended to its text).

    Args:
        config_path: The user's config file (created, mode 0600, if there is none).
        servers: Tables as :func:`import_json` returns them.
        replace: Overwrite servers of the same name (else that is an error and nothing is
            written).

    Raises:
        ServerExists: a server of the same name exists and ``replace`` is false (nothing
            is written).
        ConfigError: the file is invalid or cannot be written, or a table is invalid.
    """
    from glmtui.tools import tomledit

    where = str(config_path)
    for name, table in servers.items():
        parse_server(name, table, where)
    data = _config.read_config_file(config_path)
    mcp = _mcp_table(data, where)
    existing = dict(mcp.get("servers") or {})
    taken = sorted(name for name in servers if name in existing)
    if taken and not replace:
        raise ServerExists(
            f"{where}: already has {', '.join(f'[mcp.servers.{n}]' for n in taken)} "
            "(use --replace to overwrite)."
        )
    existing.update({name: dict(table) for name, table in servers.items()})
    mcp["servers"] = existing
    parse_mcp(mcp, where)
    edited = None if taken else tomledit.append_servers(_text_of(config_path), servers)
    _write(config_path, {**data, "mcp": mcp}, edited)


def save_allowed(config_path: Path, server: str, tool: str) -> None:
    """Add ``tool`` to the ``allow`` list of ``[mcp.servers.SERVER]`` in the config file
    (only that line of the file changes).

    Raises:
        ConfigError: the file has no such server, is invalid, or cannot be written.
    """
    from glmtui.tools import tomledit

    where = str(config_path)
    data = _config.read_config_file(config_path)
    mcp = _mcp_table(data, where)
    servers = dict(mcp.get("servers") or {})
    table = servers.get(server)
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: has no [mcp.servers.{_config._shown(server)}] table.")
    table = dict(table)
    allow = list(table.get("allow") or [])
    if tool in allow or "*" in allow:
        return
    table["allow"] = [*allow, tool]
    servers[server] = table
    mcp["servers"] = servers
    parse_mcp(mcp, where)
    edited = tomledit.set_allow(_text_of(config_path), server, table["allow"])
    _write(config_path, {**data, "mcp": mcp}, edited)


def _text_of(path: Path) -> str:
    """The config file's text ("" when there is none); read after it parsed, so it is a
    regular UTF-8 file of sane size."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc}).") from None


def _write(path: Path, data: dict[str, Any], edited: str | None) -> None:
    """Write ``data`` to the config file (mode 0600, atomically): as ``edited`` (the file's
    own text, changed where it had to be) when that holds exactly ``data``, else rewritten
    whole from the data."""
    from glmtui.fileio import atomic_write_text
    from glmtui.tools import tomledit

    if edited is None or not tomledit.parses_to(edited, data):
        _config.update_config_file(path, {"mcp": data["mcp"]})
        return
    try:
        atomic_write_text(path, edited, mode=0o600)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the config file ({exc.strerror}).") from None


def _mcp_table(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    mcp = data.get("mcp", {})
    if not isinstance(mcp, Mapping) or not isinstance(mcp.get("servers", {}), Mapping):
        raise ConfigError(f"{where}: 'mcp' must be a table with [mcp.servers.NAME] tables.")
    return dict(mcp)


__all__ = [
    "McpConfig",
    "McpServerConfig",
    "ServerExists",
    "Transport",
    "import_json",
    "parse_mcp",
    "parse_server",
    "save_allowed",
    "save_servers",
]
