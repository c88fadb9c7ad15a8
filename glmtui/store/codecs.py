"""TOML and JSON encoders/decoders for the one session schema (``schema_version`` 4; files of
schemas 1 to 3 load too).

Schema history: 2 added the session's ``base_url``; 3 added tool calls (an assistant message's
``tool_calls``, each ``id``, ``name`` and ``arguments``; a tool message's ``tool_call_id``,
``tool_name``, ``tool_outcome`` and ``duration_ms``); 4 added attachments (a message's
``attachments``, each ``name``, ``kind``, ``mime``, ``size`` and the ``text`` of a text file or
the ``sha256`` a binary one is stored under in ``<data dir>/attachments/``) and compaction (a
message's ``compacted = true`` when a summary stands in for it, and a summary's ``summary_of``,
the ids of the messages it summarises). An older file simply lacks the newer fields; it is
read as it is and written in the current schema only when it is saved.

Both formats hold the same fields in the same order; which one a new session is written in is the
``session_format`` setting, and both are always readable (by extension, else by sniffing).

Why a hand-written TOML emitter: the session is the user's words, and ``tomli_w`` with
``multiline_strings=True`` folds ``\\r\\n`` into ``\\n`` inside multi-line strings, so pasted
Windows text would not survive a round trip. The emitter below writes message bodies as
multi-line basic strings (one line in the file per line of text, so a diff reads like the
conversation) and escapes only what TOML cannot hold raw: backslashes, control characters other
than tab and newline (``\\r`` included, which keeps CRLF exact), and any run of three quotes.

What no file can hold: a lone UTF-16 surrogate (Python strings can carry one, e.g. from a JSON
``\\ud83d`` escape split across two stream chunks; UTF-8 cannot encode it). On encode, surrogate
pairs are joined into the character they stand for and a lone surrogate becomes U+FFFD. Every
other string - any Unicode scalar value, control characters, NUL, ``\"\"\"``, ``'''``,
backslashes, very long lines, empty strings - round-trips exactly through both formats.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, Literal, cast, get_args

from glmtui.domain import Message, MessageStatus, Parameters, Role, Session, Usage, new_id
from glmtui.domain.attachments import ATTACHMENT_KINDS, Attachment
from glmtui.domain.tools import TOOL_OUTCOMES, ToolCall, ToolOutcome
from glmtui.store.errors import SessionFileError

SessionFormat = Literal["toml", "json"]
"""The two on-disk formats of a session."""

SCHEMA_VERSION: Final = 4
"""The schema this glmtui writes. Files with a higher version open read-only (an older glmtui
opens a schema 4 file read-only too, so it never saves the attachments or the compaction
away)."""

FORMATS: Final[tuple[SessionFormat, ...]] = ("toml", "json")
"""Every format, default first."""

ROLES: Final[tuple[str, ...]] = get_args(Role)
SAVED_STATUSES: Final[tuple[str, ...]] = ("complete", "interrupted", "error")
"""Statuses a file may hold; the in-memory ``streaming`` is saved as ``interrupted``."""


# --- format detection ------------------------------------------------------------------------


def format_for_path(path: Path) -> SessionFormat | None:
    """The format a file's extension names, or None when it names neither."""
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return "toml"
    if suffix == ".json":
        return "json"
    return None


def sniff_format(data: bytes) -> SessionFormat:
    """Guess the format of ``data``: JSON when the first non-blank character opens an object."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head in (b"{", b"[") else "toml"


# --- text that can be stored -----------------------------------------------------------------


def storable_text(text: str) -> str:
    """``text`` as it will read back from a file: surrogate pairs joined, lone ones U+FFFD.

    Every string without surrogates is returned unchanged (and that is the common case, checked
    first); this is the only way a round trip can alter text.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _to_utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return storable_text(text).encode("utf-8")


# --- the document: one mapping both formats serialise ----------------------------------------


