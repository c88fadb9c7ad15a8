"""Bad input never crashes glmtui and never reaches the terminal raw (issue 9, "Bad input").

- A broken config (wrong types, unknown keys, bad values, files that are not TOML) stops every
  entry point with one line naming the file and the key, never a traceback.
- Session files fuzzed with hypothesis (random bytes, random TOML/JSON documents, mutations of
  valid files) either load or raise the store's :class:`StoreError` naming the file; a folder of
  them lists each as unreadable with its reason, and ``glmtui sessions list``/``show`` stay calm.
- A 1 MB paste goes through the composer, out to the server and into the session file whole.
- Control and escape characters from the user or the model are kept verbatim in the session
  but shown escaped on screen and in ``glmtui sessions``, so no model can drive the terminal.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from textual import events
from textual.pilot import Pilot

from glmtui import paths
from glmtui.cli import main
from glmtui.config import ConfigError, load_settings
from glmtui.domain import Message, Parameters, Session, Usage
from glmtui.store import SessionStore, StoreError, encode_session
from glmtui.store.codecs import format_datetime, session_to_document
from glmtui.ui.app import GlmApp
from tests.server import LoopbackServer, stream_of
from tests.ui_helpers import (
    chat,
    chat_opened,
    make_app,
    send,
    send_anyway,
    settle,
    until,
    visible_text,
)

FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Characters that must never reach a terminal raw: C0 controls (ESC, BEL, CR, NUL …) except
tab, DEL, C1 controls (``\\x9b`` is a one-byte CSI) and the bidi overrides and isolates that
reorder what is shown ("Trojan Source"). Newlines only ever separate lines, never sit in one."""


def raw_controls(text: str) -> list[str]:
    """The forbidden characters in ``text`` (lines joined by newlines), as escapes."""
    return sorted({f"U+{ord(c):04X}" for c in FORBIDDEN.findall(text.replace("\n", ""))})


FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
"""Deterministic and quick: the same examples on every run, a modest number of them."""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def no_app(monkeypatch: pytest.MonkeyPatch) -> list[GlmApp]:
    """``glmtui`` with no command must not get as far as running the app on bad input."""
    started: list[GlmApp] = []

    def refuse(self: GlmApp, *args: Any, **kwargs: Any) -> None:
        started.append(self)
        raise AssertionError("the app was started despite the bad input")

    monkeypatch.setattr(GlmApp, "run", refuse)
    return started


# --- config ------------------------------------------------------------------------------------

BAD_SETTINGS = [
    pytest.param("model = 3\n", "model", id="model-not-text"),
    pytest.param('show_reasoning = "yes"\n', "show_reasoning", id="bool-as-text"),
    pytest.param('timeout = "fast"\n', "timeout", id="number-as-text"),
    pytest.param("max_retries = 2.5\n", "max_retries", id="int-as-fraction"),
    pytest.param("theme = 2024-01-01\n", "theme", id="date-for-text"),
    pytest.param('[parameters]\ntemperature = "hot"\n', "temperature", id="param-type"),
    pytest.param("parameters = 5\n", "parameters", id="parameters-not-a-table"),
    pytest.param('providers = "vllm"\n', "providers", id="providers-not-a-table"),
    pytest.param("[providers]\ngpu = 5\n", "providers.gpu", id="provider-not-a-table"),
    pytest.param("[providers.gpu]\nbase_url = 5\n", "base_url", id="provider-url-type"),
    pytest.param("[parameters]\nstop = [1, 2]\n", "stop", id="stop-not-text"),
    pytest.param('colour = "red"\n', "colour", id="unknown-key"),
    pytest.param("[parameters]\ntemprature = 0.5\n", "temprature", id="unknown-parameter"),
    pytest.param('[providers.vllm]\nurl = "http://x"\n', "url", id="unknown-provider-key"),
    pytest.param("[colours]\nred = 1\n", "colours", id="unknown-table"),
    pytest.param('base_url = "ftp://example.com"\n', "base_url", id="url-scheme"),
    pytest.param('session_format = "yaml"\n', "session_format", id="bad-choice"),
    pytest.param("[parameters]\ntemperature = 3\n", "temperature", id="out-of-range"),
    pytest.param("max_retries = -1\n", "max_retries", id="negative"),
    pytest.param("[parameters]\ntemperature = nan\n", "temperature", id="nan"),
    pytest.param("timeout = inf\n", "timeout", id="inf"),
    pytest.param('provider = "nowhere"\n', "nowhere", id="unknown-provider"),
    pytest.param('[providers.gpu]\nmodel = "m"\n', "base_url", id="provider-without-url"),
    pytest.param('model = ""\n', "model", id="empty-model"),
    pytest.param('"\\u001b]0;pwned\\u0007" = 1\n', r"\x1b]0;pwned\x07", id="escape-in-key"),
    pytest.param('session_format = "\\u001b[2J"\n', "session_format", id="escape-in-value"),
    pytest.param('theme = "x\\u001b]2;pwned\\u0007"\n', "theme", id="escape-in-theme"),
    pytest.param('model = "m\\u009b2J"\n', "model", id="c1-in-model"),
    pytest.param(
        '[providers."gpu\\u001b[2J"]\nbase_url = "http://x"\n', "providers.", id="escape-in-name"
    ),
]
"""A config file's text and the key its error must name."""


