"""SessionStore: saving without losing a word, damaged files left alone, and every operation."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from glmtui import paths
from glmtui.domain import Message, Parameters, Session, Usage
from glmtui.store import (
    SCHEMA_VERSION,
    ExportFormat,
    SessionConflict,
    SessionFileError,
    SessionStore,
    StoreError,
    decode_session,
    encode_session,
    session_file_name,
    slugify,
)
from tests.conftest import FAKE_KEY


@pytest.fixture
def store() -> Iterator[SessionStore]:
    with SessionStore(paths.data_dir()) as store:
        yield store


def conversation(title: str = "Rust lifetimes question", replies: int = 1) -> Session:
    messages: list[Message] = []
    for n in range(replies):
        messages.append(Message("user", f"Question {n}: why does `fn f(x: &str) -> &str` work?"))
        messages.append(
            Message(
                "assistant",
                f"Answer {n}: lifetime elision.\n\n```rust\nfn f<'a>(x: &'a str) -> &'a str\n```",
                reasoning="The user asks about lifetimes.",
                status="complete",
                finish_reason="stop",
                model="zai-org-glm-5",
                usage=Usage(12, 40, 52),
            )
        )
    return Session(
        title=title,
        created_at=datetime(2026, 11, 25, 20, 31, 3, tzinfo=UTC),
        parameters=Parameters(temperature=0.7),
        messages=messages,
    )


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- save and load -----------------------------------------------------------------------------


def test_save_writes_one_named_file_that_loads_back(store: SessionStore) -> None:
    session = conversation()
    path = store.save(session)
    assert path.parent == store.folder
    assert path.name == "20261125-203103-rust-lifetimes-question.toml"
    assert tomllib.loads(path.read_text())["id"] == session.id
    assert store.load(session.id) == session
    assert store.load(path) == session
    assert store.load(session.id[:6]) == session


def test_the_file_keeps_its_name_through_saves_and_renames(store: SessionStore) -> None:
    session = conversation()
    path = store.save(session)
    session.messages.append(Message("user", "More?"))
    assert store.save(session) == path
    renamed = store.rename(session, "  Borrow\nchecker  notes ")
    assert renamed.title == "Borrow checker notes"
    assert files_in(store.folder) == [path.name]
    assert decode_session(path.read_bytes()).title == "Borrow checker notes"
    # Another store instance (another process) finds the same file for the same session.
    with SessionStore(paths.data_dir()) as other:
        loaded = other.load(session.id)
        loaded.messages.append(Message("assistant", "Sure."))
        assert other.save(loaded) == path


def test_new_sessions_use_the_configured_format_and_old_ones_keep_theirs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    json_store = SessionStore(data, "json")
    old = conversation("Old one")
    assert json_store.save(old).suffix == ".json"
    toml_store = SessionStore(data, "toml")
    loaded = toml_store.load(old.id)
    loaded.title = "Still JSON"
    assert toml_store.save(loaded).suffix == ".json"
    path = toml_store.path_of(old.id)
    assert path is not None
    assert json.loads(path.read_text())["title"] == "Still JSON"
    assert toml_store.save(conversation("New one")).suffix == ".toml"


def test_names_are_ascii_short_and_unique(store: SessionStore) -> None:
    assert slugify("Café ☕ — naïve  question?!") == "cafe-naive-question"
    assert slugify("…") == "untitled"
    assert len(slugify("x" * 200)) == 40
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert session_file_name(when, "a", "json") == "20260102-030405-a.json"
    first, second = conversation("Same"), conversation("Same")
    assert store.save(first) != store.save(second)
    assert files_in(store.folder) == [
        "20261125-203103-same-2.toml",
        "20261125-203103-same.toml",
    ]


def test_no_key_is_ever_written(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    session = conversation()
    store.save(session)
    for fmt in ("md", "json", "toml"):
        assert FAKE_KEY not in store.export(session, fmt)
    for path in store.folder.iterdir():
        assert FAKE_KEY.encode() not in path.read_bytes()


# --- never lose a word -------------------------------------------------------------------------


def test_a_crash_between_write_and_replace_keeps_the_old_file(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = conversation()
    path = store.save(session)
    before = path.read_bytes()
    session.messages.append(Message("user", "This save will crash."))

    def crash(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StoreError, match="input/output error"):
        store.save(session)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert files_in(store.folder) == [path.name]  # no temp file left behind
    assert len(session.messages) == 3  # still in memory, ready to retry
    store.save(session)
    assert len(decode_session(path.read_bytes()).messages) == 3


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EROFS, "read-only file system"),
        (errno.EACCES, "no permission to write"),
        (errno.EDQUOT, "quota"),
    ],
)
def test_write_failures_are_one_clear_line(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch, code: int, words: str
) -> None:
    session = conversation()
    path = store.save(session)
    before = path.read_bytes()
    session.title = "Changed"

    def fail(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(StoreError) as caught:
        store.save(session)
    message = str(caught.value)
    assert words in message
    assert path.name in message
    assert "\n" not in message
    assert "Errno" not in message
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert files_in(store.folder) == [path.name]


def test_read_only_folder(store: SessionStore) -> None:
    store.save(conversation("First"))
    os.chmod(store.folder, 0o500)
    try:
        if os.access(store.folder, os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(StoreError, match="no permission to write in"):
            store.save(conversation("Second"))
        assert [s.title for s in store.list_sessions()] == ["First"]
    finally:
        os.chmod(store.folder, 0o700)


SAVER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from pathlib import Path
    from glmtui.domain import Message, Session
    from glmtui.store import SessionStore

    store = SessionStore(Path(sys.argv[1]), disk_index=False)
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    session = Session(id="killme", title="Kill me", created_at=created)
    big = "word " * 400_000  # ~2 MB per message
    round = 0
    while True:
        round += 1
        session.messages = [Message("user", f"round {round}\\n" + big), Message("user", big)]
        store.save(session)
        if round == 1:
            print("ready", flush=True)
    """
)


