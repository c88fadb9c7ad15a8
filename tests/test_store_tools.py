"""Tool calls in session files: what they look like, that they round-trip, that a bad one is a
one-line reason, that older files stay as they are until saved, and that keys in them are
masked and their text is searched."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glmtui import paths
from glmtui.domain import Message, Session, Usage
from glmtui.domain.tools import ToolCall
from glmtui.store import (
    SCHEMA_VERSION,
    SessionFileError,
    SessionFormat,
    SessionStore,
    StoreError,
    decode_session,
    encode_session,
)
from glmtui.store.index import INDEX_FILE, LAYOUT_VERSION
from tests.conftest import FAKE_KEY

FORMATS: list[SessionFormat] = ["toml", "json"]

RESULT = '{\n  "timezone": "Asia/Tokyo",\n  "datetime": "2026-12-08T18:15:03+09:00"\n}'


def at(second: int) -> datetime:
    return datetime(2026, 12, 8, 9, 15, second, tzinfo=UTC)


def tool_turn(**assistant: object) -> Session:
    """ "What time is it in Tokyo?": a reply that calls two tools, their results, the answer."""
    calls = (
        ToolCall("call_1", "get_current_time", '{"timezone": "Asia/Tokyo"}'),
        ToolCall("call_2", "convert_time", '{"time": "18:15", oops'),  # not JSON: kept as sent
    )
    return Session(
        id="tools1",
        title="What time is it in Tokyo?",
        created_at=at(0),
        updated_at=at(6),
        messages=[
            Message("user", "What time is it in Tokyo?", created_at=at(0), id="m1"),
            Message(
                "assistant",
                "Let me look.",
                created_at=at(2),
                id="m2",
                status="complete",
                finish_reason="tool_calls",
                usage=Usage(160, 24, 184),
                tool_calls=calls,
                **assistant,  # type: ignore[arg-type]
            ),
            Message(
                "tool",
                RESULT,
                created_at=at(3),
                id="m3",
                tool_call_id="call_1",
                tool_name="time.get_current_time",
                tool_outcome="ok",
                duration_ms=41,
            ),
            Message(
                "tool",
                "Error: the arguments are not valid JSON",
                created_at=at(3),
                id="m4",
                tool_call_id="call_2",
                tool_name="time.convert_time",
                tool_outcome="error",
                duration_ms=0,
            ),
            Message("assistant", "It is 18:15.", created_at=at(6), id="m5", status="complete"),
        ],
    )


@pytest.fixture
def store() -> Iterator[SessionStore]:
    with SessionStore(paths.data_dir(), secrets=(FAKE_KEY,)) as store:
        yield store


def with_version(data: bytes, fmt: SessionFormat, version: int) -> bytes:
    """A file written now, relabelled as written under another ``schema_version``."""
    if fmt == "toml":
        now, then = f"schema_version = {SCHEMA_VERSION}\n", f"schema_version = {version}\n"
    else:
        now, then = f'"schema_version": {SCHEMA_VERSION},', f'"schema_version": {version},'
    assert now.encode() in data
    return data.replace(now.encode(), then.encode(), 1)


# --- what the files hold -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_tool_turn_round_trips_exactly(fmt: SessionFormat) -> None:
    session = tool_turn()
    assert decode_session(encode_session(session, fmt), fmt=fmt) == session


def test_toml_layout_of_a_tool_turn() -> None:
    """Each call is a ``[[messages.tool_calls]]`` table after the reply's text; JSON arguments
    read as typed (a literal string, no escaped quotes); the result is multi-line text."""
    text = encode_session(tool_turn(), "toml").decode()
    assert text.startswith(f"schema_version = {SCHEMA_VERSION}\n")
    assert (
        "usage = { prompt_tokens = 160, completion_tokens = 24, total_tokens = 184 }\n"
        'content = "Let me look."\n'
        "\n"
        "[[messages.tool_calls]]\n"
        'id = "call_1"\n'
        'name = "get_current_time"\n'
        'arguments = \'{"timezone": "Asia/Tokyo"}\'\n'
        "\n"
        "[[messages.tool_calls]]\n"
        'id = "call_2"\n'
        'name = "convert_time"\n'
        'arguments = \'{"time": "18:15", oops\'\n'
        "\n"
        "[[messages]]\n"
        'role = "tool"\n'
        'id = "m3"\n'
        "created_at = 2026-12-08T09:15:03Z\n"
        'tool_call_id = "call_1"\n'
        'tool_name = "time.get_current_time"\n'
        'tool_outcome = "ok"\n'
        "duration_ms = 41\n"
        "content = '''\n"
        "{\n"
        '  "timezone": "Asia/Tokyo",\n'
    ) in text
    parsed = tomllib.loads(text)
    assert parsed["messages"][1]["tool_calls"][1] == {
        "id": "call_2",
        "name": "convert_time",
        "arguments": '{"time": "18:15", oops',
    }
    assert "tool_calls" not in parsed["messages"][0]  # none: nothing written
    assert "tool_outcome" not in parsed["messages"][1]


def test_json_layout_of_a_tool_turn() -> None:
    data = json.loads(encode_session(tool_turn(), "json"))
    reply, result = data["messages"][1], data["messages"][2]
    assert list(reply)[-2:] == ["content", "tool_calls"]
    assert reply["tool_calls"][0] == {
        "id": "call_1",
        "name": "get_current_time",
        "arguments": '{"timezone": "Asia/Tokyo"}',
    }
    assert result == {
        "role": "tool",
        "id": "m3",
        "created_at": "2026-12-08T09:15:03Z",
        "tool_call_id": "call_1",
        "tool_name": "time.get_current_time",
        "tool_outcome": "ok",
        "duration_ms": 41,
        "content": RESULT,
    }


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "arguments",
    [
        "",
        "{}",
        '{"a": 1',
        "not json at all",
        '{\r\n  "path": "C:\\\\x"\r\n}',
        "'''\"\"\"",
        "  padded  ",
        '{"emoji": "\U0001f600", "nul": "\x00"}',
        "x" * 5000,
    ],
)
def test_arguments_are_kept_verbatim(fmt: SessionFormat, arguments: str) -> None:
    """What the model wrote is what is resent, also when it is not JSON."""
    session = Session(
        messages=[Message("assistant", "", tool_calls=(ToolCall("c", "f", arguments),))]
    )
    back = decode_session(encode_session(session, fmt), fmt=fmt)
    assert back.messages[0].tool_calls[0].arguments == arguments
    assert back.wire_messages()[0]["tool_calls"][0]["function"]["arguments"] == arguments


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("outcome", ["ok", "error", "denied", "timeout", "cancelled"])
def test_every_outcome_and_a_missing_duration_round_trip(fmt: SessionFormat, outcome: str) -> None:
    message = Message("tool", "", tool_call_id="", tool_outcome=outcome)  # type: ignore[arg-type]
    back = decode_session(encode_session(Session(messages=[message]), fmt), fmt=fmt)
    assert back.messages[0] == message
    assert (back.messages[0].tool_call_id, back.messages[0].duration_ms) == ("", None)


def test_a_hand_written_inline_tool_call_list_loads() -> None:
    """``tool_calls = [{ … }]`` (the inline form someone may type) means the same."""
    data = (
        b'schema_version = 3\nid = "x"\ncreated_at = 2026-01-01T00:00:00Z\n'
        b'[[messages]]\nrole = "assistant"\ncontent = ""\n'
        b'tool_calls = [{ id = "c1", name = "f", arguments = \'{}\' }, { id = "c2", name = "g" }]\n'
    )
    [message] = decode_session(data, fmt="toml").messages
    assert message.tool_calls == (ToolCall("c1", "f", "{}"), ToolCall("c2", "g", ""))


# --- bad files -----------------------------------------------------------------------------------

HEAD = b'schema_version = 3\nid = "x"\ncreated_at = 2026-01-01T00:00:00Z\n'
REPLY = b'[[messages]]\nrole = "assistant"\ncontent = ""\n'
RESULT_MESSAGE = b'[[messages]]\nrole = "tool"\ncontent = "r"\n'


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (HEAD + REPLY + b'tool_calls = "get_time()"\n',
         "message 1: 'tool_calls' is not a list of tool calls (got 'get_time()')"),
        (HEAD + REPLY + b"tool_calls = [1]\n", "message 1, tool call 1: not a table (got 1)"),
        (HEAD + REPLY + b'[[messages.tool_calls]]\nid = "c1"\nname = "f"\n'
         b'[[messages.tool_calls]]\nid = "c2"\n', "message 1, tool call 2: missing 'name'"),
        (HEAD + REPLY + b'[[messages.tool_calls]]\nname = "f"\n',
         "message 1, tool call 1: missing 'id'"),
        (HEAD + REPLY + b'[[messages.tool_calls]]\nid = 7\nname = "f"\n',
         "message 1, tool call 1: 'id' is not text (got 7)"),
        (HEAD + REPLY + b'[[messages.tool_calls]]\nid = "c"\nname = "f"\narguments = { a = 1 }\n',
         "message 1, tool call 1: 'arguments' is not text (got a table)"),
        (HEAD + RESULT_MESSAGE + b'tool_outcome = "maybe"\n',
         "message 1: 'tool_outcome' must be one of ok, error, denied, timeout, cancelled "
         "(got 'maybe')"),
        (HEAD + RESULT_MESSAGE + b"tool_outcome = true\n",
         "message 1: 'tool_outcome' is not text (got true)"),
        (HEAD + RESULT_MESSAGE + b'duration_ms = "fast"\n',
         "message 1: 'duration_ms' is not a whole number (got 'fast')"),
        (HEAD + RESULT_MESSAGE + b"duration_ms = -5\n",
         "message 1: 'duration_ms' is negative (got -5)"),
        (HEAD + RESULT_MESSAGE + b"tool_call_id = 3\n",
         "message 1: 'tool_call_id' is not text (got 3)"),
        (HEAD + RESULT_MESSAGE + b"tool_name = [\"a\"]\n",
         "message 1: 'tool_name' is not text (got a list)"),
    ],
)  # fmt: skip
def test_a_malformed_tool_field_is_a_one_line_reason(data: bytes, reason: str) -> None:
    with pytest.raises(SessionFileError) as caught:
        decode_session(data, fmt="toml", path=Path("20260101-000000-bad.toml"))
    assert caught.value.reason == reason
    assert str(caught.value) == f"20260101-000000-bad.toml: {reason}"


def test_json_nulls_mean_absent_and_wrong_types_are_reasons() -> None:
    doc = json.loads(encode_session(tool_turn(), "json"))
    doc["messages"][1]["tool_calls"] = None
    doc["messages"][2]["duration_ms"] = None
    session = decode_session(json.dumps(doc).encode(), fmt="json")
    assert session.messages[1].tool_calls == ()
    assert session.messages[2].duration_ms is None
    doc["messages"][1]["tool_calls"] = {"id": "c"}
    with pytest.raises(SessionFileError, match="message 2: 'tool_calls' is not a list of tool"):
        decode_session(json.dumps(doc).encode(), fmt="json")
    doc["messages"][1]["tool_calls"] = [{"id": "c", "name": "f", "arguments": {"a": 1}}]
    with pytest.raises(SessionFileError, match="message 2, tool call 1: 'arguments' is not text"):
        decode_session(json.dumps(doc).encode(), fmt="json")


ANYTHING = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
"""Any JSON value."""

TOOL_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "tool_calls": ANYTHING
        | st.lists(
            st.fixed_dictionaries(
                {}, optional={"id": ANYTHING, "name": ANYTHING, "arguments": ANYTHING}
            )
            | ANYTHING,
            max_size=3,
        ),
        "tool_call_id": ANYTHING,
        "tool_name": ANYTHING,
        "tool_outcome": ANYTHING | st.sampled_from(["ok", "error", "denied", "OK", ""]),
        "duration_ms": ANYTHING,
    },
)
"""The tool fields of a message, holding anything at all (often something valid)."""


@settings(max_examples=150, deadline=None)
@given(fields=TOOL_FIELDS, index=st.integers(min_value=0, max_value=4))
def test_any_tool_fields_load_or_give_a_one_line_reason(fields: dict[str, Any], index: int) -> None:
    """Whatever a hand edit or another program puts in the tool fields: the file loads (and
    then round-trips in both formats) or it is refused with one line, never a crash."""
    doc = json.loads(encode_session(tool_turn(), "json"))
    doc["messages"][index].update(fields)
    try:
        session: Session | str = decode_session(json.dumps(doc).encode(), fmt="json")
    except SessionFileError as error:
        session = str(error)
    if isinstance(session, str):
        assert "\n" not in session
        assert session.startswith(f"message {index + 1}")
        return
    for fmt in FORMATS:
        assert decode_session(encode_session(session, fmt), fmt=fmt) == session


def test_a_corrupt_tool_field_is_listed_unreadable_and_left_alone(store: SessionStore) -> None:
    store.folder.mkdir(parents=True)
    path = store.folder / "20260101-000000-bad.toml"
    data = HEAD + RESULT_MESSAGE + b'tool_outcome = "maybe"\n'
    path.write_bytes(data)
    [summary] = store.list_sessions()
    assert not summary.readable
    assert "'tool_outcome' must be one of" in (summary.error or "")
    assert store.search("r") == []
    with pytest.raises(SessionFileError):
        store.load(path)
    assert path.read_bytes() == data


# --- older and newer files -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_schema_2_file_loads_and_is_rewritten_only_when_saved(
    store: SessionStore, fmt: SessionFormat
) -> None:
    old = Session(
        id="old2",
        title="Before tools",
        created_at=at(0),
        messages=[Message("user", "hi", created_at=at(0)), Message("assistant", "hello")],
    )
    store.folder.mkdir(parents=True)
    path = store.folder / f"20261208-091500-before-tools.{fmt}"
    data = with_version(encode_session(old, fmt), fmt, 2)
    path.write_bytes(data)

    loaded = store.load("old2")
    assert loaded == old
    assert not loaded.read_only
    assert all(m.tool_calls == () and m.tool_outcome is None for m in loaded.messages)
    assert store.open_session(path).session == old
    assert [s.id for s in store.list_sessions()] == ["old2"]
    assert store.search("hello")[0].summary.id == "old2"
    store.export(loaded, "md")
    assert path.read_bytes() == data  # reading, listing, searching, exporting: untouched

    loaded.messages.append(Message("assistant", "", tool_calls=(ToolCall("c", "f", "{}"),)))
    assert store.save(loaded) == path
    again = path.read_bytes()
    version = tomllib.loads(again.decode()) if fmt == "toml" else json.loads(again)
    assert version["schema_version"] == SCHEMA_VERSION
    assert store.load(path) == loaded


def test_a_newer_file_with_tool_calls_opens_read_only_and_is_never_saved_over(
    store: SessionStore,
) -> None:
    store.folder.mkdir(parents=True)
    path = store.folder / "20261208-091500-future.toml"
    data = with_version(encode_session(tool_turn(), "toml"), "toml", SCHEMA_VERSION + 1)
    data = data.replace(b'name = "get_current_time"\n', b'name = "get_current_time"\nnew = 1\n')
    path.write_bytes(data)
    session = store.load(path)
    assert session.read_only
    assert session.messages[1].tool_calls == tool_turn().messages[1].tool_calls
    with pytest.raises(StoreError, match="read-only"):
        store.save(session)
    assert path.read_bytes() == data


# --- secrets -------------------------------------------------------------------------------------


def test_a_key_in_tool_arguments_or_results_never_reaches_the_disk(store: SessionStore) -> None:
    """A tool can read a key (an env dump, a config file) and return it; the model can pass it
    on as an argument. Every tool field is masked like the text."""
    session = tool_turn()
    reply, result = session.messages[1], session.messages[2]
    session.messages[1] = replace(
        reply,
        tool_calls=(
            ToolCall(f"id-{FAKE_KEY}", "get_env", f'{{"key": "{FAKE_KEY}"}}'),
            *reply.tool_calls[1:],
        ),
    )
    session.messages[2] = replace(
        result,
        content=f"OXEN_API_KEY={FAKE_KEY}\nHOME=/home/me",
        tool_call_id=f"id-{FAKE_KEY}",
        tool_name=f"env.{FAKE_KEY}",
    )
    path = store.save(session)
    text = path.read_text()
    assert FAKE_KEY not in text
    saved = store.load(path)
    assert saved.messages[1].tool_calls[0] == ToolCall("id-***", "get_env", '{"key": "***"}')
    assert saved.messages[2].content == "OXEN_API_KEY=***\nHOME=/home/me"
    # The call and its result still pair up: both ids were masked alike.
    assert saved.messages[2].tool_call_id == saved.messages[1].tool_calls[0].id
    wire = saved.wire_messages()
    assert [m.get("tool_call_id") for m in wire if m["role"] == "tool"] == ["id-***", "call_2"]
    for fmt in ("md", "json", "toml"):
        assert FAKE_KEY not in store.export(session, fmt)
    assert FAKE_KEY not in store.export(session, "md", brief=True)
    assert session.messages[2].content.startswith(f"OXEN_API_KEY={FAKE_KEY}")  # not changed


def test_arguments_cut_off_in_the_middle_of_a_key_are_masked(store: SessionStore) -> None:
    """A reply interrupted while it streamed a call's arguments can end with the first part of
    the key: masked, as in an interrupted reply's text."""
    cut = f'{{"token": "{FAKE_KEY[:20]}'
    session = Session(
        messages=[
            Message("assistant", "", status="interrupted", tool_calls=(ToolCall("c", "f", cut),))
        ]
    )
    path = store.save(session)
    assert FAKE_KEY[:20] not in path.read_text()
    assert store.load(path).messages[0].tool_calls[0].arguments == '{"token": "***'
    # A complete reply is not cut: the same text is an ordinary argument there.
    finished = Session(messages=[replace(session.messages[0], id="m", status="complete")])
    assert store.load(store.save(finished)).messages[0].tool_calls[0].arguments == cut


