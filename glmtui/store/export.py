"""Exports of a session for people and other programs: Markdown, JSON and TOML.

Markdown is for reading and sharing: a YAML front-matter header (title, model, dates, tokens) so
static-site tools and note apps pick up the metadata, then one heading per message with the
reasoning folded into a ``<details>`` block, and each tool call under the reply that made it
(its arguments and its result in fenced blocks no result can break out of). JSON and TOML exports
are exactly the session file format, tool fields included, so an export can be imported again.
None of them can hold a key: a session has none, and the store masks any a server or a tool
echoed.
"""

from __future__ import annotations

import json
import re
from typing import Final, Literal

from glmtui.domain import Message, Session
from glmtui.domain.attachments import Attachment
from glmtui.domain.tools import ToolCall
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


OUTCOME_WORDS: Final[dict[str, str]] = {
    "ok": "ok",
    "error": "failed",
    "denied": "denied",
    "timeout": "timed out",
    "cancelled": "not completed",
}
"""How each tool outcome is named for a reader."""

BRIEF_ARGUMENTS: Final = 60
"""Characters of a call's arguments shown in the brief form (``glmtui sessions show``)."""

BRIEF_RESULT_LINES: Final = 3
"""Lines of a tool result shown in the brief form."""

BRIEF_LINE: Final = 100
"""Characters of each result line shown in the brief form."""

_BACKTICKS = re.compile(r"`+")


def fenced(text: str, info: str = "") -> list[str]:
    """``text`` as a fenced code block that nothing in it can close.

    A tool's result is arbitrary text and may hold a fence of its own (a tool that returns
    Markdown), so the fence is one backtick longer than the longest run of backticks in the
    text, and at least three (CommonMark closes a fence only with one at least as long).
    """
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    bar = "`" * max(3, longest + 1)
    return [bar + info, text.rstrip("\n"), bar]


def inline_code(text: str) -> str:
    """``text`` as an inline code span, whatever backticks it holds (CommonMark rules)."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    bar = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{bar}{pad}{text}{pad}{bar}"


def size_text(size: int) -> str:
    """A file size for people: ``812 bytes``, ``12.4 KB``, ``512 KB``, ``20 MB`` (1 KB =
    1,024 bytes, as the ``[attachments]`` limits count)."""
    if size < 1024:
        return f"{size:,} byte{'' if size == 1 else 's'}"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    if value < 100:
        return f"{value:.1f}".removesuffix(".0") + f" {unit}"
    return f"{value:,.0f} {unit}"


def _attachment_line(attachment: Attachment) -> str:
    """``- `photo.png` · image (image/png) · 245 KB``."""
    kind = (
        attachment.kind if attachment.kind == "text" else f"{attachment.kind} ({attachment.mime})"
    )
    return f"- {inline_code(attachment.name)} · {kind} · {size_text(attachment.size)}"


def _attachments_block(message: Message, *, brief: bool) -> list[str]:
    """What a prompt carried: one line per file; in full, each text file's content too (as
    it was sent), in a fence none of its lines can close. Binary content stays in the data
    folder (``attachments/``); the line names it."""
    if not message.attachments:
        return []
    lines = ["", "**Attachments**", ""]
    lines.extend(_attachment_line(a) for a in message.attachments)
    if not brief:
        for attachment in message.attachments:
            if attachment.kind == "text":
                info = attachment.name.rpartition(".")[2] if "." in attachment.name else ""
                info = info if info.isalnum() else ""
                lines.extend(["", f"{inline_code(attachment.name)}:", ""])
                lines.extend(fenced(attachment.text, info))
    return lines


def _duration(ms: int) -> str:
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _outcome(result: Message) -> str:
    """``failed · 1.2 s``: how a call ended and how long it ran, as far as is known."""
    words = [OUTCOME_WORDS.get(result.tool_outcome or "", "")]
    if result.duration_ms is not None:
        words.append(_duration(result.duration_ms))
    return " · ".join(word for word in words if word)


def _reformat_json(text: str, *, indent: int | None) -> str | None:
    """``text`` re-written as JSON (indented, or on one line), or None when it is not JSON.

    Whatever a model or a tool wrote must export, so JSON nested too deeply to parse or write
    (``RecursionError``) counts as not JSON rather than failing the export.
    """
    if not text.strip():
        return None
    try:
        value = json.loads(text)
        if indent is not None:
            return json.dumps(value, indent=indent, ensure_ascii=False)
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    except (ValueError, RecursionError):
        return None


def _compact_arguments(arguments: str) -> str:
    """A call's arguments on one line: re-spaced when they are JSON, cut with ``…``."""
    text = _reformat_json(arguments, indent=None) or " ".join(arguments.split())
    return text if len(text) <= BRIEF_ARGUMENTS else text[: BRIEF_ARGUMENTS - 1] + "…"


def _result_lines(text: str) -> list[str]:
    """The first lines of a tool result, each cut, and how many more there are."""
    lines = text.strip("\n").splitlines()
    shown = [
        line if len(line) <= BRIEF_LINE else line[: BRIEF_LINE - 1] + "…"
        for line in lines[:BRIEF_RESULT_LINES]
    ]
    rest = len(lines) - len(shown)
    if rest:
        shown.append(f"… {rest} more line{'s' if rest > 1 else ''}")
    return shown