def test_kill_9_mid_save_leaves_a_whole_file(tmp_path: Path) -> None:
    data = tmp_path / "killed"
    rng = random.Random(9)
    for _ in range(4):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(data)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        store = SessionStore(data, disk_index=False)
        session = store.load("killme")  # parses: the old file or the new one, never torn
        assert session.messages[0].content.startswith("round ")
        assert len(session.messages[1].content) == 2_000_000
        # A temp file the kill left behind is not a session and is never listed.
        assert [s.id for s in store.list_sessions()] == ["killme"]


# --- damaged and foreign files --------------------------------------------------------------------

DAMAGED = {
    "20240101-000000-empty.toml": b"",
    "20240101-000001-truncated.toml": b'schema_version = 1\nid = "abc"\ntitle = "Trunc',
    "20240101-000002-binary.toml": bytes(range(256)),
    "20240101-000003-latin1.json": '{"title": "caf\xe9"}'.encode("latin-1"),
    "20240101-000004-list.json": b"[1, 2, 3]\n",
    "20240101-000005-config.toml": b'model = "glm"\n[parameters]\ntemperature = 1\n',
    "20240101-000006-bad-field.toml": (
        b'schema_version = 1\nid = "x"\ncreated_at = "yesterday"\nmessages = []\n'
    ),
}


def test_damaged_files_are_listed_with_a_reason_and_never_touched(store: SessionStore) -> None:
    store.folder.mkdir(parents=True)
    for name, data in DAMAGED.items():
        (store.folder / name).write_bytes(data)
    stats = {name: os.stat(store.folder / name) for name in DAMAGED}
    good = conversation()
    store.save(good)

    listed = store.list_sessions()
    assert [s.id for s in listed if s.readable] == [good.id]
    reasons = {s.name: s.error for s in listed if not s.readable}
    assert set(reasons) == set(DAMAGED)
    assert reasons["20240101-000000-empty.toml"] == "the file is empty"
    assert "invalid TOML" in str(reasons["20240101-000001-truncated.toml"])
    assert "not UTF-8" in str(reasons["20240101-000002-binary.toml"])
    assert "not UTF-8" in str(reasons["20240101-000003-latin1.json"])
    assert "not a session" in str(reasons["20240101-000004-list.json"])
    assert "no 'schema_version'" in str(reasons["20240101-000005-config.toml"])
    assert "'created_at' is not a date" in str(reasons["20240101-000006-bad-field.toml"])
    assert all(s.title == s.name and s.id == "" for s in listed if not s.readable)

    # Searching, saving others, and listing again never modify them.
    store.search("lifetime")
    store.save(conversation("Another"))
    store.list_sessions()
    for name, data in DAMAGED.items():
        path = store.folder / name
        assert path.read_bytes() == data
        assert os.stat(path).st_mtime_ns == stats[name].st_mtime_ns
    with pytest.raises(SessionFileError, match="the file is empty"):
        store.load(store.folder / "20240101-000000-empty.toml")


