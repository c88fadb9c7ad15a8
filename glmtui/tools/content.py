"""What a tool returned, as text for the model: an MCP ``CallToolResult`` → :class:`ToolResult`.

A pure function over the SDK's result object, read by attribute so this module never imports
the SDK (tests build results with ``mcp_types`` and no server). Text parts are the answer;
structured content stands in when there is no text (as indented JSON, which GLM reads well);
images, audio and resources are named with their type and size, never dumped: base64 in the
context window costs tokens and tells a text model nothing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from glmtui.tools import ToolResult

if TYPE_CHECKING:
    from mcp_types import CallToolResult


def tool_result(result: CallToolResult) -> ToolResult:
    """The result of one call as the model and the user see it.

    Args:
        result: What ``tools/call`` answered.

    Returns:
        Text parts joined by blank lines (structured content as JSON when there are none),
        each other part named in its place, e.g. ``[image image/png, 12 KB]``; ``kinds``
        names every part; ``is_error`` as the server set it.
    """
    pieces: list[str] = []
    kinds: list[str] = []
    has_text = False
    for part in result.content:
        text, kind = _part(part)
        has_text = has_text or kind == "text"
        pieces.append(text)
        kinds.append(kind)
    structured = result.structured_content
    if structured is not None and not has_text:
        pieces.insert(0, json.dumps(structured, indent=2, ensure_ascii=False, default=str))
        kinds.insert(0, "structured")
    return ToolResult(
        text="\n\n".join(piece for piece in pieces if piece),
        is_error=bool(result.is_error),
        kinds=tuple(kinds),
    )


def _part(part: Any) -> tuple[str, str]:
    """One content block as (text for the model, kind for the user)."""
    kind = getattr(part, "type", "")
    if kind == "text":
        return str(part.text), "text"
    if kind in ("image", "audio"):
        mime, size = part.mime_type, size_text(_decoded_size(part.data))
        return f"[{kind} {mime}, {size}]", f"{mime} {size}"
    if kind == "resource":
        resource = part.resource
        text = getattr(resource, "text", None)
        if text is not None:  # text is what the model reads best: it gets it
            return f"[resource {resource.uri}]\n{text}", f"resource {resource.mime_type or 'text'}"
        mime = resource.mime_type or "application/octet-stream"
        size = size_text(_decoded_size(getattr(resource, "blob", "")))
        return f"[resource {resource.uri} {mime}, {size}]", f"resource {mime} {size}"
    if kind == "resource_link":
        mime = part.mime_type or "link"
        size = f", {size_text(part.size)}" if part.size is not None else ""
        return f"[link {part.uri} {mime}{size}]", f"link {mime}"
    return f"[{kind or 'unknown'} content]", kind or "unknown"


def _decoded_size(data: str) -> int:
    """Bytes that base64 text stands for, without decoding it."""
    data = data.strip()
    return max(0, len(data) * 3 // 4 - data[-2:].count("="))


def size_text(size: int) -> str:
    """A byte count for people: ``512 B``, ``12 KB``, ``3.4 MB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"
