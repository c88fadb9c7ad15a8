"""Two files holding one session id (issue 19, item 2), at the store: listed and marked, never
guessed between, every operation on the file named, and an id of its own when opened.

How copies arise, each staged here: a file copied by hand, a sync tool's conflict copy (a
longer name, maybe edited since), a restored backup (byte for byte).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from glmtui import paths
from glmtui.domain import Message, Session
from glmtui.store import (
    SCHEMA_VERSION,
    AmbiguousSession,
    SessionStore,
    StoreError,
    decode_session,
    encode_session,
)

CREATED = datetime(2026, 11, 25, 20, 31, 3, tzinfo=UTC)


@pytest.fixture
def store() -> SessionStore:
    return SessionStore(paths.data_dir(), disk_index=False)


def original() -> Session:
    return Session(
        title="Rust lifetimes",
        created_at=CREATED,
        updated_at=CREATED,
        messages=[
            Message("user", "Why does elision work?"),
            Message("assistant", "The original answer.", status="complete"),
        ],
    )


def make_copy(store: SessionStore, source: Path, name: str, answer: str | None) -> Path:
    """A second file with the same id: byte for byte (``answer`` None), or edited since."""
    target = store.folder / name
    if answer is None:
        shutil.copyfile(source, target)
    else:
        session = decode_session(source.read_bytes())
        session.messages[1].content = answer
        target.write_bytes(encode_session(session, "toml"))
    return target


COPIES = {
    "copied by hand": ("20261125-203103-rust-lifetimes copy.toml", None),
    "sync conflict copy": (
        "20261125-203103-rust-lifetimes (conflicted copy 2026-11-26).toml",
        "The answer edited on the laptop.",
    ),
    "restored backup": ("20261125-203103-rust-lifetimes.bak.toml", None),
}


@pytest.fixture(params=list(COPIES), ids=list(COPIES))
def twins(request: pytest.FixtureRequest, store: SessionStore) -> tuple[Session, Path, Path]:
    """A saved session, its file, and a copy of that file under another name."""
    session = original()
    first = store.save(session)
    name, answer = COPIES[request.param]
    second = make_copy(store, first, name, answer or "The copy's answer.")
    return session, first, second


def snapshot(*files: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in files}


# --- listed side by side, marked ------------------------------------------------------------


def test_copies_are_listed_side_by_side_and_marked(twins: tuple[Session, Path, Path]) -> None:
    session, first, second = twins
    third = first.with_name("20261125-203103-rust-lifetimes-backup.json")
    third.write_bytes(encode_session(decode_session(first.read_bytes()), "json"))
    with SessionStore(paths.data_dir()) as store:  # the on-disk index
        rows = {row.name: row for row in store.list_sessions()}
        assert set(rows) == {first.name, second.name, third.name}
        for name, row in rows.items():
            assert row.id == session.id
            assert row.shares_id
            assert sorted(row.same_id_as) == sorted(set(rows) - {name})
        [hit] = [h for h in store.search("answer") if h.summary.name == second.name]
        assert hit.summary.same_id_as  # search results are marked too
        assert sorted(store.files_with_id(session.id)) == sorted([first, second, third])


def test_a_unique_id_is_not_marked(store: SessionStore) -> None:
    store.save(original())
    store.save(original())  # another session (another id), even with the same title
    rows = store.list_sessions()
    assert len(rows) == 2
    assert [row.same_id_as for row in rows] == [(), ()]


# --- an id that names several files is refused, naming them -------------------------------------


OPERATIONS_BY_ID: dict[str, Callable[[SessionStore, str], object]] = {
    "resolve": lambda store, ref: store.resolve(ref),
    "load": lambda store, ref: store.load(ref),
    "open_session": lambda store, ref: store.open_session(ref),
    "rename": lambda store, ref: store.rename(ref, "New title"),
    "duplicate": lambda store, ref: store.duplicate(ref),
    "fork": lambda store, ref: store.fork(ref, 0),
    "delete": lambda store, ref: store.delete(ref),
    "export": lambda store, ref: store.export(ref, "md"),
}


@pytest.mark.parametrize("operation", list(OPERATIONS_BY_ID))
@pytest.mark.parametrize("whole", [True, False], ids=["id", "prefix"])
def test_an_id_in_several_files_is_refused_naming_them(
    twins: tuple[Session, Path, Path], store: SessionStore, operation: str, whole: bool
) -> None:
    session, first, second = twins
    before = snapshot(first, second)
    ref = session.id if whole else session.id[:6]
    with pytest.raises(AmbiguousSession) as caught:
        OPERATIONS_BY_ID[operation](store, ref)
    error = caught.value
    assert isinstance(error, StoreError)  # callers that catch StoreError show it as it is
    assert error.same_id
    assert sorted(error.paths) == sorted([first, second])
    message = str(error)
    assert first.name in message
    assert second.name in message
    assert "\n" not in message
    assert "path" in message  # says what to give instead
    assert snapshot(first, second) == before  # nothing written, moved or deleted
    assert sorted(store.folder.iterdir()) == sorted([first, second])


def test_a_load_by_id_is_refused_even_right_after_this_store_saved_it(
    store: SessionStore,
) -> None:
    """The store does not answer from what it remembers: a copy made since is noticed."""
    session = original()
    first = store.save(session)
    assert store.load(session.id).id == session.id
    shutil.copyfile(first, first.with_name("copy.toml"))
    with pytest.raises(AmbiguousSession):
        store.load(session.id)


def test_a_prefix_of_different_sessions_still_asks_for_more_of_the_id(
    store: SessionStore,
) -> None:
    one, two = original(), original()
    one.id, two.id = "abc111", "abc222"
    store.save(one)
    store.save(two)
    with pytest.raises(AmbiguousSession, match="'abc' matches 2 sessions") as caught:
        store.resolve("abc")
    assert not caught.value.same_id
    assert "abc111 (Rust lifetimes)" in str(caught.value)


def test_saving_a_session_this_store_never_saw_is_refused_when_its_id_is_in_two_files(
    twins: tuple[Session, Path, Path],
) -> None:
    session, first, second = twins
    before = snapshot(first, second)
    fresh = SessionStore(paths.data_dir(), disk_index=False)  # e.g. another process
    stranger = replace(original(), id=session.id)
    with pytest.raises(AmbiguousSession):
        fresh.save(stranger)
    assert snapshot(first, second) == before
    assert fresh.save(stranger, path=second) == second  # naming the file is always possible
    assert snapshot(first) == {first: before[first]}


# --- every operation by path acts on that file only -----------------------------------------


def test_every_operation_by_path_acts_on_the_file_named(
    twins: tuple[Session, Path, Path], store: SessionStore
) -> None:
    session, first, second = twins
    first_bytes = first.read_bytes()
    copy_answer = decode_session(second.read_bytes()).messages[1].content

    assert copy_answer in store.export(second, "md")
    assert "The original answer." not in store.export(second, "md")

    renamed = store.rename(second, "Renamed copy")
    assert renamed.title == "Renamed copy"
    assert decode_session(second.read_bytes()).title == "Renamed copy"
    assert first.read_bytes() == first_bytes

    duplicate = store.duplicate(second)
    fork = store.fork(second, 1)
    for made in (duplicate, fork):
        assert made.id != session.id
        assert made.messages[1].content == copy_answer
    assert first.read_bytes() == first_bytes

    token = store.delete(second)
    assert not second.exists()
    assert first.read_bytes() == first_bytes
    assert store.undo_delete(token) == second
    assert first.read_bytes() == first_bytes


def test_a_session_loaded_from_one_file_is_saved_to_that_file(
    twins: tuple[Session, Path, Path], store: SessionStore
) -> None:
    """Both files loaded in one store: each session, saved with its path, goes home."""
    _, first, second = twins
    from_first, from_second = store.load(first), store.load(second)
    from_first.messages.append(Message("user", "added to the first"))
    from_second.messages.append(Message("user", "added to the second"))
    assert store.save(from_first, path=first) == first
    assert store.save(from_second, path=second) == second
    assert decode_session(first.read_bytes()).messages[-1].content == "added to the first"
    assert decode_session(second.read_bytes()).messages[-1].content == "added to the second"


# --- opening a copy gives it an id of its own -----------------------------------------------


def test_opening_a_copy_gives_that_file_an_id_of_its_own(
    twins: tuple[Session, Path, Path], store: SessionStore
) -> None:
    session, first, second = twins
    first_bytes = first.read_bytes()
    opened = store.open_session(second)
    assert opened.path == second
    assert opened.previous_id == session.id
    assert opened.same_id_as == (first.name,)
    assert opened.session.id != session.id
    on_disk = decode_session(second.read_bytes())
    assert on_disk.id == opened.session.id  # written to that same file
    assert on_disk.messages == opened.session.messages  # and nothing else changed
    assert first.read_bytes() == first_bytes
    notice = opened.notice
    assert notice is not None
    assert first.name in notice
    assert "id of its own" in notice
    assert "\n" not in notice
    assert all(not row.same_id_as for row in store.list_sessions())
    assert store.resolve(session.id).path == first
    assert store.resolve(opened.session.id).path == second
    again = store.open_session(first)  # its id is unique now: nothing to do
    assert (again.previous_id, again.notice, again.session.id) == (None, None, session.id)
    assert first.read_bytes() == first_bytes


def test_opening_a_unique_session_changes_nothing(store: SessionStore) -> None:
    session = original()
    path = store.save(session)
    before = path.read_bytes()
    for ref in (session.id, session.id[:8], path, str(path)):
        opened = store.open_session(ref)
        assert (opened.session.id, opened.path, opened.notice) == (session.id, path, None)
    assert path.read_bytes() == before


def test_a_read_only_copy_keeps_its_id_and_says_why(store: SessionStore) -> None:
    session = original()
    first = store.save(session)
    newer = first.read_text().replace(f"schema_version = {SCHEMA_VERSION}", "schema_version = 99")
    second = first.with_name("copy-from-a-newer-glmtui.toml")
    second.write_text(newer)
    opened = store.open_session(second)
    assert opened.session.read_only
    assert opened.session.id == session.id
    assert second.read_text() == newer
    assert opened.notice is not None
    assert "read-only" in opened.notice


def test_opening_a_file_from_elsewhere_whose_id_is_taken(
    store: SessionStore, tmp_path: Path
) -> None:
    """It gets a new id in memory; its first save is a new file in the store."""
    session = original()
    first = store.save(session)
    first_bytes = first.read_bytes()
    outside = tmp_path / "elsewhere.toml"
    shutil.copyfile(first, outside)
    opened = store.open_session(outside)
    assert opened.previous_id == session.id
    assert outside.read_bytes() == first_bytes  # a file outside the store is not written
    path = store.save(opened.session)
    assert path.parent == store.folder
    assert path != first
    assert first.read_bytes() == first_bytes


def test_a_failed_id_change_is_reported_and_changes_nothing(
    twins: tuple[Session, Path, Path], store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    _, first, second = twins
    before = snapshot(first, second)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StoreError, match="the disk is full"):
        store.open_session(second)
    monkeypatch.undo()
    assert snapshot(first, second) == before


def test_after_the_copy_got_its_own_id_the_old_id_saves_to_the_other_file(
    twins: tuple[Session, Path, Path], store: SessionStore
) -> None:
    """The store forgets that the old id was in the opened file: a later save under the old
    id (the other file's session) cannot land in the file that no longer holds it."""
    session, first, second = twins
    store.load(second)  # the store associates the id with the copy …
    opened = store.open_session(second)  # … which then gets an id of its own
    copy_bytes = second.read_bytes()
    from_first = decode_session(first.read_bytes())
    from_first.messages.append(Message("user", "for the original"))
    assert store.save(from_first) == first
    assert second.read_bytes() == copy_bytes
    assert decode_session(second.read_bytes()).id == opened.session.id != session.id
