"""Session file codecs: exact round trips for any text, readable files, one-line decode errors."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glmtui.domain import Message, Parameters, Session, Usage
from glmtui.domain.attachments import Attachment
from glmtui.domain.tools import TOOL_OUTCOMES, ToolCall
from glmtui.store import (
    SCHEMA_VERSION,
    SessionFileError,
    decode_session,
    encode_session,
    storable_text,
)
from glmtui.store.codecs import ROLES, SessionFormat, sniff_format, toml_string

FORMATS: list[SessionFormat] = ["toml", "json"]

# --- strategies --------------------------------------------------------------------------------

TRICKY = [
    '"',
    '""',
    '"""',
    '""""',
    "'",
    "''",
    "'''",
    "''''",
    "\\",
    "\\\\",
    "\\n",
    "\\u0000",
    "\r",
    "\r\n",
    "\n",
    "\n\n",
    "\t",
    "\x00",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\u2028",
    "\ufeff",
    "\U0001f600",
    "é",
    "e\u0301",
    "```",
    "[[messages]]",
    "schema_version = 2",
    "x" * 300,
]
"""Pieces that break naive writers: delimiters, escapes, line endings, controls, BOMs, emoji."""

text = st.lists(st.one_of(st.text(), st.sampled_from(TRICKY)), max_size=8).map("".join)
"""Any text a user can type or a model can emit (every Unicode scalar value; no surrogates)."""

zones = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
)
times = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=zones,  # type: ignore[arg-type]
)
counts = st.integers(min_value=0, max_value=2**40)
finite = st.floats(allow_nan=False, allow_infinity=False)

usages = st.builds(
    Usage,
    prompt_tokens=counts,
    completion_tokens=counts,
    total_tokens=counts,
    cached_tokens=st.none() | counts,
    reasoning_tokens=st.none() | counts,
    cost=st.none() | finite,
    estimated=st.booleans(),
)
parameters = st.builds(
    Parameters,
    temperature=st.none() | finite,
    top_p=st.none() | finite,
    max_tokens=st.none() | st.integers(min_value=1, max_value=2**31),
    frequency_penalty=st.none() | finite,
    presence_penalty=st.none() | finite,
    stop=st.none() | st.lists(text, max_size=3).map(tuple),
    seed=st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    reasoning=st.none() | st.booleans(),
)
tool_calls = st.builds(ToolCall, id=text, name=text, arguments=text)
"""Calls as a model may write them: any id and name, arguments that need not be JSON."""
hashes = st.binary(min_size=32, max_size=32).map(bytes.hex)
text_attachments = st.builds(
    Attachment, name=text, kind=st.just("text"), mime=text, size=counts, text=text
)
binary_attachments = st.builds(
    Attachment,
    name=text,
    kind=st.sampled_from(["image", "pdf"]),
    mime=text,
    size=counts,
    sha256=hashes,
)
attachments = st.one_of(text_attachments, binary_attachments)
"""Files as the readers make them: text ones with their text, binary ones by content hash
(any name, any MIME type a hand edit could leave)."""

