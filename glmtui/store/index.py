"""An on-disk index of the sessions folder, so listing and searching 10,000 sessions is instant.

The session files stay the source of truth; this is a cache in ``<data dir>/cache/`` that can be
deleted at any time. Each file is indexed under its name with the stamp it had when it was read
(mtime in nanoseconds, size, inode), so a refresh is one ``os.scandir`` plus a ``stat`` per file:
only files that are new or changed are parsed, and rows of files that are gone are dropped.

Storage is SQLite (stdlib), three tables:

- ``files``: one small row per file, everything the browser shows (a listing reads only this
  table: no session file is parsed while the index is warm);
- ``texts``: each session's title and message texts, one row per session (reasoning and system
  prompts are not searched; a tool's result is its message's text, and a reply's tool calls,
  as ``name(arguments)`` lines, are part of the reply's, see :func:`message_text`), against
  which matches are checked and snippets cut;
- ``grams``: an FTS5 trigram index over the title and each message (one row per message),
  *contentless* and with ``detail=none``, so it only records which messages contain which
  three-character sequences (about half the text's size). A search walks the sessions newest
  first, keeps those with a message holding every trigram of each term, lets SQLite check the
  real text (``LIKE``), and stops at the limit. Rows per message matter: a long conversation
  contains nearly every common trigram, one message does not, so a rare word made of common
  trigrams ("sorry") leaves a few hundred candidate sessions instead of nearly all of them.

Why not a regular FTS5 trigram table (with positions), which answers substring queries on its
own: over 10,000 long sessions (≈ 210 MB of message text) it measured ≈ 0.6 GB with the text
for snippets, against ≈ 0.35 GB here, for a gain only on rare adversarial queries. Numbers and
method: ``tests/benchmarks/bench_sessions.py``. Where SQLite lacks FTS5 or
its trigram tokenizer (before 3.34), every session is a candidate: same results, slower on rare
words. A damaged or foreign index file is deleted and rebuilt; if the cache folder cannot be
written, the index lives in memory for the process.

Search semantics: the query is split on whitespace and every term must occur in the title or the
message text (tool results and calls included), as a substring, ignoring case (Unicode-aware:
``ÄBC`` finds ``äbc``).

Two files can hold the same session id (a copied file, a sync tool's conflict copy, a backup).
Rows are keyed on the file name, so both are listed; each summary names the other files with
its id (``same_id_as``), so no caller mistakes one for the other.

The index holds the text of every conversation: its file (and SQLite's ``-wal``, ``-shm`` and
``-journal`` files, which take the database file's mode) is created 0600, and made 0600 when
found wider; the cache folder is created 0700. Several processes may open a new index at once:
the one that loses the race to create the tables uses the winner's.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, cast

from glmtui.domain import Message, Session
from glmtui.fileio import PRIVATE_FILE, PRIVATE_FOLDER, make_folder
from glmtui.store.codecs import SessionFormat, storable_text
from glmtui.store.errors import StoreError
from glmtui.store.records import FileStamp, RefreshReport, SearchHit, SessionSummary

INDEX_FILE: Final = "sessions-index.sqlite3"
"""The index's file name inside the cache folder."""

LAYOUT_VERSION: Final = 5
"""Stored as ``PRAGMA user_version``; an index with another layout is deleted and rebuilt.

Also bumped when what is indexed changes, so every file is read again: 4 added the tool calls'
names and arguments to their message's text (an index of layout 3 would miss them in files it
read before); 5 added attachments' names and the text of text attachments."""


PART_BITS: Final = 16
"""A ``grams`` rowid is ``files.rowid << PART_BITS | part`` (0 = title, then each message)."""

SEPARATOR: Final = "\x1e"
"""Joins a session's parts in ``texts`` (and is removed from the parts, so splitting is exact)."""

_LAST_PART: Final = (1 << PART_BITS) - 1

MIN_TERM: Final = 3
"""Terms shorter than this cannot be narrowed by the trigram index (they are still checked)."""

BATCH: Final = 50
"""Files per write transaction while refreshing: an interrupted cold build keeps its progress,
and other threads never wait long for the index."""