def _usage_to_dict(usage: Usage) -> dict[str, Any]:
    return usage.to_dict()


def _tool_call_to_dict(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def _attachment_to_dict(attachment: Attachment) -> dict[str, Any]:
    """A text file's text comes last (it is long); a binary one names its stored content."""
    out: dict[str, Any] = {
        "name": attachment.name,
        "kind": attachment.kind,
        "mime": attachment.mime,
        "size": attachment.size,
    }
    if attachment.sha256:
        out["sha256"] = attachment.sha256
    if attachment.kind == "text" or attachment.text:
        out["text"] = attachment.text
    return out


def _message_to_dict(message: Message) -> dict[str, Any]:
    """Metadata first, then the reasoning and the text, so a diff's context lines stay short.

    A reply's tool calls and a prompt's attachments come last, after the text they follow (in
    TOML each is a ``[[messages.tool_calls]]`` or ``[[messages.attachments]]`` table, which
    must come after the message's own keys). Fields that are None are left out (TOML has no
    null, and a missing key reads back as None), and so are ``compacted`` when false and
    ``summary_of`` when empty.
    """
    out: dict[str, Any] = {"role": message.role, "id": message.id}
    out["created_at"] = message.created_at
    if message.status is not None:
        out["status"] = "interrupted" if message.status == "streaming" else message.status
    if message.finish_reason is not None:
        out["finish_reason"] = message.finish_reason
    if message.model is not None:
        out["model"] = message.model
    if message.error is not None:
        out["error"] = message.error
    if message.usage is not None:
        out["usage"] = _usage_to_dict(message.usage)
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    if message.tool_name is not None:
        out["tool_name"] = message.tool_name
    if message.tool_outcome is not None:
        out["tool_outcome"] = message.tool_outcome
    if message.duration_ms is not None:
        out["duration_ms"] = message.duration_ms
    if message.compacted:
        out["compacted"] = True
    if message.summary_of:
        out["summary_of"] = list(message.summary_of)
    if message.reasoning:
        out["reasoning"] = message.reasoning
    out["content"] = message.content
    if message.tool_calls:
        out["tool_calls"] = [_tool_call_to_dict(call) for call in message.tool_calls]
    if message.attachments:
        out["attachments"] = [_attachment_to_dict(a) for a in message.attachments]
    return out


def session_to_document(session: Session) -> dict[str, Any]:
    """The session as one ordered mapping (datetimes as ``datetime``), shared by both formats."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": session.id,
        "title": session.title,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "model": session.model,
        "provider": session.provider,
    }
    if session.base_url:
        doc["base_url"] = session.base_url
    doc["system_prompt"] = session.system_prompt
    parameters = session.parameters.to_dict()
    if parameters:
        doc["parameters"] = parameters
    doc["messages"] = [_message_to_dict(m) for m in session.messages]
    return doc


def format_datetime(value: datetime) -> str:
    """RFC 3339 text for a timestamp: ``Z`` for UTC, offsets in whole minutes, naive kept naive.

    TOML (and RFC 3339) cannot express an offset with seconds (historic local mean times); such a
    timestamp is written as the same instant in UTC.
    """
    offset = value.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        value = value.astimezone(UTC)
        offset = value.utcoffset()
    text = value.isoformat()
    if offset is not None and not offset and text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


# --- TOML ------------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_NOT_LITERAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
"""Characters a multi-line literal string cannot hold (controls other than tab and newline)."""
LONG_LINE: Final = 100
"""Single-line text longer than this is still written in the multi-line form (faster to read)."""
_NEEDS_ESCAPES = re.compile(r'["\\]')
"""Characters a basic string must escape but a literal string holds as they are."""
_NOT_ONE_LINE_LITERAL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f']")
"""Characters a one-line literal string cannot hold (controls other than tab, and ``'``)."""
_MULTILINE_ESCAPE = re.compile(r'[\x00-\x08\x0b-\x1f\x7f\\]|"{3,}|"+\Z')
_BASIC_ESCAPE = re.compile(r'[\x00-\x08\x0a-\x1f\x7f\\"]')
_COMPACT = {"\b": r"\b", "\n": r"\n", "\f": r"\f", "\r": r"\r", "\\": r"\\", '"': r"\""}


def _escape_char(char: str) -> str:
    return _COMPACT.get(char) or f"\\u{ord(char):04x}"


def _escape_multiline(match: re.Match[str]) -> str:
    text = match.group()
    if text[0] != '"':
        return _escape_char(text)
    if match.end() == len(match.string):  # quotes just before the closing delimiter
        return r"\"" * len(text)
    # A run of three or more quotes would end the string: escape every third one.
    return "".join(r"\"" if i % 3 == 2 else '"' for i in range(len(text)))


def toml_string(text: str, *, multiline: bool = True) -> str:
    """``text`` as a TOML string that reads back exactly; multi-line form for long text.

    Multi-line text is written as a *literal* string (``'''…'''``) whenever it can be: the
    text appears as typed, backslashes and quotes included (code stays readable in a diff), and
    ``tomllib`` reads literal strings about ten times faster than basic ones, which it scans
    character by character in Python. Text a literal string cannot hold (control characters,
    ``\\r``, three apostrophes in a row) is written as a basic string with escapes. The newline
    after the opening delimiter is dropped by TOML parsers, so the text starts on the next line.

    One-line text with quotes or backslashes (tool arguments are JSON: ``{"city": "Paris"}``) is
    a one-line literal string (``'…'``) when it holds no apostrophe, so it too reads as typed
    rather than as a thicket of ``\\"``.
    """
    if multiline and ("\n" in text or len(text) > LONG_LINE):
        if "'''" not in text and not text.endswith("'") and not _NOT_LITERAL.search(text):
            return "'''\n" + text + "'''"
        return '"""\n' + _MULTILINE_ESCAPE.sub(_escape_multiline, text) + '"""'
    if _NEEDS_ESCAPES.search(text) and not _NOT_ONE_LINE_LITERAL.search(text):
        return "'" + text + "'"
    return '"' + _BASIC_ESCAPE.sub(lambda m: _escape_char(m.group()), text) + '"'


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else toml_string(key, multiline=False)


def _toml_value(value: Any, *, multiline: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value, multiline=multiline)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v, multiline=False) for v in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(
            f"{_toml_key(k)} = {_toml_value(v, multiline=False)}" for k, v in value.items()
        )
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _toml_table(lines: list[str], table: Mapping[str, Any], path: str = "") -> None:
    """The keys of one table, then its lists of tables as ``[[path.key]]`` sections.

    Inside an array item (``path`` set), a list of tables (a reply's tool calls) becomes a
    section of its own per item rather than one long inline line, so each call's arguments get
    the multi-line form when long; other tables (``usage``) stay inline.
    """
    arrays: dict[str, list[Mapping[str, Any]]] = {}
    for key, value in table.items():
        if path and _is_table_array(value):
            arrays[key] = value
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value, multiline=True)}")
    for key, items in arrays.items():
        _toml_array(lines, f"{path}.{_toml_key(key)}", items)