def test_other_files_in_the_folder_are_ignored(store: SessionStore) -> None:
    store.save(conversation())
    (store.folder / "README.txt").write_text("my notes")
    (store.folder / "subdir.toml").mkdir()
    old_temp = store.folder / ".20260101-000000-x.toml.k2j4_x9a.tmp"
    new_temp = store.folder / ".20260101-000000-y.json.a8f3mm2q.tmp"
    for temp in (old_temp, new_temp):
        temp.write_text("half a save, left by a crash")
    os.utime(old_temp, (time.time() - 7200, time.time() - 7200))
    assert len(store.list_sessions()) == 1
    assert not old_temp.exists()  # our own garbage from a crash, removed after an hour
    assert new_temp.exists()  # maybe another glmtui is writing it right now
    assert (store.folder / "README.txt").read_text() == "my notes"


def test_a_newer_schema_opens_read_only(store: SessionStore) -> None:
    store.folder.mkdir(parents=True)
    data = encode_session(conversation("From the future"), "toml").replace(
        f"schema_version = {SCHEMA_VERSION}".encode(), b"schema_version = 7"
    )
    path = store.folder / "20300101-000000-future.toml"
    path.write_bytes(data + b"\nnew_thing = true\n")
    [summary] = store.list_sessions()
    assert summary.read_only
    assert summary.readable
    session = store.load(summary.id)
    assert session.read_only
    with pytest.raises(StoreError, match="newer glmtui"):
        store.save(session)
    with pytest.raises(StoreError, match="newer glmtui"):
        store.rename(session, "Mine now")
    assert path.read_bytes() == data + b"\nnew_thing = true\n"
    copy = store.duplicate(session)
    assert not copy.read_only
    assert copy.title == "From the future (copy)"


# --- conflicts -----------------------------------------------------------------------------------


def test_changes_by_another_program_are_noticed(store: SessionStore) -> None:
    session = conversation()
    path = store.save(session)
    stamp = store.stamp(session.id)
    assert stamp is not None
    assert not store.changed_on_disk(session.id)
    assert store.save(session, expected=stamp) == path  # unchanged: saved

    edited = decode_session(path.read_bytes())
    edited.title = "Edited in vim"
    path.write_bytes(encode_session(edited, "toml"))
    assert store.changed_on_disk(session.id)
    with pytest.raises(SessionConflict, match="changed by another program"):
        store.save(session, expected=store.stamp(session.id))
    assert decode_session(path.read_bytes()).title == "Edited in vim"
    assert store.load(session.id).title == "Edited in vim"
    assert not store.changed_on_disk(session.id)


# --- copies, delete, undo ---------------------------------------------------------------------


def test_duplicate_and_fork(store: SessionStore) -> None:
    session = conversation(replies=3)
    session.messages[-1].status = "streaming"
    store.save(session)

    copy = store.duplicate(session.id)
    assert copy.id != session.id
    assert copy.title == "Rust lifetimes question (copy)"
    assert [m.content for m in copy.messages] == [m.content for m in session.messages]
    assert not {m.id for m in copy.messages} & {m.id for m in session.messages}
    assert copy.messages[-1].status == "interrupted"

    fork = store.fork(session, 2)
    assert fork.title == "Rust lifetimes question (fork)"
    assert [m.content for m in fork.messages] == [m.content for m in session.messages[:3]]
    assert fork.parameters == session.parameters
    with pytest.raises(IndexError):
        store.fork(session, 6)
    assert {s.id for s in store.list_sessions()} == {session.id, copy.id, fork.id}
    assert store.load(fork.id) == fork


def test_delete_and_undo(store: SessionStore) -> None:
    session = conversation()
    path = store.save(session)
    token = store.delete(session.id[:8])
    assert not path.exists()
    assert token.trashed.parent == paths.data_dir() / "trash"
    assert token.trashed.read_bytes() == encode_session(session, "toml")
    assert token.title == "Rust lifetimes question"
    assert store.list_sessions() == []
    assert store.search("lifetime") == []
    with pytest.raises(StoreError, match="No session"):
        store.load(session.id)

    assert store.undo_delete(token) == path
    assert store.load(session.id) == session
    assert [s.id for s in store.list_sessions()] == [session.id]
    with pytest.raises(StoreError, match="no longer in the trash"):
        store.undo_delete(token)