Reader = Callable[[Path], "tuple[FileStamp, SessionSummary, list[str]] | None"]
"""Reads one file for the index: its stamp, summary and searchable parts (title, then each
message's text), or None if the file vanished."""

Progress = Callable[[int, int], None]
"""Called with (files read, files to read) while refreshing."""

_FIELDS: Final = (
    "name",
    "mtime_ns",
    "size",
    "inode",
    "id",
    "title",
    "created_at",
    "updated_at",
    "updated_key",
    "model",
    "provider",
    "message_count",
    "tokens",
    "tokens_estimated",
    "format",
    "read_only",
    "error",
)
_COLUMNS: Final = ", ".join(f"f.{name}" for name in _FIELDS)
_PLACEHOLDERS: Final = ", ".join("?" * len(_FIELDS))
_ORDER: Final = "ORDER BY f.updated_key DESC, f.name DESC"
_NEWEST_FIRST: Final = "files f INDEXED BY files_by_update"
"""Walk files newest first so a search stops at its limit (the planner would sort instead)."""
_BUSY_CODES: Final = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
_DAMAGE_CODES: Final = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB
_UNWRITABLE_CODES: Final = frozenset({3, 8, 10, 13, 14})  # PERM, READONLY, IOERR, FULL, CANTOPEN


def is_session_file_name(name: str) -> bool:
    """Whether a name in the sessions folder is a session file (not a temp file, nor others)."""
    return not name.startswith(".") and name.lower().endswith((".toml", ".json"))