def _result_block(result: Message | None, *, brief: bool) -> list[str]:
    """A tool result: its outcome, then its text (fenced, or its first lines indented)."""
    if result is None:  # the program ended while it ran (the model is told "not completed")
        return ["→ no result (not completed)" if brief else "*(no result: not completed)*"]
    outcome = _outcome(result)
    if brief:
        lines = [f"→ {outcome or 'result'}"]
        if result.content.strip():
            lines.extend(["", *("    " + line for line in _result_lines(result.content))])
        return lines
    lines = ["**Result**" + (f" · {outcome}" if outcome else "")]
    if not result.content.strip():
        return [*lines, "", "*(no output)*"]
    info = "json" if _reformat_json(result.content, indent=None) is not None else ""
    return [*lines, "", *fenced(result.content, info)]  # verbatim: what the model was sent


def _call_block(call: ToolCall, result: Message | None, *, brief: bool) -> list[str]:
    """One call a reply made, and under it the result it got.

    The tool is named as the user knows it (``server.tool``, from the result) when the result
    says, else by the name the model called.
    """
    name = (result.tool_name if result is not None else None) or call.name
    if brief:  # ⚙ name(arguments) → outcome, then the result's first lines
        outcome, *rest = _result_block(result, brief=True)
        return [f"⚙ {name}({_compact_arguments(call.arguments)}) {outcome}", *rest]
    lines = [f"**Tool call** {inline_code(name)}", ""]
    pretty = _reformat_json(call.arguments, indent=2)
    if not call.arguments.strip():
        lines.append("*(no arguments)*")
    elif pretty is not None:
        lines.extend(fenced(pretty, "json"))
    else:  # the model wrote something that is not JSON: shown as it wrote it
        lines.extend(fenced(call.arguments))
    return [*lines, "", *_result_block(result, brief=False)]


def _answered(messages: list[Message]) -> tuple[dict[int, dict[str, Message]], set[int]]:
    """Which tool message answers which call: for each reply that calls tools (by index), its
    calls' results among the tool messages right after it (as the request pairs them), and the
    indexes of those tool messages. A result that answers no call is shown on its own."""
    results: dict[int, dict[str, Message]] = {}
    paired: set[int] = set()
    owner: int | None = None
    for index, message in enumerate(messages):
        if message.role != "tool":
            owner = index if message.tool_calls else None
            if owner is not None:
                results[owner] = {}
            continue
        if owner is None or message.tool_call_id is None:
            continue
        answers = results[owner]
        calls = {call.id for call in messages[owner].tool_calls}
        if message.tool_call_id in calls and message.tool_call_id not in answers:
            answers[message.tool_call_id] = message
            paired.add(index)
    return results, paired


def _message_block(
    message: Message, results: dict[str, Message] | None = None, *, brief: bool = False
) -> list[str]:
    heading = _ROLE_HEADINGS.get(message.role, message.role.title())
    if message.role == "assistant" and message.model:
        heading += f" · {message.model}"
    if message.role == "tool" and message.tool_name:
        heading += f" · {message.tool_name}"
    lines = ["", f"## {heading}", ""]
    if message.role == "tool":  # a result whose call is not in the conversation
        return [*lines, *_result_block(message, brief=brief)]
    if message.reasoning:
        reasoning = message.reasoning.replace("</details>", "&lt;/details&gt;")
        lines.extend(["<details>", "<summary>Reasoning</summary>", ""])
        lines.extend([reasoning.rstrip("\n"), "", "</details>", ""])
    if message.compacted:
        lines.extend(["*(compacted: a summary stands in for it in requests)*", ""])
    if message.summary_of:
        count = len(message.summary_of)
        lines.extend([f"*(summary of {count} earlier message{'s' if count != 1 else ''})*", ""])
    if message.content or not (message.tool_calls or message.attachments):
        lines.append(message.content.rstrip("\n") if message.content else "*(no text)*")
    lines.extend(_attachments_block(message, brief=brief))
    for number, call in enumerate(message.tool_calls):
        if number or message.content:
            lines.append("")
        lines.extend(_call_block(call, (results or {}).get(call.id), brief=brief))
    if message.status in ("interrupted", "streaming"):
        lines.extend(["", "*(interrupted)*"])
    elif message.status == "error":
        lines.extend(["", f"*(error: {message.error or 'the reply failed'})*"])
    elif message.finish_reason not in (None, "stop", "tool_calls"):
        lines.extend(["", f"*(finish reason: {message.finish_reason})*"])
    return lines


def session_to_markdown(session: Session, *, brief: bool = False) -> str:
    """The conversation as a Markdown document with a front-matter header.

    Each tool call is shown under the reply that made it, with its result under it (the tool
    messages that answer it are not repeated). In full (an export), the arguments are a JSON
    block and the result a fenced block with its outcome; ``brief`` (``glmtui sessions show``,
    read in a terminal) gives each call one line, ``⚙ name(arguments…) → outcome``, then the
    result's first lines.
    """
    lines = _front_matter(session)
    lines.extend(["", f"# {session.title or 'Untitled'}"])
    if session.system_prompt.strip():
        lines.extend(["", "## System prompt", "", session.system_prompt.rstrip("\n")])
    results, paired = _answered(session.messages)
    for index, message in enumerate(session.messages):
        if index not in paired:
            lines.extend(_message_block(message, results.get(index), brief=brief))
    return "\n".join(lines) + "\n"


def export_session(session: Session, fmt: ExportFormat, *, brief: bool = False) -> str:
    """``session`` as Markdown, or as the text of a JSON or TOML session file.

    Args:
        session: The session.
        fmt: One of :data:`EXPORT_FORMATS`.
        brief: Markdown only: tool calls and results shortened (see
            :func:`session_to_markdown`); files always hold everything.

    Raises:
        ValueError: ``fmt`` is not one of :data:`EXPORT_FORMATS`.
    """
    if fmt == "md":
        return session_to_markdown(session, brief=brief)
    if fmt in ("json", "toml"):
        return encode_session(session, fmt).decode("utf-8")
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