# --- search --------------------------------------------------------------------------------------


def test_search_finds_tool_results_and_arguments(store: SessionStore) -> None:
    session = tool_turn()
    store.save(session)
    store.save(Session(title="Other", messages=[Message("user", "nothing here")]))

    [hit] = store.search("2026-12-08T18:15")  # in the tool's result
    assert (hit.summary.id, hit.field, hit.message_index) == ("tools1", "message", 2)
    assert hit.snippet == '"datetime": "2026-12-08T18:15:03+09:00"'

    [hit] = store.search("asia/TOKYO")  # in the arguments of the first call (and the result)
    assert hit.message_index == 1
    assert hit.snippet == 'get_current_time({"timezone": "Asia/Tokyo"})'

    [hit] = store.search("oops")  # arguments that are not JSON are searched as written
    assert hit.message_index == 1
    [hit] = store.search("convert_time")  # a call's name
    assert hit.message_index == 1
    assert store.search("not valid JSON")[0].message_index == 3  # a failed call's result
    assert [h.summary.id for h in store.search("tokyo look")] == ["tools1"]  # terms across parts


def test_an_index_of_the_previous_layout_is_rebuilt(store: SessionStore) -> None:
    """Layout 4 indexes tool calls; an index written before (layout 3, which did not) is
    thrown away and rebuilt, so arguments in files it had read become searchable."""
    assert LAYOUT_VERSION >= 4
    store.save(tool_turn())
    assert store.search("oops")
    store.close()
    index = paths.cache_dir(paths.data_dir()) / INDEX_FILE
    with sqlite3.connect(index) as conn:  # what a layout 3 index held: the text without calls
        conn.execute("UPDATE texts SET text = 'What time is it in Tokyo?'")
        conn.execute(f"PRAGMA user_version = {LAYOUT_VERSION - 1}")
    conn.close()
    with SessionStore(paths.data_dir()) as fresh:
        assert [h.summary.id for h in fresh.search("oops")] == ["tools1"]
    with sqlite3.connect(index) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LAYOUT_VERSION
    conn.close()