messages = st.builds(
    Message,
    role=st.sampled_from(ROLES),
    content=text,
    created_at=times,
    id=text,
    reasoning=text,
    status=st.sampled_from([None, "complete", "interrupted", "error"]),
    finish_reason=st.none() | text,
    model=st.none() | text,
    usage=st.none() | usages,
    error=st.none() | text,
    tool_calls=st.lists(tool_calls, max_size=3).map(tuple),
    tool_call_id=st.none() | text,
    tool_name=st.none() | text,
    tool_outcome=st.none() | st.sampled_from(TOOL_OUTCOMES),
    duration_ms=st.none() | counts,
    attachments=st.lists(attachments, max_size=3).map(tuple),
    compacted=st.booleans(),
    summary_of=st.lists(text, max_size=3).map(tuple),
)
sessions = st.builds(
    Session,
    id=text.filter(lambda s: s.strip() != ""),
    title=text,
    created_at=times,
    updated_at=times,
    model=text,
    provider=text,
    system_prompt=text,
    parameters=parameters,
    messages=st.lists(messages, max_size=4),
)


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(session=sessions)
def test_any_session_round_trips_exactly(fmt: SessionFormat, session: Session) -> None:
    data = encode_session(session, fmt)
    assert decode_session(data, fmt=fmt) == session
    # The files are plain TOML/JSON that any parser reads.
    parsed = tomllib.loads(data.decode()) if fmt == "toml" else json.loads(data)
    assert parsed["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=300, deadline=None)
@given(value=text)
def test_any_text_in_every_field_round_trips(fmt: SessionFormat, value: str) -> None:
    session = Session(
        title=value,
        system_prompt=value,
        messages=[
            Message(
                "assistant",
                value,
                reasoning=value,
                error=value,
                model=value,
                tool_calls=(ToolCall(value, value, value), ToolCall("b", "c", value)),
            ),
            Message("tool", value, tool_call_id=value, tool_name=value, tool_outcome="ok"),
            Message(
                "user",
                value,
                attachments=(
                    Attachment(value, "text", value, 1, value),
                    Attachment(value, "pdf", value, 2, sha256="ab" * 32),
                ),
                compacted=True,
                summary_of=(value, value),
            ),
        ],
    )
    assert decode_session(encode_session(session, fmt), fmt=fmt) == session


@settings(max_examples=300, deadline=None)
@given(value=text)
def test_toml_strings_read_back_exactly(value: str) -> None:
    for multiline in (True, False):
        assert tomllib.loads(f"v = {toml_string(value, multiline=multiline)}\n")["v"] == value


@pytest.mark.parametrize("fmt", FORMATS)
@given(value=st.text(alphabet=st.characters(categories=["Cs"]), min_size=1))
def test_lone_surrogates_become_replacement_characters(fmt: SessionFormat, value: str) -> None:
    """UTF-8 cannot hold a lone surrogate; it is stored as U+FFFD (pairs joined), never a crash."""
    session = Session(title="t", messages=[Message("assistant", "a" + value + "b")])
    back = decode_session(encode_session(session, fmt), fmt=fmt)
    assert back.messages[0].content == storable_text("a" + value + "b")
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in back.messages[0].content)
    assert storable_text("a\ud800b") == "a\ufffdb"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_split_surrogate_pair_is_joined(fmt: SessionFormat) -> None:
    """A JSON ``\\ud83d`` / ``\\ude00`` pair split across two stream chunks is one emoji."""
    split = json.loads('"\\ud83d"') + json.loads('"\\ude00"')
    session = Session(messages=[Message("assistant", split)])
    assert decode_session(encode_session(session, fmt), fmt=fmt).messages[0].content == "😀"


@pytest.mark.parametrize("fmt", FORMATS)
def test_streaming_is_saved_as_interrupted(fmt: SessionFormat) -> None:
    session = Session(messages=[Message("assistant", "half", status="streaming")])
    back = decode_session(encode_session(session, fmt), fmt=fmt)
    assert back.messages[0].status == "interrupted"


# --- what the files look like --------------------------------------------------------------------


def sample() -> Session:
    return Session(
        id="abc123",
        title="Rust lifetimes question",
        created_at=datetime(2026, 11, 25, 20, 31, 3, tzinfo=UTC),
        updated_at=datetime(2026, 11, 25, 20, 35, 10, tzinfo=UTC),
        parameters=Parameters(temperature=0.7, max_tokens=1024),
        messages=[
            Message(
                "user",
                "Why does this fail?\nfn f(x: &str) -> &str",
                created_at=datetime(2026, 11, 25, 20, 31, 3, tzinfo=UTC),
                id="m1",
            ),
            Message(
                "assistant",
                'Because of "elision".\nUse \\d+ or C:\\path.\r\nDone.',
                created_at=datetime(2026, 11, 25, 20, 31, 9, tzinfo=UTC),
                id="m2",
                reasoning="The user asks about lifetimes.",
                status="complete",
                finish_reason="stop",
                model="zai-org-glm-5",
                usage=Usage(12, 40, 52),
            ),
        ],
    )


