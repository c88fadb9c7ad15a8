"""Small edits to the config file's text, so that saving MCP servers keeps the user's comments.

Rewriting the file from its parsed data (what ``tomli_w`` does) loses every comment and blank
line. These functions change only the lines that must change: new ``[mcp.servers.NAME]``
tables go at the end, and an ``allow`` list is replaced on its line or added under its table's
header. Every result is checked by :func:`parses_to`: when the edited text is not exactly the
data wanted (a layout these edits do not understand, e.g. servers written as inline tables),
the caller writes the whole file from the data instead.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def parses_to(text: str, data: Mapping[str, Any]) -> bool:
    """True when ``text`` is valid TOML holding exactly ``data``."""
    try:
        return tomllib.loads(text) == data
    except (tomllib.TOMLDecodeError, RecursionError):
        return False


def append_servers(text: str, servers: Mapping[str, Mapping[str, Any]]) -> str:
    """``text`` with a ``[mcp.servers.NAME]`` table added at the end for each server."""
    blocks = [render_table(f"mcp.servers.{_key(name)}", table) for name, table in servers.items()]
    head = text if not text or text.endswith("\n") else text + "\n"
    return head + ("\n" if head.strip() else "") + "\n".join(blocks)


def set_allow(text: str, server: str, allow: list[str]) -> str | None:
    """``text`` with the ``allow`` list of ``[mcp.servers.SERVER]`` set to ``allow``: its
    ``allow = […]`` line replaced, or one added under the table's header. None when the
    table has no header line of its own to find."""
    lines = text.splitlines(keepends=True)
    header = re.compile(rf"\s*\[\s*mcp\s*\.\s*servers\s*\.\s*{re.escape(server)}\s*\]\s*(#.*)?")
    start = next((i for i, line in enumerate(lines) if header.fullmatch(line.rstrip("\r\n"))), None)
    if start is None:
        return None
    new_line = f"allow = {_value(allow)}\n"
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines)
    )
    for i in range(start + 1, end):
        if re.match(r"\s*allow\s*=", lines[i]):
            lines[i] = new_line
            return "".join(lines)
    if not lines[start].endswith("\n"):
        lines[start] += "\n"
    lines.insert(start + 1, new_line)
    return "".join(lines)


def render_table(header: str, table: Mapping[str, Any]) -> str:
    """One TOML table; sub-tables (``env``, ``headers``) written inline, as people write them."""
    lines = [f"[{header}]"]
    for key, value in table.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    """A value as TOML (a JSON string is a TOML basic string for everything but DEL, which
    the check after each edit catches)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # finite: the config checks refuse nan and inf
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write a {type(value).__name__} value as TOML")
