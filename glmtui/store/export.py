"""Exports of a session for people and other programs: Markdown, JSON and TOML.

Markdown is for reading and sharing: a YAML front-matter header (title, model, dates, tokens) so
static-site tools and note apps pick up the metadata, then one heading per message with the
reasoning folded into a ``<details>`` block. JSON and TOML exports are exactly the session file
format, so an export can be imported again. None of them can hold a key: a session has none.
"""

from __future__ import annotations

import json
from typing import Literal

from glmtui.domain import Message, Session
from glmtui.store.codecs import encode_session, format_datetime
from glmtui.store.records import session_tokens

ExportFormat = Literal["md", "json", "toml"]
"""What a session can be exported as."""

EXPORT_FORMATS: tuple[ExportFormat, ...] = ("md", "json", "toml")

_ROLE_HEADINGS = {"user": "User", "assistant": "Assistant", "system": "System", "tool": "Tool"}


def _yaml_string(text: str) -> str:
    """A double-quoted YAML scalar (JSON string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _front_matter(session: Session) -> list[str]:
    tokens, estimated = session_tokens(session)
    lines = [
        "---",
        f"title: {_yaml_string(session.title or 'Untitled')}",
        f"id: {_yaml_string(session.id)}",
        f"model: {_yaml_string(session.model)}",
        f"provider: {_yaml_string(session.provider)}",
        f"created: {format_datetime(session.created_at)}",
        f"updated: {format_datetime(session.updated_at)}",
        f"messages: {len(session.messages)}",
        f"tokens: {tokens}",
    ]
    if estimated and tokens:
        lines.append("tokens_estimated: true")
    parameters = session.parameters.to_dict()
    if parameters:
        lines.append(f"parameters: {json.dumps(parameters, ensure_ascii=False)}")
    if session.read_only:
        lines.append("read_only: true")
    lines.append("---")
    return lines


def _message_block(message: Message) -> list[str]:
    heading = _ROLE_HEADINGS.get(message.role, message.role.title())
    if message.role == "assistant" and message.model:
        heading += f" · {message.model}"
    lines = ["", f"## {heading}", ""]
    if message.reasoning:
        reasoning = message.reasoning.replace("</details>", "&lt;/details&gt;")
        lines.extend(["<details>", "<summary>Reasoning</summary>", ""])
        lines.extend([reasoning.rstrip("\n"), "", "</details>", ""])
    lines.append(message.content.rstrip("\n") if message.content else "*(no text)*")
    if message.status in ("interrupted", "streaming"):
        lines.extend(["", "*(interrupted)*"])
    elif message.status == "error":
        lines.extend(["", f"*(error: {message.error or 'the reply failed'})*"])
    elif message.finish_reason not in (None, "stop", "tool_calls"):
        lines.extend(["", f"*(finish reason: {message.finish_reason})*"])
    return lines


def session_to_markdown(session: Session) -> str:
    """The conversation as a Markdown document with a front-matter header."""
    lines = _front_matter(session)
    lines.extend(["", f"# {session.title or 'Untitled'}"])
    if session.system_prompt.strip():
        lines.extend(["", "## System prompt", "", session.system_prompt.rstrip("\n")])
    for message in session.messages:
        lines.extend(_message_block(message))
    return "\n".join(lines) + "\n"


def export_session(session: Session, fmt: ExportFormat) -> str:
    """``session`` as Markdown, or as the text of a JSON or TOML session file.

    Raises:
        ValueError: ``fmt`` is not one of :data:`EXPORT_FORMATS`.
    """
    if fmt == "md":
        return session_to_markdown(session)
    if fmt in ("json", "toml"):
        return encode_session(session, fmt).decode("utf-8")
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