def test_toml_layout_is_readable_and_diffable() -> None:
    text = encode_session(sample(), "toml").decode()
    assert text.startswith(
        f'schema_version = {SCHEMA_VERSION}\nid = "abc123"\ntitle = "Rust lifetimes question"\n'
    )
    assert "created_at = 2026-11-25T20:31:03Z\n" in text
    assert "[parameters]\ntemperature = 0.7\nmax_tokens = 1024\n" in text
    # One line in the file per line of text; code and backslashes as typed.
    assert "content = '''\nWhy does this fail?\nfn f(x: &str) -> &str'''\n" in text
    assert "usage = { prompt_tokens = 12, completion_tokens = 40, total_tokens = 52 }" in text
    # A CR cannot go in a literal string: escaped, the rest of the text still one line per line.
    assert 'content = """\nBecause of "elision".\nUse \\\\d+ or C:\\\\path.\\r\nDone."""' in text
    assert 'status = "complete"\nfinish_reason = "stop"' in text
    assert "reasoning = " in text
    assert text.endswith("\n")
    assert "\r" not in text


def test_json_layout() -> None:
    data = json.loads(encode_session(sample(), "json"))
    assert list(data)[:4] == ["schema_version", "id", "title", "created_at"]
    assert data["created_at"] == "2026-11-25T20:31:03Z"
    assert data["messages"][0] == {
        "role": "user",
        "id": "m1",
        "created_at": "2026-11-25T20:31:03Z",
        "content": "Why does this fail?\nfn f(x: &str) -> &str",
    }
    assert data["messages"][1]["usage"] == {
        "prompt_tokens": 12,
        "completion_tokens": 40,
        "total_tokens": 52,
    }
    assert "reasoning" not in data["messages"][0]  # empty reasoning is omitted


def test_both_formats_load_whatever_the_extension_and_setting() -> None:
    session = sample()
    for fmt in FORMATS:
        data = encode_session(session, fmt)
        assert decode_session(data) == session  # sniffed
        assert decode_session(data, path=Path(f"x.{fmt}")) == session
        assert decode_session(data, path=Path("x.session")) == session
    assert sniff_format(b'\xef\xbb\xbf  {"a": 1}') == "json"
    assert sniff_format(b"schema_version = 1") == "toml"