def _toml_array(lines: list[str], path: str, items: list[Mapping[str, Any]]) -> None:
    for item in items:
        lines.extend(["", f"[[{path}]]"])
        _toml_table(lines, item, path)


def _dump_toml(doc: Mapping[str, Any]) -> str:
    lines: list[str] = []
    tables: dict[str, Mapping[str, Any]] = {}
    arrays: dict[str, list[Mapping[str, Any]]] = {}
    scalars: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, Mapping):
            tables[key] = value
        elif _is_table_array(value):
            arrays[key] = value
        else:
            scalars[key] = value
    _toml_table(lines, scalars)
    for key, table in tables.items():
        lines.extend(["", f"[{_toml_key(key)}]"])
        _toml_table(lines, table)
    for key, items in arrays.items():
        _toml_array(lines, _toml_key(key), items)
    return "\n".join(lines) + "\n"


# --- JSON ------------------------------------------------------------------------------------


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _dump_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, default=_json_default) + "\n"


# --- encode ----------------------------------------------------------------------------------


def encode_session(session: Session, fmt: SessionFormat) -> bytes:
    """The bytes of a session file in ``fmt`` (UTF-8, LF line endings, a trailing newline).

    Holds no API key: a session has no key field, and nothing here reads settings.
    """
    doc = session_to_document(session)
    text = _dump_toml(doc) if fmt == "toml" else _dump_json(doc)
    return _to_utf8(text)


