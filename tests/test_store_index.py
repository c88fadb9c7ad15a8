"""The session index: stays in step with the folder, never parses when warm, survives damage,
and searches like a case-insensitive substring match."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import glmtui.store.sessions as sessions_module
from glmtui import paths
from glmtui.domain import Message, Role, Session
from glmtui.store import SessionStore, encode_session
from glmtui.store.index import INDEX_FILE, SessionIndex, find_snippet, make_snippet


@pytest.fixture
def store() -> Iterator[SessionStore]:
    with SessionStore(paths.data_dir()) as store:
        yield store


def make(title: str, *texts: str, minutes: int = 0) -> Session:
    when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    roles: tuple[Role, Role] = ("user", "assistant")
    return Session(
        title=title,
        created_at=when,
        updated_at=when,
        messages=[Message(roles[i % 2], text, created_at=when) for i, text in enumerate(texts)],
    )


def write_file(folder: Path, session: Session, name: str | None = None) -> Path:
    """A file written by someone else (another glmtui, sync, an editor), not by this store."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{session.id}.toml")
    path.write_bytes(encode_session(session, "toml"))
    return path


def titles(store: SessionStore) -> list[str]:
    return [s.title for s in store.list_sessions()]


# --- staying in step with the folder -------------------------------------------------------------


def test_the_index_notices_new_changed_and_deleted_files(store: SessionStore) -> None:
    assert store.list_sessions() == []
    first = write_file(store.folder, make("First", "hello", minutes=1))
    second = write_file(store.folder, make("Second", "world", minutes=2))
    assert titles(store) == ["Second", "First"]

    changed = make("First, renamed elsewhere", "hello again", minutes=3)
    changed.id = first.stem
    first.write_bytes(encode_session(changed, "toml"))
    assert titles(store) == ["First, renamed elsewhere", "Second"]

    second.unlink()
    assert titles(store) == ["First, renamed elsewhere"]
    assert [h.summary.title for h in store.search("again")] == ["First, renamed elsewhere"]
    assert store.search("world") == []


def test_a_same_size_same_mtime_replacement_is_noticed(store: SessionStore) -> None:
    path = write_file(store.folder, make("Aaaa", "x"))
    assert titles(store) == ["Aaaa"]
    before = os.stat(path)
    replacement = path.with_name("replacement.tmp")
    same_size = make("Bbbb", "x")
    same_size.id = path.stem
    replacement.write_bytes(encode_session(same_size, "toml"))
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, path)  # what an atomic writer does: a new inode
    assert os.stat(path).st_size == before.st_size
    assert titles(store) == ["Bbbb"]


def test_a_warm_index_lists_and_searches_without_parsing(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(30):
        store.save(make(f"Session {n}", f"text number {n}", minutes=n))
    assert len(store.list_sessions()) == 30
    store.close()

    def no_parsing(*args: object, **kwargs: object) -> Session:
        raise AssertionError("a session file was parsed")

    monkeypatch.setattr(sessions_module, "decode_session", no_parsing)
    with SessionStore(paths.data_dir()) as fresh:  # a new process, the index on disk
        listed = fresh.list_sessions()
        assert [s.title for s in listed][:2] == ["Session 29", "Session 28"]
        assert all(s.message_count == 1 for s in listed)
        assert [h.summary.title for h in fresh.search("number 7")] == [
            "Session 27",
            "Session 17",
            "Session 7",
        ]


def test_a_damaged_index_is_rebuilt(store: SessionStore) -> None:
    store.save(make("Kept", "words"))
    assert titles(store) == ["Kept"]
    store.close()
    index_file = paths.cache_dir() / INDEX_FILE
    assert index_file.exists()
    for suffix in ("-wal", "-shm"):
        Path(f"{index_file}{suffix}").unlink(missing_ok=True)
    index_file.write_bytes(b"this is not a database" * 100)
    with SessionStore(paths.data_dir()) as fresh:
        assert titles(fresh) == ["Kept"]
        assert [h.summary.title for h in fresh.search("words")] == ["Kept"]
    assert index_file.read_bytes()[:15] == b"SQLite format 3"


def test_an_index_of_another_layout_or_folder_is_rebuilt(store: SessionStore) -> None:
    store.save(make("Kept", "words"))
    assert titles(store) == ["Kept"]
    store.close()
    conn = sqlite3.connect(paths.cache_dir() / INDEX_FILE)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with SessionStore(paths.data_dir()) as fresh:
        assert titles(fresh) == ["Kept"]
    conn = sqlite3.connect(paths.cache_dir() / INDEX_FILE)
    conn.execute("UPDATE meta SET value = '/somewhere/else' WHERE key = 'folder'")
    conn.commit()
    conn.close()
    with SessionStore(paths.data_dir()) as fresh:
        assert titles(fresh) == ["Kept"]


def test_an_unwritable_cache_falls_back_to_memory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "cache").parent.mkdir(parents=True)
    (data / "cache").write_text("a file where the cache folder should be")
    with SessionStore(data) as store:
        store.save(make("Still works", "fine"))
        assert titles(store) == ["Still works"]
        assert store.index.db_path is None
        assert [h.summary.title for h in store.search("fine")] == ["Still works"]