def assert_config_message(message: str, path: Path, key: str) -> None:
    """One line that names the file and the key, holds no traceback and no raw control."""
    assert str(path) in message
    assert key in message
    assert "Traceback" not in message
    assert "\n" not in message.rstrip("\n")
    assert not raw_controls(message), message


@pytest.mark.parametrize(("text", "key"), BAD_SETTINGS)
def test_bad_settings_name_the_file_and_the_key(config_file: Path, text: str, key: str) -> None:
    config_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert_config_message(str(caught.value), config_file, key)


ENTRY_POINTS = [
    pytest.param([], id="app"),
    pytest.param(["--sessions"], id="app-browser"),
    pytest.param(["config", "show"], id="config-show"),
    pytest.param(["ask", "hi"], id="ask"),
    pytest.param(["sessions", "list"], id="sessions-list"),
    pytest.param(["models", "--demo"], id="models"),
]


@pytest.mark.parametrize("argv", ENTRY_POINTS)
@pytest.mark.parametrize(("text", "key"), BAD_SETTINGS)
def test_bad_settings_stop_every_entry_point_with_one_line(
    capsys: pytest.CaptureFixture[str],
    config_file: Path,
    no_app: list[GlmApp],
    argv: list[str],
    text: str,
    key: str,
) -> None:
    config_file.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, *argv)
    assert (code, out, no_app) == (2, "", [])
    assert err.startswith("glmtui: config error: ")
    assert err.count("\n") == 1
    assert_config_message(err, config_file, key)


