"""``glmtui mcp list`` and ``glmtui mcp import FILE``: the config's MCP servers, from the shell.

``list`` starts every enabled server the way the app does (same host, same rules: a server's
stderr never reaches the terminal, its environment is the safe default plus its ``env``),
shows what each offers or why it failed, and stops them all. Exit status 0 when every enabled
server started, 1 when one did not. ``import`` adds the servers of an ``mcpServers`` JSON file
(Claude Desktop, Cursor, VS Code) to the config file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glmtui.cli.common import (
    EXIT_API_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    load_settings_for,
    say,
)
from glmtui.domain.text import printable

if TYPE_CHECKING:
    from glmtui.config import Settings
    from glmtui.tools.host import ServerStatus

EXIT_TERMINATED = 128 + signal.SIGTERM
"""What a shell reports for a process ended by SIGTERM."""


def run(args: argparse.Namespace) -> int:
    """Run one ``mcp`` action; the exit status."""
    settings = load_settings_for(args)
    if args.mcp_command == "import":
        return _import(settings, Path(args.file).expanduser(), replace=args.replace)
    return _list(settings, as_json=bool(getattr(args, "json", False)))


# --- list ----------------------------------------------------------------------------------


def _list(settings: Settings, *, as_json: bool) -> int:
    if not settings.mcp.servers:
        if as_json:
            print("[]")
        say(
            f"glmtui: no MCP servers configured; add [mcp.servers.NAME] tables to "
            f"{settings.config_path} or run 'glmtui mcp import FILE' (see docs/tools.md)."
        )
        return EXIT_OK
    terminated = False

    async def main() -> list[ServerStatus]:
        nonlocal terminated
        from glmtui.tools.host import McpHost

        task = asyncio.current_task()
        loop = asyncio.get_running_loop()

        def on_sigterm() -> None:  # stop the servers politely, then end as SIGTERM asks
            nonlocal terminated
            terminated = True
            if task is not None:
                task.cancel()

        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        host = McpHost(settings.mcp, config_path=settings.config_path)
        try:
            await host.start()
            return host.servers()
        finally:
            await host.close()
            loop.remove_signal_handler(signal.SIGTERM)

    try:
        statuses = asyncio.run(main())
    except asyncio.CancelledError:
        if terminated:
            say("glmtui: terminated; the MCP servers were stopped.")
            return EXIT_TERMINATED
        raise
    if as_json:
        print(json.dumps([_status_json(s) for s in statuses], indent=2, ensure_ascii=False))
    else:
        for status in statuses:
            print(printable(_status_text(status)))
    failed = [s for s in statuses if s.state == "failed"]
    return EXIT_API_ERROR if failed else EXIT_OK


def _status_text(status: ServerStatus) -> str:
    """One server as ``glmtui mcp list`` prints it: a heading line, then its tools or why it
    failed (the stderr tail indented under the reason)."""
    head = f"{status.name} ({status.transport}): {status.state}"
    if status.state == "ready":
        count = len(status.tools)
        head += f", {count} tool{'' if count == 1 else 's'}"
        width = max((len(spec.name) for spec in status.tools), default=0)
        lines = [f"  {spec.name.ljust(width)}  {spec.summary}".rstrip() for spec in status.tools]
        return "\n".join([head, *lines])
    if status.state == "failed":
        reason, _, tail = status.error.partition("\n")
        lines = [f"{head}: {reason}"]
        if tail:
            lines.append("  stderr (last lines):")
            lines += [f"    {line}" for line in tail.splitlines()]
        return "\n".join(lines)
    return head


def _status_json(status: ServerStatus) -> dict[str, Any]:
    return {
        "name": status.name,
        "transport": status.transport,
        "state": status.state,
        "error": status.error or None,
        "tools": [
            {
                "name": spec.name,
                "wire_name": spec.wire_name,
                "description": spec.description,
                "input_schema": spec.input_schema,
            }
            for spec in status.tools
        ],
    }


# --- import --------------------------------------------------------------------------------


def _import(settings: Settings, file: Path, *, replace: bool) -> int:
    from glmtui.config import ConfigError
    from glmtui.tools.config import ServerExists, import_json, parse_server, save_servers

    try:
        tables = import_json(file)
    except ConfigError as exc:
        say(f"glmtui: {exc}")
        return EXIT_USAGE
    path = settings.config_path
    existing = {server.name for server in settings.mcp.servers}
    try:
        save_servers(path, tables, replace=replace)
    except ServerExists as exc:
        say(f"glmtui: {exc}")
        return EXIT_USAGE
    except ConfigError as exc:
        say(f"glmtui: error: {exc}")
        return EXIT_API_ERROR
    print(printable(f"Added to {path}:"))
    for name, table in tables.items():
        server = parse_server(name, table, str(file))
        verb = "replaced" if name in existing else "added"
        note = "" if server.enabled else " (disabled)"
        print(printable(f"  {name} ({server.transport}, {verb}){note}: {server.describe()}"))
    say("glmtui: run 'glmtui mcp list' to start them and see their tools.")
    return EXIT_OK
