"""What the MCP tests share: the test servers' config, and checks that processes are gone."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from glmtui.tools.settings import McpServerConfig

HERE = Path(__file__).resolve().parent
STDIO_SERVER = HERE / "stdio_server.py"


def stdio_server(name: str, mode: str = "serve", **options: Any) -> McpServerConfig:
    """A ``[mcp.servers.NAME]`` running ``stdio_server.py MODE NAME`` with this Python."""
    return McpServerConfig(
        name, command=sys.executable, args=(str(STDIO_SERVER), mode, name), **options
    )


def stdio_table(name: str, mode: str = "serve", **options: Any) -> dict[str, Any]:
    """The same server as a TOML table."""
    return {"command": sys.executable, "args": [str(STDIO_SERVER), mode, name], **options}


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def wait_until_gone(pids: Iterable[int], timeout: float = 10.0) -> list[int]:
    """Poll until every process in ``pids`` has ended; the ones still alive at the deadline."""
    pending = list(pids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = [pid for pid in pending if alive(pid)]
        if pending:
            time.sleep(0.02)
    return [pid for pid in pending if alive(pid)]


def wait_for_files(paths: Iterable[Path], timeout: float = 30.0) -> None:
    """Poll until every file exists (written by a process the test cannot await)."""
    missing = list(paths)
    deadline = time.monotonic() + timeout
    while missing and time.monotonic() < deadline:
        missing = [path for path in missing if not path.exists()]
        if missing:
            time.sleep(0.02)
    assert not missing, f"never written: {missing}"