def _make_private(db_path: Path) -> None:
    """Create the index file with mode 0600 (SQLite gives its ``-wal``, ``-shm`` and
    ``-journal`` files the mode of the database file), and make existing ones private: the
    index holds the text of every conversation."""
    fd = os.open(db_path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            side = f"{db_path}{suffix}"
            if os.stat(side).st_mode & 0o077:
                os.chmod(side, PRIVATE_FILE)


def scan_folder(folder: Path) -> dict[str, FileStamp]:
    """Every session file in ``folder`` with its stamp: one ``scandir`` and one ``stat`` each."""
    found: dict[str, FileStamp] = {}
    try:
        entries = os.scandir(folder)
    except FileNotFoundError:
        return found
    except OSError as exc:
        raise StoreError(f"Cannot read the session folder {folder}: {exc.strerror}.") from None
    with entries:
        for entry in entries:
            if not is_session_file_name(entry.name):
                continue
            try:
                if entry.is_file():
                    found[entry.name] = FileStamp.of(entry.stat())
            except OSError:
                continue  # vanished meanwhile, or a dangling link: not a session
    return found


def message_text(message: Message) -> str:
    """What a search looks in for one message: its text, then each tool call it makes as a
    ``name(arguments)`` line (arguments as the model wrote them), then each attachment's name
    and, for a text file, its text (as it was sent).

    A tool message's text is the result the model was sent, so results are found like any
    reply. One part per message keeps a hit's ``message_index`` pointing at the message.
    """
    if not message.tool_calls and not message.attachments:
        return message.content
    calls = [f"{call.name}({call.arguments})" for call in message.tool_calls]
    files = [f"{a.name}\n{a.text}" if a.text else a.name for a in message.attachments]
    parts = [message.content, *calls, *files] if message.content else [*calls, *files]
    return "\n".join(parts)


def session_parts(session: Session) -> list[str]:
    """A session's searchable parts: its title, then each message's :func:`message_text`."""
    return [session.title, *(message_text(m) for m in session.messages)]


def trigrams(term: str) -> list[str]:
    """The distinct three-character sequences of ``term``, in order."""
    return list(dict.fromkeys(term[i : i + 3] for i in range(len(term) - 2)))


def _searchable(parts: Sequence[str]) -> list[str]:
    """A session's parts as stored for search: surrogates replaced, NUL (where ``LIKE`` stops
    reading) and the separator as spaces, and no more parts than the rowid bits allow."""
    if len(parts) > _LAST_PART + 1:
        parts = [*parts[:_LAST_PART], "\n".join(parts[_LAST_PART:])]
    return [storable_text(part).replace("\x00", " ").replace(SEPARATOR, " ") for part in parts]


def _gram_rows(rowid: int, parts: Sequence[str]) -> list[tuple[int, str]]:
    """The ``grams`` rows of one session: the title and each message, by part number."""
    base = rowid << PART_BITS
    return [(base | i, part) for i, part in enumerate(parts)]


def _quote(gram: str) -> str:
    return '"' + gram.replace('"', '""') + '"'


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(text: str | None, lowered_term: str) -> bool:
    """SQL function ``glmtui_contains``: a Unicode-aware case-insensitive substring test.

    ``LIKE`` ignores case for ASCII letters only, so terms with other characters use this.
    """
    return text is not None and lowered_term in text.lower()


_SPACE = re.compile(r"\s+")


def make_snippet(text: str, start: int, end: int, width: int = 100) -> str:
    """The line of ``text`` holding ``text[start:end]``, cut to about ``width`` characters
    around it (``…`` where cut), with runs of whitespace shown as one space."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    before, after = line_start, line_end
    if line_end - line_start > width:
        before = max(line_start, start - max(10, (width - (end - start)) // 3))
        after = min(line_end, before + max(width, end - start + 10))
        before = max(line_start, min(before, after - width))  # near the end: show more before
    piece = _SPACE.sub(" ", text[before:after]).strip()
    return ("…" if before > line_start else "") + piece + ("…" if after < line_end else "")


def _first_match(text: str, terms: Sequence[str]) -> tuple[int, int] | None:
    """Start and end of the earliest occurrence of any term in ``text``, ignoring case."""
    lowered = text.lower()
    if len(lowered) == len(text):  # lower() kept every offset (true for nearly all text)
        found = [(i, i + len(t)) for t in terms if (i := lowered.find(t.lower())) != -1]
        return min(found) if found else None
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    match = pattern.search(text)
    return match.span() if match else None


def find_snippet(parts: Sequence[str], terms: Sequence[str]) -> tuple[str, str, int | None]:
    """Where ``terms`` first occur in a session's parts (title, then each message's text):
    (one-line snippet, "message" or "title", index of the message or None).

    Message text is preferred (the title is already on screen next to the snippet).
    """
    for index, text in enumerate(parts[1:]):
        span = _first_match(text, terms)
        if span is not None:
            return make_snippet(text, *span), "message", index
    return _SPACE.sub(" ", parts[0] if parts else "").strip(), "title", None


def _int64(value: int) -> int:
    """``value`` as SQLite can store it: inode numbers above 2**63 wrap, counts saturate."""
    if value >= 1 << 63:
        return value - (1 << 64) if value < 1 << 64 else (1 << 63) - 1
    return max(value, -(1 << 63))


def _count64(value: int) -> int:
    """A count as SQLite can store it, saturated (a hand-edited file's absurd token counts
    must not wrap around to a negative number in the list)."""
    return min(max(value, -(1 << 63)), (1 << 63) - 1)


def _sort_key(when: datetime) -> float:
    """Seconds since the epoch; naive times are taken as UTC so sorting never fails."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