BAD_FILES: list[Any] = [
    pytest.param(b'model = "unterminated\n', "not valid TOML", id="not-toml"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8", id="binary"),
    pytest.param(b'model = "caf\xe9"\n', "not UTF-8", id="latin-1"),
    pytest.param(b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply", id="deep"),
    pytest.param(b"a = " + b"{b=" * 3000 + b"1" + b"}" * 3000, "nested too deeply", id="deep-2"),
    pytest.param(b'model = "a\x00b"\n', "not valid TOML", id="nul"),
    pytest.param(b'model = "a\x1b[2Jb"\n', "not valid TOML", id="raw-escape"),
]
"""Config files that are not (readable) TOML, and what the message says."""


@pytest.mark.parametrize("argv", [[], ["config", "show"]], ids=["app", "config-show"])
@pytest.mark.parametrize(("data", "reason"), BAD_FILES)
def test_unreadable_config_files_are_one_line(
    capsys: pytest.CaptureFixture[str],
    config_file: Path,
    argv: list[str],
    data: bytes,
    reason: str,
) -> None:
    config_file.write_bytes(data)
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert reason in err
    assert err.count("\n") == 1
    assert str(config_file) in err
    assert "Traceback" not in err
    assert not raw_controls(err), err


def test_a_folder_where_the_config_file_should_be(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    config_file.mkdir()
    code, _, err = run(capsys, "config", "show")
    assert code == 2
    assert f"{config_file}: cannot read the config file" in err
    assert err.count("\n") == 1


def test_a_config_file_with_a_byte_order_mark_loads(config_file: Path) -> None:
    """Windows editors may start UTF-8 files with a BOM; the settings in it still count."""
    config_file.write_bytes(b'\xef\xbb\xbfmodel = "from-notepad"\n')
    assert load_settings().model == "from-notepad"


def test_a_huge_wrong_value_is_shortened_in_the_message(config_file: Path) -> None:
    config_file.write_text(f"model = [{', '.join(['1'] * 10_000)}]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert len(str(caught.value)) < 200


# --- session files, fuzzed ---------------------------------------------------------------------

FIELDS = (
    "schema_version",
    "id",
    "title",
    "created_at",
    "updated_at",
    "model",
    "provider",
    "system_prompt",
    "parameters",
    "messages",
)
MESSAGE_FIELDS = (
    "role",
    "id",
    "created_at",
    "status",
    "finish_reason",
    "model",
    "error",
    "usage",
    "reasoning",
    "content",
)
PARAMETER_FIELDS = ("temperature", "top_p", "max_tokens", "seed", "stop", "reasoning", "stream")
USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens", "cost", "estimated")

EDGES = [
    "user",
    "assistant",
    "system",
    "tool",
    "complete",
    "interrupted",
    "streaming",
    "",
    " ",
    "2026-11-25T20:31:03Z",
    "2026-11-25",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "\x1b[2J\u202e",
]
"""Values that sit on the edges of what the schema accepts."""

ZONES = [UTC, timezone(timedelta(hours=23, minutes=59)), timezone(-timedelta(hours=23, minutes=59))]

toml_leaves = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(EDGES),
    st.datetimes(),
    st.datetimes(timezones=st.sampled_from(ZONES)),
    st.dates(),
    st.times(),
)
json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(EDGES),
)
aware_times = st.datetimes(timezones=st.sampled_from(ZONES))
ANY_KEY = st.sampled_from([*FIELDS, *MESSAGE_FIELDS, *PARAMETER_FIELDS, *USAGE_FIELDS, "x"])


def valid_session() -> Session:
    """A session using every field, with text that is hard to write."""
    when = datetime(2026, 11, 25, 20, 31, 3, tzinfo=UTC)
    return Session(
        id="f0a1b2c3d4",
        title='Tricky "quotes" \\ and \x1b[31mcolour',
        created_at=when,
        updated_at=when,
        model="zai-org-glm-5",
        provider="oxen",
        system_prompt="Be brief.\r\nReally.",
        parameters=Parameters(temperature=0.7, max_tokens=1024, stop=("END", "'''")),
        messages=[
            Message("user", "Why?\n'''\n\"\"\"\n", created_at=when),
            Message(
                "assistant",
                "Because.\n\n```python\nprint('hi')\n```\n",
                created_at=when,
                reasoning="Think \u202e twice",
                status="complete",
                finish_reason="stop",
                model="zai-org-glm-5",
                usage=Usage(12, 40, 52, reasoning_tokens=8),
            ),
        ],
    )


def documents(
    leaves: st.SearchStrategy[Any], times: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Session-shaped documents: the schema's keys holding anything at all, half of them a
    valid session with a few fields (of the session and of one message) replaced. ``times``
    are timestamps as the format writes them."""
    values = st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_KEY, inner, max_size=4),
        max_leaves=10,
    )
    base = session_to_document(valid_session())

    def perturb(top: dict[str, Any], changes: dict[str, Any], index: int) -> dict[str, Any]:
        doc = copy.deepcopy(base)
        doc.update(top)
        messages = doc.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            messages[index % len(messages)].update(changes)
        return doc

    perturbed = st.builds(
        perturb,
        st.dictionaries(st.sampled_from(FIELDS), values, max_size=2),
        st.dictionaries(st.sampled_from(MESSAGE_FIELDS), values, max_size=2),
        st.integers(min_value=0, max_value=3),
    )

    def table(keys: tuple[str, ...], extra: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
        return st.fixed_dictionaries({}, optional={k: values for k in keys} | (extra or {}))

    usage = table(USAGE_FIELDS) | values
    message = table(
        MESSAGE_FIELDS,
        {"role": st.sampled_from(EDGES[:4]) | values, "usage": usage, "content": values},
    )
    shaped = table(
        FIELDS,
        {
            "schema_version": st.sampled_from([1, 2, 0, -1, 1.0, 1.5, "1", True]) | values,
            "id": st.text(max_size=8) | values,
            "created_at": times | values,
            "parameters": table(PARAMETER_FIELDS) | values,
            "messages": st.lists(message | values, max_size=3) | values,
        },
    )
    return shaped | perturbed


MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(["delete", "insert", "flip", "truncate", "repeat"]),
        st.integers(min_value=0, max_value=10**6),
        st.integers(min_value=1, max_value=40),
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=4,
)


def mutate(data: bytes, mutations: list[tuple[str, int, int, bytes]]) -> bytes:
    """``data`` with bytes deleted, inserted, flipped, cut off or repeated."""
    out = bytearray(data)
    for kind, position, length, noise in mutations:
        at = position % max(1, len(out))
        if kind == "delete":
            del out[at : at + length]
        elif kind == "insert":
            out[at:at] = noise
        elif kind == "flip" and out:
            out[at] ^= noise[0] or 1
        elif kind == "truncate":
            del out[at:]
        elif kind == "repeat":
            out[at:at] = out[at : at + length]
    return bytes(out)


def to_toml(doc: dict[str, Any]) -> bytes | None:
    try:
        return tomli_w.dumps(doc).encode("utf-8")
    except (TypeError, ValueError):
        return None  # a shape TOML cannot hold (e.g. a list of tables and values)


def to_json(doc: dict[str, Any]) -> bytes:
    text = json.dumps(doc, allow_nan=True, ensure_ascii=False, default=format_datetime)
    return text.encode("utf-8", "surrogatepass")


_counter = itertools.count()


def check_session_file(root: Path, data: bytes, extension: str) -> bool:
    """Loading either works or raises StoreError naming the file; listing agrees with loading;
    the file is never touched. Returns whether the file loaded."""
    data_dir = root / f"fuzz-{next(_counter)}"
    folder = paths.sessions_dir(data_dir)
    folder.mkdir(parents=True)
    path = folder / f"20240101-000000-fuzzed.{extension}"
    path.write_bytes(data)
    with SessionStore(data_dir, disk_index=False) as store:
        try:
            session = store.load(path)
        except StoreError as exc:
            message = str(exc)
            assert message.startswith(f"{path.name}: "), message
            assert "\n" not in message
            assert not raw_controls(message), message
            session = None
        [listed] = store.list_sessions()
        assert listed.path == path
        if session is None:
            assert listed.error, "an unreadable file is listed without a reason"
            assert "\n" not in listed.error
            assert listed.title == path.name
        else:
            assert listed.error is None
            assert listed.id == session.id
            assert store.export(session, "md")  # a loaded session can be shown
    assert path.read_bytes() == data
    return session is not None


def fuzz(root: Path, data: bytes, extension: str) -> None:
    """:func:`check_session_file`, counting loads in hypothesis' statistics."""
    event("loads" if check_session_file(root, data, extension) else "refused")


@pytest.mark.parametrize("extension", ["toml", "json"])
@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes(tmp_path: Path, extension: str, data: bytes) -> None:
    fuzz(tmp_path, data, extension)


@FUZZ
@given(doc=documents(toml_leaves, aware_times))
def test_random_toml_documents(tmp_path: Path, doc: dict[str, Any]) -> None:
    data = to_toml(doc)
    if data is not None:
        fuzz(tmp_path, data, "toml")


@FUZZ
@given(doc=documents(json_leaves, aware_times.map(datetime.isoformat)))
def test_random_json_documents(tmp_path: Path, doc: dict[str, Any]) -> None:
    fuzz(tmp_path, to_json(doc), "json")


@pytest.mark.parametrize("fmt", ["toml", "json"])
@FUZZ
@given(mutations=MUTATIONS)
def test_mutated_session_files(
    tmp_path: Path, fmt: str, mutations: list[tuple[str, int, int, bytes]]
) -> None:
    data = encode_session(valid_session(), "toml" if fmt == "toml" else "json")
    fuzz(tmp_path, mutate(data, mutations), fmt)


FAR_FUTURE = (
    b'schema_version = 1\nid = "x"\ncreated_at = 9999-12-31T23:59:59-23:59\nmessages = []\n'
)
"""A time that exists in the file's zone but not in UTC: converting it would overflow."""

HAND_PICKED = [
    pytest.param(b"", "toml", id="empty"),
    pytest.param(b"\xef\xbb\xbf", "json", id="only-a-bom"),
    pytest.param(b"[1, 2]", "json", id="json-list"),
    pytest.param(b'"text"', "json", id="json-string"),
    pytest.param(b"schema_version = 1\n", "toml", id="no-messages"),
    pytest.param(b'{"schema_version": 1e400, "messages": []}', "json", id="infinite-version"),
    pytest.param(FAR_FUTURE, "toml", id="date-past-the-calendar"),
    pytest.param(
        b'schema_version = 1\nid = "x"\ncreated_at = 0001-01-01T00:00:00+23:59\nmessages = []\n',
        "toml",
        id="date-before-the-calendar",
    ),
    pytest.param(
        b'schema_version = 1\nid = "x"\ncreated_at = 12:00:00\nmessages = []\n',
        "toml",
        id="time-only",
    ),
    pytest.param(b"a = " + b"[" * 3000 + b"]" * 3000, "toml", id="deep-toml"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, "json", id="deep-json"),
]


@pytest.mark.parametrize(("data", "extension"), HAND_PICKED)
def test_hand_picked_bad_session_files(tmp_path: Path, data: bytes, extension: str) -> None:
    assert not check_session_file(tmp_path, data, extension)


def test_a_folder_of_bad_files_lists_each_with_its_reason(tmp_path: Path) -> None:
    folder = paths.sessions_dir()
    folder.mkdir(parents=True)
    good = valid_session()
    bad = {
        "20240101-000001-cut.toml": encode_session(good, "toml")[:200],
        "20240101-000002-binary.json": b"\x00\xff\xfe garbage",
        "20240101-000003-list.json": b"[]",
        "20240101-000004-far-future.toml": FAR_FUTURE,
        "20240101-000005-empty.toml": b"",
    }
    for name, data in bad.items():
        (folder / name).write_bytes(data)
    with SessionStore(paths.data_dir()) as store:
        store.save(good)
        listed = store.list_sessions()
    assert [s.id for s in listed if s.readable] == [good.id]
    unreadable = {s.name: s.error for s in listed if not s.readable}
    assert set(unreadable) == set(bad)
    assert all(reason and "\n" not in reason for reason in unreadable.values())
    assert "out of range" in str(unreadable["20240101-000004-far-future.toml"])
    for name, data in bad.items():
        assert (folder / name).read_bytes() == data


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=300),
        documents(toml_leaves, aware_times).map(to_toml).filter(bool),
        MUTATIONS.map(lambda m: mutate(encode_session(valid_session(), "toml"), m)),
    )
)
def test_sessions_commands_never_print_a_traceback(
    capsys: pytest.CaptureFixture[str], data: bytes | None
) -> None:
    assert data is not None
    folder = paths.sessions_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    path = folder / f"20240101-000000-fuzzed-{next(_counter)}.toml"
    path.write_bytes(data)

    # Only crashes and messages here; what the text of a readable session prints as is
    # test_sessions_show_and_list_print_controls_escaped's concern.
    code, out, err = run(capsys, "sessions", "list")
    assert (code, err) == (0, "")
    assert "Traceback" not in out
    readable = f"{path.name}: unreadable (" not in out

    code, out, err = run(capsys, "sessions", "list", "--json")
    [entry] = json.loads(out)
    assert (entry["error"] is None) == readable

    code, out, err = run(capsys, "sessions", "search", "a")
    assert code == 0
    assert "Traceback" not in out + err

    code, out, err = run(capsys, "sessions", "show", str(path))
    assert "Traceback" not in out + err
    assert not raw_controls(err), err
    if readable:
        assert code == 0
    else:
        assert (code, out) == (1, "")
        assert err.startswith(f"glmtui: error: {path.name}: ")
        assert err.count("\n") == 1
    assert path.read_bytes() == data