# --- decode ----------------------------------------------------------------------------------

EARLIEST: Final = datetime(1, 1, 2, tzinfo=UTC)
LATEST: Final = datetime(9999, 12, 30, tzinfo=UTC)
"""Timestamps a file may hold. Python dates end at the years 1 and 9999, and showing a time in
UTC or local time moves it by up to a day, so a day's margin at each end keeps every later
conversion (file names, lists, the screen) from overflowing."""

_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


def _toml_reason(exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    match = _TOML_POSITION.search(message)
    detail = message[: match.start()] if match else message
    detail = detail.rstrip(".") or "syntax error"
    detail = detail[0].lower() + detail[1:]
    if match and match.group(1):
        return f"line {match.group(1)}, column {match.group(2)}: invalid TOML ({detail})"
    if match:
        return f"at the end: invalid TOML ({detail}; is the file cut short?)"
    return f"invalid TOML ({detail})"


def _parse(data: bytes, fmt: SessionFormat, path: Path | None) -> Any:
    if not data.strip():
        raise SessionFileError(path, "the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SessionFileError(
            path, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    if fmt == "toml":
        if "\r" in text:  # an editor saved CRLF line endings; glmtui never writes a raw CR
            text = text.replace("\r\n", "\n")
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SessionFileError(path, _toml_reason(exc)) from None
        except RecursionError:
            raise SessionFileError(path, "invalid TOML (nested too deeply)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        detail = exc.msg[0].lower() + exc.msg[1:]
        raise SessionFileError(
            path, f"line {exc.lineno}, column {exc.colno}: invalid JSON ({detail})"
        ) from None
    except RecursionError:
        raise SessionFileError(path, "invalid JSON (nested too deeply)") from None
    if "\\ud" in text or "\\uD" in text:  # a \uXXXX escape may have left a lone surrogate
        doc = _storable(doc)
    return doc


def _storable(value: Any) -> Any:
    """``value`` with :func:`storable_text` applied to every string in it."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {storable_text(k): _storable(v) for k, v in value.items()}
    return value


class _Reader:
    """Typed access to one table of a parsed file, raising one-line reasons naming the field."""

    def __init__(
        self, table: Mapping[str, Any], where: str, path: Path | None, prefix: str = ""
    ) -> None:
        self.table = table
        self.where = where
        """Said before the reason, e.g. ``message 3: ``."""
        self.prefix = prefix
        """Said before a key, e.g. ``usage.``."""
        self.path = path

    def fail(self, key: str, problem: str) -> SessionFileError:
        return SessionFileError(self.path, f"{self.where}'{self.prefix}{key}' {problem}")

    def has(self, key: str) -> bool:
        return self.table.get(key) is not None

    def require(self, key: str) -> Any:
        if key not in self.table:
            raise SessionFileError(self.path, f"{self.where}missing '{self.prefix}{key}'")
        return self.table[key]

    def string(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default) if default is not None else self.require(key)
        if not isinstance(value, str):
            raise self.fail(key, f"is not text (got {_kind(value)})")
        return value

    def optional_string(self, key: str) -> str | None:
        return self.string(key) if self.has(key) else None

    def integer(self, key: str) -> int:
        value = self.require(key)
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise self.fail(key, f"is not a whole number (got {_kind(value)})")
        return value

    def number(self, key: str) -> float:
        value = self.require(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"is not a number (got {_kind(value)})")
        return float(value)

    def boolean(self, key: str) -> bool:
        value = self.require(key)
        if not isinstance(value, bool):
            raise self.fail(key, f"is not true or false (got {_kind(value)})")
        return value

    def when(self, key: str, default: datetime | None = None) -> datetime:
        if default is not None and not self.has(key):
            return default
        value = self.require(key)
        parsed: datetime | None = None
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                parsed = datetime.fromisoformat(value)
        elif isinstance(value, date):
            parsed = datetime(value.year, value.month, value.day, tzinfo=UTC)
        if parsed is None:
            raise self.fail(key, f"is not a date and time (got {_kind(value)})")
        instant = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        if not EARLIEST <= instant <= LATEST:
            raise self.fail(key, f"is out of range (got {format_datetime(parsed)})")
        return parsed

    def table_at(self, key: str) -> _Reader | None:
        if not self.has(key):
            return None
        value = self.table[key]
        if not isinstance(value, Mapping):
            raise self.fail(key, f"is not a table (got {_kind(value)})")
        return _Reader(value, self.where, self.path, f"{self.prefix}{key}.")


def _kind(value: object) -> str:
    """A short description of a wrong value for an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 20 else "text"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, datetime | date):
        return "a date"
    return type(value).__name__


def _read_usage(reader: _Reader) -> Usage:
    def optional_int(key: str) -> int | None:
        return reader.integer(key) if reader.has(key) else None

    return Usage(
        prompt_tokens=reader.integer("prompt_tokens") if reader.has("prompt_tokens") else 0,
        completion_tokens=(
            reader.integer("completion_tokens") if reader.has("completion_tokens") else 0
        ),
        total_tokens=reader.integer("total_tokens") if reader.has("total_tokens") else 0,
        cached_tokens=optional_int("cached_tokens"),
        reasoning_tokens=optional_int("reasoning_tokens"),
        cost=reader.number("cost") if reader.has("cost") else None,
        estimated=reader.boolean("estimated") if reader.has("estimated") else False,
    )


_PARAMETER_READERS: Final[dict[str, Callable[[_Reader, str], Any]]] = {
    "temperature": _Reader.number,
    "top_p": _Reader.number,
    "max_tokens": _Reader.integer,
    "frequency_penalty": _Reader.number,
    "presence_penalty": _Reader.number,
    "seed": _Reader.integer,
    "reasoning": _Reader.boolean,
    "stream": _Reader.boolean,
    "reasoning_effort": _Reader.string,
    "json_mode": _Reader.boolean,
}


def _read_parameters(reader: _Reader | None) -> Parameters:
    """Known, well-typed keys only; unknown keys (a newer glmtui's) are ignored."""
    if reader is None:
        return Parameters()
    values: dict[str, Any] = {}
    for name, read in _PARAMETER_READERS.items():
        if reader.has(name):
            values[name] = read(reader, name)
    if reader.has("stop"):
        stop = reader.table["stop"]
        if isinstance(stop, str):
            stop = [stop]
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise reader.fail("stop", "is not a list of text")
        values["stop"] = tuple(stop)
    assert set(values) <= {f.name for f in fields(Parameters)}
    return Parameters(**values)


def _read_tool_calls(reader: _Reader, number: int) -> tuple[ToolCall, ...]:
    """A reply's ``tool_calls``: a list of tables, each with text ``id`` and ``name`` and the
    ``arguments`` as text (verbatim, valid JSON or not; missing means none)."""
    if not reader.has("tool_calls"):
        return ()
    items = reader.table["tool_calls"]
    if not isinstance(items, list):
        raise reader.fail("tool_calls", f"is not a list of tool calls (got {_kind(items)})")
    calls: list[ToolCall] = []
    for index, item in enumerate(items, start=1):
        where = f"message {number}, tool call {index}: "
        if not isinstance(item, Mapping):
            raise SessionFileError(reader.path, f"{where}not a table (got {_kind(item)})")
        call = _Reader(item, where, reader.path)
        calls.append(
            ToolCall(
                id=call.string("id"),
                name=call.string("name"),
                arguments=call.string("arguments", "") if call.has("arguments") else "",
            )
        )
    return tuple(calls)


SHA256: Final = re.compile(r"[0-9a-f]{64}")
"""A content hash as the blob store names files (lowercase hex): a file's ``sha256`` must be
one, so no text from a session file can reach a path."""

_DEFAULT_MIME: Final[dict[str, str]] = {
    "text": "text/plain",
    "image": "application/octet-stream",
    "pdf": "application/pdf",
}
"""The MIME type of an attachment whose entry has none (a hand-written file)."""


def _read_attachment(item: Any, where: str, path: Path | None) -> Attachment:
    """One entry of ``attachments``: ``name`` and ``kind`` required, a binary one's ``sha256``
    a content hash (64 lowercase hex digits; it names a file in the data folder)."""
    if not isinstance(item, Mapping):
        raise SessionFileError(path, f"{where}not a table (got {_kind(item)})")
    reader = _Reader(item, where, path)
    kind = reader.string("kind")
    if kind not in ATTACHMENT_KINDS:
        raise reader.fail(
            "kind", f"must be one of {', '.join(ATTACHMENT_KINDS)} (got {_kind(kind)})"
        )
    text = reader.string("text", "") if reader.has("text") else ""
    sha256 = reader.string("sha256", "") if reader.has("sha256") else ""
    if kind != "text" and not sha256:
        raise SessionFileError(path, f"{where}missing 'sha256' (the content of a {kind})")
    if sha256 and not SHA256.fullmatch(sha256):
        raise reader.fail("sha256", "is not a SHA-256 content hash (64 hex digits)")
    size = reader.integer("size") if reader.has("size") else len(text.encode("utf-8"))
    if size < 0:
        raise reader.fail("size", f"is negative (got {size})")
    return Attachment(
        name=reader.string("name"),
        kind=kind,
        mime=reader.string("mime", "") if reader.has("mime") else _DEFAULT_MIME[kind],
        size=size,
        text=text,
        sha256=sha256,
    )


def _read_attachments(reader: _Reader, number: int) -> tuple[Attachment, ...]:
    if not reader.has("attachments"):
        return ()
    items = reader.table["attachments"]
    if not isinstance(items, list):
        raise reader.fail("attachments", f"is not a list of attachments (got {_kind(items)})")
    return tuple(
        _read_attachment(item, f"message {number}, attachment {index}: ", reader.path)
        for index, item in enumerate(items, start=1)
    )


def _read_summary_of(reader: _Reader) -> tuple[str, ...]:
    if not reader.has("summary_of"):
        return ()
    ids = reader.table["summary_of"]
    if not isinstance(ids, list):
        raise reader.fail("summary_of", f"is not a list of message ids (got {_kind(ids)})")
    for value in ids:
        if not isinstance(value, str):
            raise reader.fail("summary_of", f"holds {_kind(value)}, not a message id")
    return tuple(ids)


def _read_tool_outcome(reader: _Reader) -> ToolOutcome | None:
    outcome = reader.optional_string("tool_outcome")
    if outcome is not None and outcome not in TOOL_OUTCOMES:
        raise reader.fail(
            "tool_outcome", f"must be one of {', '.join(TOOL_OUTCOMES)} (got {_kind(outcome)})"
        )
    return outcome  # (narrowed by the check above)


def _read_duration(reader: _Reader) -> int | None:
    if not reader.has("duration_ms"):
        return None
    duration = reader.integer("duration_ms")
    if duration < 0:
        raise reader.fail("duration_ms", f"is negative (got {duration})")
    return duration


def _read_message(item: Any, number: int, path: Path | None, default_time: datetime) -> Message:
    where = f"message {number}: "
    if not isinstance(item, Mapping):
        raise SessionFileError(path, f"{where}not a table (got {_kind(item)})")
    reader = _Reader(item, where, path)
    role = reader.string("role")
    if role not in ROLES:
        raise reader.fail("role", f"must be one of {', '.join(ROLES)} (got {_kind(role)})")
    status: str | None = reader.optional_string("status")
    if status is not None and status not in (*SAVED_STATUSES, "streaming"):
        raise reader.fail(
            "status", f"must be one of {', '.join(SAVED_STATUSES)} (got {_kind(status)})"
        )
    usage_reader = reader.table_at("usage")
    return Message(
        role=cast(Role, role),
        content=reader.string("content"),
        created_at=reader.when("created_at", default_time),
        id=reader.string("id") if reader.has("id") else new_id(),
        reasoning=reader.string("reasoning", "") if reader.has("reasoning") else "",
        status=cast("MessageStatus | None", status),
        finish_reason=reader.optional_string("finish_reason"),
        model=reader.optional_string("model"),
        usage=_read_usage(usage_reader) if usage_reader is not None else None,
        error=reader.optional_string("error"),
        tool_calls=_read_tool_calls(reader, number),
        tool_call_id=reader.optional_string("tool_call_id"),
        tool_name=reader.optional_string("tool_name"),
        tool_outcome=_read_tool_outcome(reader),
        duration_ms=_read_duration(reader),
        attachments=_read_attachments(reader, number),
        compacted=reader.boolean("compacted") if reader.has("compacted") else False,
        summary_of=_read_summary_of(reader),
    )


def session_from_document(doc: Any, path: Path | None = None) -> Session:
    """Build a :class:`Session` from a parsed file, checking every field it uses.

    Raises:
        SessionFileError: a required field is missing or a field has the wrong type; the
            reason names the field (``message 3: 'role' must be one of …``).
    """
    if not isinstance(doc, Mapping):
        raise SessionFileError(path, f"not a session (the file holds {_kind(doc)}, not a table)")
    if "schema_version" not in doc:
        raise SessionFileError(path, "not a glmtui session (no 'schema_version')")
    reader = _Reader(doc, "", path)
    version = reader.integer("schema_version")
    if version < 1:
        raise reader.fail("schema_version", f"must be 1 or more (got {version})")
    messages = reader.require("messages")
    if not isinstance(messages, list):
        raise reader.fail("messages", f"is not a list of messages (got {_kind(messages)})")
    created = reader.when("created_at")
    session = Session(
        id=reader.string("id"),
        title=reader.string("title", ""),
        created_at=created,
        updated_at=reader.when("updated_at", created),
        model=reader.string("model", ""),
        provider=reader.string("provider", ""),
        base_url=reader.string("base_url", ""),
        system_prompt=reader.string("system_prompt", ""),
        parameters=_read_parameters(reader.table_at("parameters")),
        messages=[
            _read_message(item, number, path, created)
            for number, item in enumerate(messages, start=1)
        ],
    )
    if not session.id.strip():
        raise reader.fail("id", "is empty")
    session.read_only = version > SCHEMA_VERSION
    return session


def decode_session(
    data: bytes, *, fmt: SessionFormat | None = None, path: Path | None = None
) -> Session:
    """Read a session from the bytes of a file in either format.

    Args:
        data: The file's contents.
        fmt: The format, if known; else taken from ``path``'s extension, else sniffed.
        path: Where the bytes came from, for error messages and the extension.

    Returns:
        The session; ``read_only`` is set when the file's ``schema_version`` is newer than
        this glmtui's (it is shown, never saved over).

    Raises:
        SessionFileError: the bytes are not a session; ``reason`` is one line for the user.
    """
    fmt = fmt or (format_for_path(path) if path is not None else None) or sniff_format(data)
    return session_from_document(_parse(data, fmt, path), path)