class SessionIndex:
    """The SQLite cache of one sessions folder. Thread-safe (one lock around the connection).

    Args:
        folder: The sessions folder it indexes.
        db_path: The index file, or None to keep the index in memory.
    """

    def __init__(self, folder: Path, db_path: Path | None) -> None:
        self.folder = folder
        self.db_path = db_path
        """The index file; None when the index lives in memory."""
        self.fts = False
        """True when the trigram index narrows searches (else every session is checked)."""
        self.fts_wanted = True
        """Build new indexes with the trigram table when SQLite has it (False: tests)."""
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._refreshing = threading.Lock()
        """Held while a refresh runs: a listing or search meanwhile answers from what is indexed
        so far instead of parsing the same files a second time."""
        self._synced: dict[str, FileStamp] | None = None
        """The folder as it was when the index last matched it (skips re-reading the rows)."""
        self._listing: list[SessionSummary] | None = None
        self._listing_for: dict[str, FileStamp] | None = None
        self._generation = 0
        self._opened = False
        """Counts database connections opened: a change means the index may have been replaced."""

    # --- connection ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database connection (it reopens on next use)."""
        with self._lock:
            self._forget_state()
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _forget_state(self) -> None:
        self._synced = None
        self._listing = None
        self._listing_for = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
            if self._opened:  # a re-open (after damage or close): earlier answers may be stale
                self._generation += 1
            self._opened = True
        return self._conn

    def _open(self) -> sqlite3.Connection:
        """Open the index file, replacing it when it is damaged, foreign or of another layout.

        Falls back to an in-memory index when the cache folder cannot hold the file.
        """
        if self.db_path is not None:
            for attempt in range(2):
                try:
                    make_folder(self.db_path.parent, PRIVATE_FOLDER)
                    _make_private(self.db_path)
                    return self._prepare(self._connect(str(self.db_path)))
                except sqlite3.Error as exc:
                    if _code(exc) in _BUSY_CODES:
                        raise _busy_error() from None
                    if attempt == 0:
                        self._discard_file()
                except OSError:
                    break
            self.db_path = None  # the cache folder is unwritable: keep the index in memory
        return self._prepare(self._connect(":memory:"))

    @staticmethod
    def _connect(target: str) -> sqlite3.Connection:
        conn = sqlite3.connect(target, timeout=10, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.create_function("glmtui_contains", 2, _contains, deterministic=True)
        return conn

    def _discard_file(self) -> None:
        if self.db_path is None:
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                os.unlink(f"{self.db_path}{suffix}")

    def _prepare(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        """Use an index of this layout for this folder; create the tables in a new one."""
        try:
            if self.db_path is not None:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                self._create(conn)
            elif version != LAYOUT_VERSION:
                raise sqlite3.DatabaseError("an index of another layout")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("folder") != str(self.folder):
                raise sqlite3.DatabaseError("an index of another folder")
            self.fts = meta.get("search") == "trigram"
            conn.execute("SELECT count(*) FROM files").fetchone()
            conn.execute("SELECT count(*) FROM texts").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    def _create(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] != 0:
                conn.execute("ROLLBACK")  # another process created it meanwhile
                return
            conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute(
                "CREATE TABLE files ("
                " rowid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
                " mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, inode INTEGER NOT NULL,"
                " id TEXT NOT NULL, title TEXT NOT NULL, created_at TEXT NOT NULL,"
                " updated_at TEXT NOT NULL, updated_key REAL NOT NULL, model TEXT NOT NULL,"
                " provider TEXT NOT NULL, message_count INTEGER NOT NULL,"
                " tokens INTEGER NOT NULL, tokens_estimated INTEGER NOT NULL,"
                " format TEXT NOT NULL, read_only INTEGER NOT NULL, error TEXT)"
            )
            conn.execute("CREATE INDEX files_by_id ON files (id)")
            conn.execute("CREATE INDEX files_by_update ON files (updated_key DESC, name DESC)")
            conn.execute("CREATE TABLE texts (rowid INTEGER PRIMARY KEY, text TEXT NOT NULL)")
            fts = False
            if self.fts_wanted:
                try:
                    conn.execute(
                        "CREATE VIRTUAL TABLE grams USING fts5("
                        "text, tokenize = 'trigram', content = '', detail = 'none')"
                    )
                    fts = True
                except sqlite3.OperationalError:  # no FTS5, or no trigram tokenizer (< 3.34)
                    pass
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("folder", str(self.folder)), ("search", "trigram" if fts else "scan")],
            )
            conn.execute(f"PRAGMA user_version = {LAYOUT_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _run(self, operation: Callable[[sqlite3.Connection], Any], *, wait: bool = True) -> Any:
        """Run ``operation`` under the lock; start over with a new index if this one is broken.

        A damaged index file is deleted and the operation runs again on a fresh one (callers
        that list or search refresh again when that happened, see :meth:`_fresh`); an unwritable
        one is replaced by an in-memory index. Other database errors are reported, not hidden.

        Args:
            operation: Works with the connection; holds the lock only for a short while.
            wait: False to give up at once (returning None) when another thread holds the lock.
        """
        if not self._lock.acquire(blocking=wait):
            return None
        try:
            for attempt in range(3):
                try:
                    return operation(self._connection())
                except sqlite3.Error as exc:
                    code = _code(exc)
                    if code in _BUSY_CODES:
                        raise _busy_error() from None
                    damaged = code in _DAMAGE_CODES or (
                        code is None and isinstance(exc, sqlite3.DatabaseError)
                    )
                    if attempt == 2 or not (damaged or code in _UNWRITABLE_CODES):
                        raise StoreError(f"The session index failed: {exc}.") from None
                    self.close()
                    if damaged and attempt == 0:
                        self._discard_file()
                    else:
                        self.db_path = None
            raise AssertionError("unreachable")
        finally:
            self._lock.release()

    def _fresh(self, read: Reader | None, query: Callable[[sqlite3.Connection], Any]) -> Any:
        """Refresh (when ``read`` is given), then run ``query``; if the index had to be
        replaced meanwhile, refresh and ask again, so a damaged index never yields an empty
        answer. While another thread is refreshing (a cold build), answer from what is
        indexed so far rather than wait or parse the same files twice."""
        result = None
        for _ in range(3):
            if read is not None and self._refreshing.acquire(blocking=False):
                try:
                    self._refresh(read, None)
                finally:
                    self._refreshing.release()
            generation = self._generation
            result = self._run(query)
            if self._generation == generation:
                break
        return result

    # --- refresh ---------------------------------------------------------------------------

    def refresh(self, read: Reader, progress: Progress | None = None) -> RefreshReport:
        """Bring the index up to date with the folder, parsing new and changed files only.

        Files are parsed without holding the lock, and written in small transactions, so other
        threads (a save looking up a file, a search) wait at most for one batch.

        Args:
            read: Reads one file (the store's parser).
            progress: Optional callback for a long (cold) refresh.
        """
        with self._refreshing:
            return self._refresh(read, progress)

    def _refresh(self, read: Reader, progress: Progress | None) -> RefreshReport:
        report = RefreshReport()
        for _ in range(3):
            plan = self._run(self._plan)
            generation = self._generation  # (a damaged index found while planning is rebuilt)
            on_disk, stale, known = cast("tuple[dict[str, FileStamp], list[str], set[str]]", plan)
            done = 0
            for start in range(0, len(stale), BATCH):
                rows: list[tuple[FileStamp, SessionSummary, list[str]]] = []
                gone: list[str] = []
                for name in stale[start : start + BATCH]:
                    result = read(self.folder / name)
                    if result is None:
                        gone.append(name)
                    else:
                        rows.append(result)
                self._run(functools.partial(self._write, rows=rows, removed=gone))
                done += len(rows) + len(gone)
                if progress is not None:
                    progress(done, len(stale))
            if self._generation != generation:
                continue  # replaced mid-way (damage found): what was written is not the whole
            if on_disk != self._synced:  # (keep the same object: the cached listing is keyed on it)
                self._synced = on_disk
            changed = sum(1 for name in stale if name in known)
            removed = len(known - on_disk.keys())
            report = RefreshReport(len(stale) - changed, changed, removed, len(on_disk))
            break
        return report

    def _plan(self, conn: sqlite3.Connection) -> tuple[dict[str, FileStamp], list[str], set[str]]:
        """Compare the folder with the index: drop rows of files gone; return what to parse."""
        on_disk = scan_folder(self.folder)
        if on_disk == self._synced:
            return on_disk, [], set(on_disk)
        known = {
            name: FileStamp(mtime, size, inode % (1 << 64))
            for name, mtime, size, inode in conn.execute(
                "SELECT name, mtime_ns, size, inode FROM files"
            )
        }
        removed = [name for name in known if name not in on_disk]
        if removed:
            self._write(conn, [], removed)
        stale = [name for name, stamp in on_disk.items() if known.get(name) != stamp]
        return on_disk, stale, set(known)

    def _write(
        self,
        conn: sqlite3.Connection,
        rows: Sequence[tuple[FileStamp, SessionSummary, list[str]]],
        removed: Sequence[str],
    ) -> None:
        """Replace the rows of ``rows``' files and drop those of ``removed``, in one transaction."""
        self._forget_state()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for name in [*removed, *(summary.name for _, summary, _ in rows)]:
                self._delete(conn, name)
            for stamp, summary, parts in rows:
                self._insert(conn, stamp, summary, parts)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _delete(self, conn: sqlite3.Connection, name: str) -> None:
        found = conn.execute("SELECT rowid FROM files WHERE name = ?", (name,)).fetchone()
        if found is None:
            return
        (rowid,) = found
        stored = conn.execute("SELECT text FROM texts WHERE rowid = ?", (rowid,)).fetchone()
        if stored is not None:
            if self.fts:  # a contentless index forgets a row when given exactly what it indexed
                conn.executemany(
                    "INSERT INTO grams (grams, rowid, text) VALUES ('delete', ?, ?)",
                    _gram_rows(rowid, stored[0].split(SEPARATOR)),
                )
            conn.execute("DELETE FROM texts WHERE rowid = ?", (rowid,))
        conn.execute("DELETE FROM files WHERE rowid = ?", (rowid,))

    def _insert(
        self,
        conn: sqlite3.Connection,
        stamp: FileStamp,
        summary: SessionSummary,
        parts: Sequence[str],
    ) -> None:
        cursor = conn.execute(
            f"INSERT INTO files ({', '.join(_FIELDS)}) VALUES ({_PLACEHOLDERS})",
            (
                summary.name,
                _int64(stamp.mtime_ns),
                _int64(stamp.size),
                _int64(stamp.inode),
                summary.id,
                summary.title,
                summary.created_at.isoformat(),
                summary.updated_at.isoformat(),
                _sort_key(summary.updated_at),
                summary.model,
                summary.provider,
                summary.message_count,
                _count64(summary.tokens),
                int(summary.tokens_estimated),
                summary.format,
                int(summary.read_only),
                summary.error,
            ),
        )
        if summary.error is not None or cursor.lastrowid is None:
            return  # unreadable files are listed but never match a search
        rowid = cursor.lastrowid
        stored = _searchable(parts)
        conn.execute(
            "INSERT INTO texts (rowid, text) VALUES (?, ?)", (rowid, SEPARATOR.join(stored))
        )
        if self.fts:
            conn.executemany(
                "INSERT INTO grams (rowid, text) VALUES (?, ?)", _gram_rows(rowid, stored)
            )

    # --- queries ---------------------------------------------------------------------------

    def summaries(self, read: Reader | None = None) -> list[SessionSummary]:
        """Every indexed file, most recently updated first; refreshed first if ``read`` is given.

        Reads no session file unless refreshing finds new or changed ones.
        """

        def query(conn: sqlite3.Connection) -> list[SessionSummary]:
            if self._listing is not None and self._listing_for is self._synced is not None:
                return list(self._listing)  # nothing changed since the last listing
            cursor = conn.execute(f"SELECT {_COLUMNS} FROM files f {_ORDER}")
            listing = self._mark_shared_ids(conn, [self._summary(row) for row in cursor])
            self._listing, self._listing_for = listing, self._synced
            return list(listing)

        return cast("list[SessionSummary]", self._fresh(read, query))

    def by_id(
        self,
        session_id: str,
        *,
        prefix: bool = False,
        read: Reader | None = None,
        wait: bool = True,
    ) -> list[SessionSummary]:
        """Readable sessions whose id is ``session_id`` (or starts with it), newest first.

        With ``wait=False`` the answer is empty rather than late when another thread is using
        the index (a save must not wait for a long refresh).
        """

        def query(conn: sqlite3.Connection) -> list[SessionSummary]:
            params: tuple[Any, ...] = (session_id,)
            condition = "f.id = ?"
            if prefix:
                condition, params = "substr(f.id, 1, ?) = ?", (len(session_id), session_id)
            cursor = conn.execute(
                f"SELECT {_COLUMNS} FROM files f WHERE {condition} AND f.error IS NULL {_ORDER}",
                params,
            )
            return self._mark_shared_ids(conn, [self._summary(row) for row in cursor])

        if not wait:
            return cast("list[SessionSummary]", self._run(query, wait=False) or [])
        return cast("list[SessionSummary]", self._fresh(read, query))

    def search(self, query: str, limit: int = 200, read: Reader | None = None) -> list[SearchHit]:
        """Sessions whose title or message text contain every term of ``query``, newest first.

        See the module docstring for the semantics. Reads no session file (unless refreshing,
        when ``read`` is given).
        """
        terms = query.split()
        if not terms or limit <= 0:
            return []

        def run(conn: sqlite3.Connection) -> list[SearchHit]:
            return self._search(conn, terms, limit)

        return cast("list[SearchHit]", self._fresh(read, run))

    def _search(self, conn: sqlite3.Connection, terms: list[str], limit: int) -> list[SearchHit]:
        where = ["f.error IS NULL"]
        params: list[Any] = []
        for term in dict.fromkeys(t.lower() for t in terms):
            if self.fts and len(term) >= MIN_TERM:
                where.append(
                    f"f.rowid IN (SELECT rowid >> {PART_BITS} FROM grams WHERE grams MATCH ?)"
                )
                params.append(" AND ".join(_quote(g) for g in trigrams(term)))
            if term.isascii():
                where.append("t.text LIKE ? ESCAPE '\\'")
                params.append(_like_pattern(term))
            else:
                where.append("glmtui_contains(t.text, ?)")
                params.append(term)
        # Walk newest first and stop at the limit; then fetch the hits' text for snippets.
        found = conn.execute(
            f"SELECT {_COLUMNS}, f.rowid FROM {_NEWEST_FIRST} CROSS JOIN texts t "
            f"ON t.rowid = f.rowid WHERE {' AND '.join(where)} {_ORDER} LIMIT ?",
            (*params, limit),
        ).fetchall()
        if not found:
            return []
        rowids = [row[-1] for row in found]
        texts = dict(
            conn.execute(
                f"SELECT rowid, text FROM texts WHERE rowid IN ({', '.join('?' * len(rowids))})",
                rowids,
            ).fetchall()
        )
        summaries = self._mark_shared_ids(conn, [self._summary(row[:-1]) for row in found])
        hits: list[SearchHit] = []
        for row, summary in zip(found, summaries, strict=True):
            parts = texts.get(row[-1], "").split(SEPARATOR)
            snippet, found_in, index = find_snippet(parts, terms)
            hits.append(
                SearchHit(
                    summary,
                    snippet,
                    "message" if found_in == "message" else "title",
                    index,
                )
            )
        return hits

    @staticmethod
    def _mark_shared_ids(
        conn: sqlite3.Connection, summaries: list[SessionSummary]
    ) -> list[SessionSummary]:
        """``summaries`` with :attr:`~SessionSummary.same_id_as` filled in for every session
        whose id another file holds too (one grouped query over the id index)."""
        if not summaries:
            return summaries
        shared: dict[str, list[str]] = {}
        for session_id, name in conn.execute(
            "SELECT id, name FROM files WHERE error IS NULL AND id IN (SELECT id FROM files "
            "WHERE error IS NULL GROUP BY id HAVING count(*) > 1) ORDER BY name"
        ):
            shared.setdefault(session_id, []).append(name)
        if not shared:
            return summaries
        return [
            replace(s, same_id_as=tuple(n for n in shared[s.id] if n != s.name))
            if s.error is None and s.id in shared
            else s
            for s in summaries
        ]

    def _summary(self, row: Sequence[Any]) -> SessionSummary:
        (
            name,
            _mtime,
            _size,
            _inode,
            session_id,
            title,
            created,
            updated,
            _key,
            model,
            provider,
            count,
            tokens,
            estimated,
            fmt,
            read_only,
            error,
        ) = row
        return SessionSummary(
            id=session_id,
            title=title,
            created_at=datetime.fromisoformat(created),
            updated_at=datetime.fromisoformat(updated),
            model=model,
            provider=provider,
            message_count=count,
            tokens=tokens,
            tokens_estimated=bool(estimated),
            folder=self.folder,
            name=name,
            format=cast(SessionFormat, fmt if fmt in ("toml", "json") else "toml"),
            read_only=bool(read_only),
            error=error,
        )

    def names(self) -> Iterator[str]:
        """Every indexed file name (for tests and diagnostics)."""
        rows = self._run(lambda conn: conn.execute("SELECT name FROM files").fetchall())
        return (name for (name,) in rows)


def _code(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code of an error (None for errors raised by this module)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _busy_error() -> StoreError:
    return StoreError("The session index is busy (another glmtui is updating it); try again.")