@pytest.mark.parametrize(("data", "extension"), HAND_PICKED[:8])
def test_resuming_a_bad_session_file_is_one_line(
    capsys: pytest.CaptureFixture[str],
    no_app: list[GlmApp],
    tmp_path: Path,
    data: bytes,
    extension: str,
) -> None:
    path = tmp_path / f"20240101-000000-bad.{extension}"
    path.write_bytes(data)
    code, out, err = run(capsys, "--session", str(path))
    # A file that cannot be read is a file error (1), as for `glmtui sessions show FILE`; a
    # reference that names no session is bad usage (2).
    assert (code, out, no_app) == (1, "", [])
    assert err.startswith(f"glmtui: error: cannot resume session: {path.name}: ")
    assert err.count("\n") == 1


# --- a 1 MB paste ------------------------------------------------------------------------------

RESPONSIVE = 20.0
"""Seconds within which each step of the paste test must finish on a loaded 2-core machine.
About 0.8 s (paste: Textual's text area) and 0.6 s (send; the prompt is shown folded) were
measured; the bound catches hangs and anything quadratic, not jitter."""


def one_megabyte_of_text() -> str:
    """1,000,000+ bytes of log lines with some non-ASCII, as a user would paste them."""
    line = "2026-11-25 20:31:{n:02d} INFO worker-{n:03d} processed item {n:06d}; status=ok é ✓\n"
    lines: list[str] = []
    size = 0
    for n in itertools.count():
        lines.append(line.format(n=n % 1000))
        size += len(lines[-1].encode("utf-8"))
        if size >= 1_000_000:
            return "".join(lines)
    raise AssertionError("unreachable")