def test_undo_does_not_overwrite_a_newer_file(store: SessionStore) -> None:
    session = conversation()
    path = store.save(session)
    token = store.delete(session)
    path.write_text("someone else's file")
    restored = store.undo_delete(token)
    assert restored != path
    assert path.read_text() == "someone else's file"
    assert store.load(restored) == session


def test_unreadable_files_can_be_deleted_by_path(store: SessionStore) -> None:
    store.folder.mkdir(parents=True)
    bad = store.folder / "20240101-000000-bad.toml"
    bad.write_bytes(b"\x00garbage")
    token = store.delete(bad)
    assert token.session_id == ""
    assert not bad.exists()
    assert store.undo_delete(token) == bad
    assert bad.read_bytes() == b"\x00garbage"


def test_delete_refuses_files_outside_the_store(store: SessionStore, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.toml"
    outside.write_bytes(encode_session(conversation(), "toml"))
    with pytest.raises(StoreError, match="not in the session folder"):
        store.delete(outside)
    assert outside.exists()


# --- ids -----------------------------------------------------------------------------------------


def test_ids_resolve_by_unique_prefix(store: SessionStore) -> None:
    first, second = conversation("One"), conversation("Two")
    first.id, second.id = "abc111", "abc222"
    store.save(first)
    store.save(second)
    assert store.resolve("abc1").title == "One"
    with pytest.raises(StoreError, match="'abc' matches 2 sessions"):
        store.resolve("abc")
    with pytest.raises(StoreError, match="No session with id 'zzz'"):
        store.resolve("zzz")
    with pytest.raises(StoreError, match="No session id given"):
        store.load("  ")


# --- export and import ----------------------------------------------------------------------------


def test_export_markdown_has_front_matter_and_every_message(store: SessionStore) -> None:
    session = conversation(replies=2)
    session.messages[-1].status = "error"
    session.messages[-1].error = "The server failed (500)."
    markdown = store.export(session, "md")
    head, body = markdown.split("\n---\n", 1)
    assert head.splitlines() == [
        "---",
        'title: "Rust lifetimes question"',
        f'id: "{session.id}"',
        'model: "zai-org-glm-5"',
        'provider: "oxen"',
        "created: 2026-11-25T20:31:03Z",
        f"updated: {session.updated_at.isoformat().replace('+00:00', 'Z')}",
        "messages: 4",
        "tokens: 104",
        'parameters: {"temperature": 0.7}',
    ]
    assert body.count("## User") == 2
    assert body.count("## Assistant · zai-org-glm-5") == 2
    assert "<details>\n<summary>Reasoning</summary>\n\nThe user asks about lifetimes." in body
    assert "```rust\nfn f<'a>(x: &'a str) -> &'a str\n```" in body
    assert "*(error: The server failed (500).)*" in body


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_export_as_a_session_file_imports_again(
    store: SessionStore, tmp_path: Path, fmt: ExportFormat
) -> None:
    session = conversation()
    store.save(session)
    exported = tmp_path / f"shared.{fmt}"
    exported.write_text(store.export(session.id, fmt))
    imported = store.import_file(exported)
    assert imported.id != session.id  # the id was taken: a new one
    assert imported.messages == session.messages
    assert imported.title == session.title
    assert str(store.path_of(imported.id)).endswith(f".{fmt}")
    assert len(store.list_sessions()) == 2


def test_import_keeps_the_id_when_free_and_rejects_bad_files(
    store: SessionStore, tmp_path: Path
) -> None:
    session = conversation()
    source = tmp_path / "from-a-friend.json"
    source.write_bytes(encode_session(session, "json"))
    assert store.import_file(source) == session
    assert source.exists()
    bad = tmp_path / "bad.toml"
    bad.write_text("nonsense = [")
    with pytest.raises(SessionFileError, match="invalid TOML"):
        store.import_file(bad)
    with pytest.raises(StoreError, match="does not exist"):
        store.import_file(tmp_path / "missing.toml")
    assert len(store.list_sessions()) == 1