def test_hand_edited_files_with_crlf_and_bom_load() -> None:
    text = encode_session(sample(), "toml").decode().replace("\n", "\r\n")
    back = decode_session(b"\xef\xbb\xbf" + text.encode(), fmt="toml")
    assert back.title == "Rust lifetimes question"
    assert back.messages[0].content == "Why does this fail?\nfn f(x: &str) -> &str"


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fmt", "reason"),
    [
        (b"", "toml", "the file is empty"),
        (b"  \n", "json", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "toml", "not UTF-8 text (byte 0x89 at offset 0)"),
        (b'schema_version = 1\nid = "x\n', "toml",
         "line 2, column 8: invalid TOML (illegal character"),
        (b'schema_version = 1\ntitle = """never closed', "toml", "at the end: invalid TOML"),
        (b'{"schema_version": 1,\n "id": }', "json", "line 2, column 8: invalid JSON"),
        (b"[1, 2]", "json", "not a session (the file holds a list, not a table)"),
        (b'"text"', "json", "not a session"),
        (b'title = "x"\n', "toml", "not a glmtui session (no 'schema_version')"),
        (b'schema_version = 1\nid = "x"\n', "toml", "missing 'messages'"),
        (b'schema_version = 1\nmessages = []\ncreated_at = 2026-01-01T00:00:00Z\n', "toml",
         "missing 'id'"),
        (b'schema_version = 1\nid = "x"\nmessages = []\ncreated_at = "soon"\n', "toml",
         "'created_at' is not a date and time"),
        (b'schema_version = "one"\nid = "x"\nmessages = []\n', "toml",
         "'schema_version' is not a whole number"),
        (b'schema_version = 1\nid = "x"\ncreated_at = 2026-01-01T00:00:00Z\nmessages = 3\n',
         "toml", "'messages' is not a list of messages"),
        (b'schema_version = 1\nid = "x"\ncreated_at = 2026-01-01T00:00:00Z\n'
         b'[[messages]]\nrole = "bot"\ncontent = "hi"\n', "toml",
         "message 1: 'role' must be one of system, user, assistant, tool (got 'bot')"),
        (b'schema_version = 1\nid = "x"\ncreated_at = 2026-01-01T00:00:00Z\n'
         b'[[messages]]\nrole = "user"\n', "toml", "message 1: missing 'content'"),
        (b'schema_version = 1\nid = "x"\ncreated_at = 2026-01-01T00:00:00Z\n'
         b'[[messages]]\nrole = "assistant"\ncontent = ""\nusage = { total_tokens = "many" }\n',
         "toml", "message 1: 'usage.total_tokens' is not a whole number"),
        (b'schema_version = 1\nid = "x"\ncreated_at = 2026-01-01T00:00:00Z\nmessages = []\n'
         b'[parameters]\ntemperature = "hot"\n', "toml",
         "'parameters.temperature' is not a number"),
        (b"a = " + b"[" * 5000, "toml", "invalid TOML"),
    ],
)  # fmt: skip
def test_decode_errors_are_one_line_reasons(data: bytes, fmt: SessionFormat, reason: str) -> None:
    with pytest.raises(SessionFileError) as caught:
        decode_session(data, fmt=fmt, path=Path(f"20260101-000000-bad.{fmt}"))
    error = caught.value
    assert reason in error.reason
    assert "\n" not in str(error)
    assert str(error).startswith(f"20260101-000000-bad.{fmt}: ")


def test_newer_schema_loads_read_only() -> None:
    now, future = f"schema_version = {SCHEMA_VERSION}", f"schema_version = {SCHEMA_VERSION + 1}"
    data = encode_session(sample(), "toml").replace(now.encode(), future.encode())
    data += b'\nfuture_field = "kept on disk"\n'
    session = decode_session(data, fmt="toml")
    assert session.read_only
    assert session.title == "Rust lifetimes question"
    assert not decode_session(encode_session(sample(), "toml")).read_only


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_the_server_a_session_talked_to_is_kept(fmt: str) -> None:
    """Schema 2 records the API root; a schema 1 file (none recorded) loads with "" and is
    written as schema 2 when saved."""
    session = replace(sample(), provider="local", base_url="http://127.0.0.1:8000/v1")
    data = encode_session(session, fmt)  # type: ignore[arg-type]
    assert decode_session(data, fmt=fmt).base_url == "http://127.0.0.1:8000/v1"  # type: ignore[arg-type]
    old = encode_session(sample(), fmt)  # type: ignore[arg-type]
    assert b"base_url" not in old  # nothing recorded: nothing written
    old = with_version(old, fmt, 1)  # type: ignore[arg-type]
    loaded = decode_session(old, fmt=fmt)  # type: ignore[arg-type]
    assert (loaded.base_url, loaded.read_only) == ("", False)
    assert f"schema_version = {SCHEMA_VERSION}\n".encode() in encode_session(loaded, "toml")


def with_version(data: bytes, fmt: SessionFormat, version: int) -> bytes:
    """A file written now, relabelled as written under another ``schema_version``."""
    if fmt == "toml":
        now, then = f"schema_version = {SCHEMA_VERSION}\n", f"schema_version = {version}\n"
    else:
        now, then = f'"schema_version": {SCHEMA_VERSION},', f'"schema_version": {version},'
    assert now.encode() in data
    return data.replace(now.encode(), then.encode(), 1)