def digest(text: str) -> str:
    """A short stand-in for a long text in an assertion: its length and SHA-256."""
    import hashlib

    return f"{len(text):,} chars, sha256 {hashlib.sha256(text.encode()).hexdigest()[:16]}"


async def timed(step: Callable[[], Any]) -> float:
    start = time.perf_counter()
    await step()
    return time.perf_counter() - start


async def test_a_one_megabyte_paste_is_sent_and_saved_whole(server: LoopbackServer) -> None:
    text = one_megabyte_of_text()
    server.enqueue(stream_of(["Got ", "it."]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = chat(app)
        composer = screen.query_one("#composer")
        composer.focus()

        async def paste() -> None:
            app.post_message(events.Paste(text))  # as the driver delivers a bracketed paste
            # The app hands it on to the composer, whose queue may still be busy: wait for it.
            await until(pilot, lambda: len(composer.text) == len(text))  # type: ignore[attr-defined]

        async def send_it() -> None:
            await pilot.press("enter")
            await send_anyway(pilot, screen, 0)  # a megabyte is more than the model's window
            await settle(pilot)

        async def keys() -> None:
            await pilot.press("o", "k")  # typing works again at once
            await pilot.pause()

        assert await timed(paste) < RESPONSIVE
        # Megabytes compared as digests: pytest's diff of two 1 MB texts takes minutes.
        assert digest(composer.text) == digest(text)  # type: ignore[attr-defined]
        assert await timed(send_it) < RESPONSIVE
        assert await timed(keys) < RESPONSIVE / 4
        assert composer.text == "ok"  # type: ignore[attr-defined]

        [request] = server.chat_requests
        sent = request.json()["messages"][-1]
        assert (sent["role"], digest(sent["content"])) == ("user", digest(text))
        prompt, reply = screen.session.messages
        assert (digest(prompt.content), reply.content, reply.status) == (
            digest(text),
            "Got it.",
            "complete",
        )
    with SessionStore(paths.data_dir()) as store:
        [listed] = store.list_sessions()
        saved = store.load(listed.path)
    assert [digest(m.content) for m in saved.messages] == [digest(text), digest("Got it.")]
    assert len(saved.title) <= 60


# --- control and escape characters -------------------------------------------------------------

NASTY = (
    "osc52:\x1b]52;c;SGVsbG8=\x07 clear:\x1b[2J title:\x1b]0;pwned\x07 csi:\x9b31m "
    "cr:\rX bell:\x07 nul:\x00 bs:\x08 del:\x7f nel:\x85 rlo:\u202eevil\u202c "
    "lri:\u2066x\u2069 end"
)
"""Clipboard write (OSC 52), clear screen, window title, a one-byte CSI, CR, BEL, NUL, BS, DEL,
NEL and bidi overrides: each would do something to a terminal if printed raw."""

PROMPT = NASTY.replace("cr:\rX ", "").replace("nel:\x85 ", "")
"""NASTY as a prompt: the composer reads CR and NEL as line breaks (a pasted CR is one), so a
prompt cannot hold them; every other control is shown as a symbol and sent as it was."""

REPLY = f"{NASTY}\n\n```\n{NASTY}\n```\n\n- {NASTY}\n"
"""The reply puts the characters in a paragraph, a code block and a list."""

SHOWN = [
    ("osc52:", "]52;c;SGVsbG8="),
    ("clear:", "[2J"),
    ("title:", "]0;pwned"),
    ("csi:", "31m"),
    ("rlo:", "evil"),
    ("lri:", "x"),
]
"""(text before, text after): between them something visible must stand for the control."""


def assert_shown_escaped(lines: list[str]) -> None:
    """No raw control in ``lines``, and each control shows as a visible mark, not nothing."""
    text = "\n".join(lines)
    assert not raw_controls(text), f"raw controls reach the terminal: {raw_controls(text)}"
    for before, after in SHOWN:
        found = re.search(re.escape(before) + r"(\S+?)" + re.escape(after), text)
        assert found is not None, f"the control after {before!r} is not shown"


async def nasty_turn(app: GlmApp, pilot: Pilot[int]) -> None:
    """Send PROMPT and receive a reply full of controls (reasoning too), unfolded to be seen."""
    await send(pilot, PROMPT)
    await settle(pilot)
    view = chat(app).conversation
    view.select(len(view.items) - 1)
    view.action_toggle_reasoning()
    view.load_all()
    view.scroll_home(animate=False)
    await pilot.pause()


def conversation_lines(app: GlmApp) -> list[str]:
    """Every line of the conversation widget, as the segments it hands to the compositor."""
    view = chat(app).conversation
    lines = []
    for y in range(view.virtual_size.height):
        strip = view.render_line(y)
        assert all(segment.control is None for segment in strip), "a control segment"
        lines.append("".join(segment.text for segment in strip))
    return lines


async def test_controls_are_kept_verbatim_in_the_session(server: LoopbackServer) -> None:
    server.enqueue(stream_of([REPLY], reasoning_tokens=[NASTY]))
    app = make_app(server)
    async with app.run_test(size=(120, 60)) as pilot:
        await nasty_turn(app, pilot)
        prompt, reply = chat(app).session.messages
    # The composer draws the prompt's controls as symbols (␛) but sends and saves them as
    # they were; the model's text is kept exactly as it came.
    typed = PROMPT
    [request] = server.chat_requests
    assert request.json()["messages"][-1]["content"] == typed
    assert (prompt.content, reply.content, reply.reasoning) == (typed, REPLY, NASTY)
    with SessionStore(paths.data_dir()) as store:
        [listed] = store.list_sessions()
        saved = store.load(listed.path)
    assert [m.content for m in saved.messages] == [typed, REPLY]
    assert saved.messages[1].reasoning == NASTY


async def test_controls_from_the_model_never_reach_the_terminal(server: LoopbackServer) -> None:
    """The conversation widget's lines (what goes to the terminal) hold no raw control: the
    prompt, the reasoning, the paragraph, the code block and the list show them escaped."""
    server.enqueue(stream_of([REPLY], reasoning_tokens=[NASTY]))
    app = make_app(server)
    async with app.run_test(size=(120, 60)) as pilot:
        await nasty_turn(app, pilot)
        lines = conversation_lines(app)
        assert sum("osc52:" in line for line in lines) >= 5  # prompt, reasoning, 3 in the reply
        assert_shown_escaped(lines)
        assert not raw_controls(visible_text(app)), "the screen (titles, status) shows raw controls"


async def test_controls_in_the_composer_never_reach_the_terminal(server: LoopbackServer) -> None:
    """A paste full of controls (a "pastejacking" page) sits in the composer shown escaped."""
    app = make_app(server)
    async with app.run_test(size=(120, 30)) as pilot:
        composer = (await chat_opened(pilot)).query_one("#composer")
        composer.focus()
        app.post_message(events.Paste(NASTY))
        await until(pilot, lambda: "osc52:" in visible_text(app))
        assert not raw_controls(visible_text(app)), raw_controls(visible_text(app))


def test_sessions_show_and_list_print_controls_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    session = Session(
        id="c0ffee",
        title=f"title {NASTY}",
        messages=[
            Message("user", NASTY),
            Message("assistant", REPLY, reasoning=NASTY, status="complete"),
        ],
    )
    with SessionStore(paths.data_dir()) as store:
        store.save(session)
    code, out, err = run(capsys, "sessions", "show", "c0ffee")
    assert (code, err) == (0, "")
    assert "\\x1b]52;c;SGVsbG8=" in out
    assert not raw_controls(out.replace("\t", " ")), raw_controls(out)
    code, out, err = run(capsys, "sessions", "list")
    assert (code, err) == (0, "")
    assert "title osc52:\\x1b]52;c;SGVsbG8=" in out
    assert not raw_controls(out), raw_controls(out)