def test_store_modules_never_import_textual() -> None:
    code = (
        "import sys, glmtui.store, glmtui.store.sessions, glmtui.store.index, "
        "glmtui.store.codecs, glmtui.store.export, glmtui.store.records, glmtui.store.errors; "
        "sys.exit(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- search --------------------------------------------------------------------------------------


@pytest.fixture
def corpus(store: SessionStore) -> SessionStore:
    store.save(
        make(
            "Rust lifetimes question",
            "Why does `fn f(x: &str)` work?",
            "Lifetime elision: the compiler infers 'a.",
            minutes=1,
        )
    )
    store.save(
        make(
            "Docker build cache",
            "My layers rebuild every time.",
            "Order COPY after RUN pip install so the cache holds.",
            minutes=2,
        )
    )
    store.save(
        make("Übersicht der Straße", "Wie heißt die STRAßE?", "Sie heißt Hauptstraße.", minutes=3)
    )
    store.save(make("Percent signs", "100% of 50_000 is 50_000", "Yes: 100%.", minutes=4))
    store.save(make("Quotes", 'He said "hello" AND (left) * OR NEAR', "ok", minutes=5))
    return store


def found(store: SessionStore, query: str) -> list[str]:
    return [h.summary.title for h in store.search(query)]


def test_search_is_a_case_insensitive_substring_match(corpus: SessionStore) -> None:
    assert found(corpus, "lifetime") == ["Rust lifetimes question"]
    assert found(corpus, "LIFETIM") == ["Rust lifetimes question"]
    assert found(corpus, "ifetim") == ["Rust lifetimes question"]  # inside a word
    assert found(corpus, "elision") == ["Rust lifetimes question"]
    assert found(corpus, "cache") == ["Docker build cache"]  # title and text
    assert found(corpus, "nothing like this") == []


def test_every_word_must_match_somewhere(corpus: SessionStore) -> None:
    assert found(corpus, "layers pip") == ["Docker build cache"]  # in two messages
    assert found(corpus, "docker elision") == []
    assert found(corpus, "  rust   compiler ") == ["Rust lifetimes question"]


def test_unicode_case_folding(corpus: SessionStore) -> None:
    assert found(corpus, "übersicht") == ["Übersicht der Straße"]
    assert found(corpus, "STRAßE") == ["Übersicht der Straße"]
    assert found(corpus, "hauptstraße") == ["Übersicht der Straße"]


def test_special_characters_are_plain_text(corpus: SessionStore) -> None:
    assert found(corpus, "100%") == ["Percent signs"]
    assert found(corpus, "50_000") == ["Percent signs"]
    assert found(corpus, "0%") == ["Percent signs"]
    assert found(corpus, "_0") == ["Percent signs"]
    assert found(corpus, '"hello"') == ["Quotes"]
    assert found(corpus, "AND (left) *") == ["Quotes"]
    assert found(corpus, "NEAR") == ["Quotes"]
    assert found(corpus, "%") == ["Percent signs"]


def test_short_words_match_too(corpus: SessionStore) -> None:
    assert found(corpus, "ru") == ["Docker build cache", "Rust lifetimes question"]
    assert found(corpus, "fn") == ["Rust lifetimes question"]
    assert found(corpus, "x") == ["Rust lifetimes question"]
    assert found(corpus, "ß") == ["Übersicht der Straße"]
    assert found(corpus, "E") == [
        "Quotes",
        "Percent signs",
        "Übersicht der Straße",
        "Docker build cache",
        "Rust lifetimes question",
    ]


def test_hits_are_newest_first_with_a_snippet(corpus: SessionStore) -> None:
    [hit] = corpus.search("holds")
    assert hit.field == "message"
    assert hit.message_index == 1
    assert hit.snippet == "Order COPY after RUN pip install so the cache holds."
    [hit] = corpus.search("rust")
    assert hit.field == "title"
    assert hit.snippet == "Rust lifetimes question"
    assert corpus.search("") == []
    assert len(corpus.search("e", limit=2)) == 2


def test_unreadable_files_never_match(store: SessionStore) -> None:
    store.folder.mkdir(parents=True)
    (store.folder / "20240101-000000-lifetime.toml").write_text("lifetime = [")
    assert len(store.list_sessions()) == 1
    assert store.search("lifetime") == []


def test_snippets_are_one_short_line() -> None:
    body = "first line\n" + "word " * 100 + "NEEDLE" + " tail" * 100 + "\nlast line"
    snippet = make_snippet(body, body.index("NEEDLE"), body.index("NEEDLE") + 6, width=60)
    assert "\n" not in snippet
    assert "NEEDLE" in snippet
    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert len(snippet) <= 62
    assert find_snippet(["Title", "a", "b NEEDLE"], ["needle"]) == ("b NEEDLE", "message", 1)
    assert find_snippet(["Needle title", "nothing"], ["needle"]) == (
        "Needle title",
        "title",
        None,
    )


def test_search_without_fts_gives_the_same_results(tmp_path: Path) -> None:
    """Where SQLite lacks FTS5 or the trigram tokenizer, a scan must find exactly the same."""
    rng = random.Random(3)
    words = ["alpha", "beta", "gamma", "delta", "Straße", "ÉCOLE", "x%y", "a_b", "sorry", "or"]
    data = tmp_path / "data"
    with SessionStore(data) as store:
        for n in range(60):
            texts = [" ".join(rng.choices(words, k=rng.randint(0, 12))) for _ in range(3)]
            store.save(make(f"s{n} " + rng.choice(words), *texts, minutes=n))
        queries = [*words, "alpha beta", "ph", "ta ga", "ole", "ÉCO", "ss", "zzz", "%", "_"]
        expected = {q: [h.summary.id for h in store.search(q)] for q in queries}
        assert store.index.fts
    scan = SessionIndex(data / "sessions", None)
    scan.fts_wanted = False
    with SessionStore(data, disk_index=False) as plain:
        plain.index = scan
        plain.list_sessions()
        assert not scan.fts
        for query in queries:
            assert [h.summary.id for h in plain.search(query)] == expected[query], query
    assert any(expected.values())


def test_strange_text_never_breaks_listing_or_search(store: SessionStore) -> None:
    strange = "nul\x00 sep\x1e esc\x1b[2J bidi\u202e emoji😀 cr\r\n" + "\x1e" * 70_000 + " tail"
    store.save(make("Strange\x00title\x1e", strange, "x" * 100_000 + "needle", minutes=1))
    store.folder.mkdir(parents=True, exist_ok=True)
    # Hand-written JSON with a lone surrogate escape and a huge token count.
    (store.folder / "20260101-000000-hand.json").write_text(
        '{"schema_version": 1, "id": "hand", "title": "Lone \\ud800 surrogate", '
        '"created_at": "2026-01-01T00:00:00Z", "messages": [{"role": "assistant", '
        '"content": "big", "usage": {"total_tokens": 100000000000000000000000}}]}'
    )
    listed = store.list_sessions()
    assert {s.title for s in listed} == {"Strange\x00title\x1e", "Lone \ufffd surrogate"}
    assert [h.summary.title for h in store.search("emoji😀")] == ["Strange\x00title\x1e"]
    assert [h.summary.title for h in store.search("tail")] == ["Strange\x00title\x1e"]
    assert [h.summary.title for h in store.search("needle")] == ["Strange\x00title\x1e"]
    assert [h.summary.title for h in store.search("surrogate")] == ["Lone \ufffd surrogate"]
    store.folder.joinpath("20260101-000000-hand.json").unlink()
    assert [s.title for s in store.list_sessions()] == ["Strange\x00title\x1e"]


def test_a_save_never_waits_for_a_long_refresh(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold index build runs in a worker; the chat screen's save must not wait for it."""
    for n in range(12):
        write_file(store.folder, make(f"Old {n}", "text", minutes=n))
    parse = SessionStore._index_entry
    started = threading.Event()

    def slow_parse(self: SessionStore, path: Path) -> object:
        started.set()
        time.sleep(0.1)
        return parse(self, path)

    monkeypatch.setattr(SessionStore, "_index_entry", slow_parse)
    worker = threading.Thread(target=store.refresh)
    worker.start()
    assert started.wait(5)
    began = time.perf_counter()
    store.save(make("New while indexing", "typed words"))
    partial = store.list_sessions()  # what is indexed so far, at once
    assert time.perf_counter() - began < 0.5
    assert len(partial) < 13
    worker.join()
    assert len(store.list_sessions()) == 13
