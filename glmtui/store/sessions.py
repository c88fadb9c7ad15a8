"""SessionStore: every conversation as one plain file the user owns, saved so no word is lost.

Files live in ``<data dir>/sessions/`` as ``<YYYYMMDD-HHMMSS>-<slug>.<toml|json>`` (creation time
in UTC, slug from the title at the first save), with a stable ``id`` inside. A session keeps its
file for life, even after a rename, so sync tools and ``git`` see one file change, not a move.

Why it is shaped this way:

- Writes are atomic (temp file, fsync, ``os.replace`` via :mod:`glmtui.fileio`): a crash or a
  ``kill -9`` leaves the old file or the new one, never a torn one. A failed write (disk full,
  read-only folder) raises :class:`StoreError` with a one-line message and leaves the old file.
- A new file's name is claimed atomically (the finished temp file is hard-linked to the name,
  which fails instead of overwriting): two processes saving in the same second with the same
  title get two files, ``…-same.toml`` and ``…-same-2.toml``, and no save reports a file it did
  not keep. Moves to and from the trash never overwrite either.
- Conversations are private: session files and their temp files are created 0600 (a file that
  was wider becomes 0600 when rewritten), the folders the store creates 0700, the index 0600.
- Binary attachments (images, PDFs) are stored once each, by content hash, in
  ``<data dir>/attachments/<2 hex digits>/<sha256>.bin`` (atomic writes, 0600 files, 0700
  folders); the session file names them by hash. A session whose attachment is gone still
  opens (:attr:`OpenedSession.notice` says which); only sending it on needs the content.
- No key goes in: the store is given the secrets to mask (``secrets=``, or the settings' API
  key via :meth:`SessionStore.from_settings`), and every write and export masks each occurrence
  (an echoing proxy can send the key back in a reply; see :mod:`glmtui.store.redact`).
- Ids are meant to be unique, but a copied file, a sync tool's conflict copy or a restored backup
  holds the same id as its original. Such files are listed side by side, marked
  (:attr:`SessionSummary.same_id_as`); an id that names several files is refused
  (:class:`AmbiguousSession`) rather than guessed, every operation also takes the file's path,
  and opening such a file (:meth:`SessionStore.open_session`) gives it an id of its own.
- A file that does not parse is listed with its reason and never touched; nothing here
  rewrites, renames or deletes a file the user did not ask about.
- Listing and searching go through :class:`~glmtui.store.index.SessionIndex`, a cache keyed on
  each file's name and stamp, so a browser over 10,000 sessions opens without parsing them.
- Everything is synchronous and fast enough to call from the UI thread for single sessions; a
  cold index build over thousands of files should run in a worker (``refresh(progress=…)``).
  The store is safe to share between threads.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Final, Protocol

from glmtui import paths
from glmtui.domain import Message, Session, new_id, utc_now
from glmtui.fileio import (
    PRIVATE_FILE,
    PRIVATE_FOLDER,
    atomic_write_bytes,
    make_folder,
    move_to_new_name,
    write_new_file,
)
from glmtui.store.codecs import (
    SHA256,
    SessionFormat,
    decode_session,
    encode_session,
    format_for_path,
    sniff_format,
)
from glmtui.store.errors import (
    AmbiguousSession,
    SessionConflict,
    SessionFileError,
    SessionNotFound,
    StoreError,
    describe_os_error,
)
from glmtui.store.export import ExportFormat, export_session
from glmtui.store.index import (
    INDEX_FILE,
    Progress,
    SessionIndex,
    is_session_file_name,
    session_parts,
)
from glmtui.store.records import (
    DeletedSession,
    FileStamp,
    OpenedSession,
    RefreshReport,
    SearchHit,
    SessionSummary,
    summarize,
)
from glmtui.store.redact import MASK, mask_text, redact_session, usable_secrets


class StoreSettings(Protocol):
    """What the store takes from the resolved settings (:class:`glmtui.config.Settings`).

    A protocol, so the store sits below the config layer and never imports it.
    """

    @property
    def data_dir(self) -> Path: ...

    @property
    def session_format(self) -> str: ...

    @property
    def api_key(self) -> str:
        """Masked wherever it appears in what the store writes."""
        ...


SLUG_LENGTH: Final = 40
"""Longest slug in a file name (the title itself is unlimited inside the file)."""

MAX_FILE_SIZE: Final = 256 * 1024 * 1024
"""Files larger than this are listed as unreadable rather than read into memory."""

TEMP_MAX_AGE: Final = 3600.0
"""Seconds after which a leftover temp file (from a crash mid-save) is removed."""

_TEMP_NAME: Final = re.compile(r"^\..+\.(?:toml|json)\.[A-Za-z0-9_]+\.tmp$")
"""Names of the temp files :func:`glmtui.fileio.atomic_write_bytes` creates for sessions."""

FRESH_FOR: Final = 2.0
"""Seconds a search trusts the index without re-scanning the folder (typing stays instant)."""


def slugify(title: str) -> str:
    """An ASCII file-name slug of at most :data:`SLUG_LENGTH` characters; ``untitled`` if empty.

    Accents are stripped (``Café`` → ``cafe``), everything else outside ``[a-z0-9]`` becomes a
    hyphen, so names are safe on every file system and in every shell.
    """
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_LENGTH].rstrip("-") or "untitled"


def session_file_name(created_at: datetime, slug: str, fmt: SessionFormat) -> str:
    """``<YYYYMMDD-HHMMSS>-<slug>.<fmt>``, the time in UTC (naive times are taken as UTC)."""
    when = created_at.replace(tzinfo=UTC) if created_at.tzinfo is None else created_at
    return f"{when.astimezone(UTC):%Y%m%d-%H%M%S}-{slug}.{fmt}"


def _read_bytes(path: Path) -> tuple[FileStamp, bytes]:
    """The bytes of a regular file and the stamp of exactly those bytes (``fstat`` of the fd).

    Raises:
        FileNotFoundError: the file is gone.
        SessionFileError: it is not a regular file, too large, or unreadable.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise SessionFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    info = os.fstat(fd)  # before fdopen, which refuses a folder with its own error
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise SessionFileError(path, f"cannot be read (it is {what})")
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > MAX_FILE_SIZE:
            raise SessionFileError(path, f"too large to be a session ({info.st_size / 1e6:.0f} MB)")
        try:
            data = handle.read()
        except OSError as exc:
            raise SessionFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    return FileStamp.of(info), data


def _stamp_of(path: Path) -> FileStamp | None:
    try:
        return FileStamp.of(os.stat(path))
    except OSError:
        return None


MAX_NAME_TRIES: Final = 100_000
"""How many numbered names (``-2``, ``-3`` …) a new file may try before giving up."""


def _numbered(path: Path) -> Iterator[Path]:
    """``path``, then ``path`` with ``-2``, ``-3`` … before the extension: the names a new
    file tries in turn (the first one free is claimed atomically)."""
    yield path
    for number in range(2, MAX_NAME_TRIES):
        yield path.with_name(f"{path.stem}-{number}{path.suffix}")


def _copy_messages(messages: list[Message]) -> list[Message]:
    """Copies with fresh ids; a reply still streaming is copied as interrupted.

    A summary's ``summary_of`` is given the new ids of the messages it names; a compacted
    message whose summary is not in the copy (a fork from before the summary) is compacted no
    more, so the copy's requests carry it again.
    """
    fresh = [new_id() for _ in messages]
    renamed: dict[str, str] = {}
    for message, new in zip(messages, fresh, strict=True):
        renamed.setdefault(message.id, new)
    summarised = {old for message in messages for old in message.summary_of}
    return [
        replace(
            m,
            id=new,
            status="interrupted" if m.status == "streaming" else m.status,
            summary_of=tuple(renamed.get(old, old) for old in m.summary_of),
            compacted=m.compacted and m.id in summarised,
        )
        for m, new in zip(messages, fresh, strict=True)
    ]


def _one_line(title: str) -> str:
    return " ".join(title.split())


class SessionStore:
    """Sessions on disk: save, load, list, search, rename, copy, delete with undo, export, import.

    Every method that names a session takes its id, a unique prefix of it, or its file's path;
    pass the path (e.g. :attr:`SessionSummary.path`) when acting on a row a user chose, so a file
    that shares its id with a copy is never mistaken for the copy.

    Args:
        data_dir: glmtui's data folder; sessions go in ``sessions/``, deleted ones in ``trash/``
            and the index in ``cache/``.
        session_format: The format of new session files (existing files keep theirs).
        disk_index: Keep the index in ``cache/`` (False: in memory, rebuilt per process).
        secrets: Texts never to write (the API key): every occurrence in a saved session or an
            export is masked. Short placeholders (under
            :data:`~glmtui.store.redact.MIN_SECRET_LENGTH` characters) are ignored.
    """

    def __init__(
        self,
        data_dir: Path,
        session_format: SessionFormat = "toml",
        *,
        disk_index: bool = True,
        secrets: Iterable[str] = (),
    ) -> None:
        self.data_dir = data_dir
        self.folder = paths.sessions_dir(data_dir)
        """Where the session files are."""
        self.trash_folder = data_dir / "trash"
        """Where deleted session files go (until the user empties it)."""
        self.blob_folder = data_dir / "attachments"
        """Where binary attachments are stored, once each, by content hash."""
        self.session_format: SessionFormat = session_format
        self.index = SessionIndex(
            self.folder, paths.cache_dir(data_dir) / INDEX_FILE if disk_index else None
        )
        """The listing and search cache (rebuildable; the files are the truth)."""
        self._secrets = usable_secrets(secrets)
        self._paths: dict[str, Path] = {}
        """The file this store last loaded or saved for each id (where a save without a path
        goes)."""
        self._stamps: dict[Path, FileStamp] = {}
        """Each file's stamp when this store last read or wrote it."""
        self._lock = threading.RLock()
        self._dirty = True
        self._refreshed_at = float("-inf")
        self._swept = False

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> SessionStore:
        """The store for the resolved settings: data dir, ``session_format``, and the API key
        as the secret to mask."""
        fmt: SessionFormat = "json" if settings.session_format == "json" else "toml"
        return cls(settings.data_dir, fmt, secrets=(settings.api_key,))

    def add_secret(self, secret: str) -> None:
        """Mask ``secret`` too from now on (a key entered or switched to while running)."""
        with self._lock:
            self._secrets = usable_secrets((*self._secrets, secret))

    def close(self) -> None:
        """Close the index (it reopens on next use)."""
        self.index.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- attachments -------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        """The file a binary attachment with this content hash is stored in (whether or not
        it is there)."""
        return self.blob_folder / sha256[:2] / f"{sha256}.bin"

    def put_blob(self, data: bytes) -> str:
        """Store a binary attachment's bytes (once: the same content is one file) and return
        their content hash, which the session file names it by.

        Raises:
            StoreError: the write failed (disk full, read-only folder …); nothing was stored.
        """
        digest = hashlib.sha256(data).hexdigest()
        path = self.blob_path(digest)
        with contextlib.suppress(OSError):
            if os.stat(path).st_size == len(data):
                return digest  # stored before (writes are atomic: it is whole)
        try:
            make_folder(self.blob_folder, PRIVATE_FOLDER)
            atomic_write_bytes(path, data, mode=PRIVATE_FILE, folder_mode=PRIVATE_FOLDER)
        except OSError as exc:
            raise StoreError(describe_os_error(exc, "store the attachment", path)) from exc
        return digest

    def read_blob(self, sha256: str) -> bytes:
        """A stored binary attachment's bytes.

        Raises:
            FileNotFoundError: nothing is stored under this hash (deleted, or not a hash).
            OSError: it cannot be read, or its content no longer has this hash (damaged).
        """
        if not SHA256.fullmatch(sha256):
            raise FileNotFoundError(errno.ENOENT, "not a stored attachment", sha256)
        path = self.blob_path(sha256)
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise OSError(errno.EIO, "the stored attachment is damaged", str(path))
        return data

    def has_blob(self, sha256: str) -> bool:
        """Whether a binary attachment with this content hash is stored."""
        return bool(SHA256.fullmatch(sha256)) and self.blob_path(sha256).is_file()

    def missing_attachments(self, session: Session) -> tuple[str, ...]:
        """Names of the session's binary attachments whose content is not stored (each
        once, in order)."""
        missing = (
            attachment.name
            for message in session.messages
            for attachment in message.attachments
            if attachment.binary and not self.has_blob(attachment.sha256)
        )
        return tuple(dict.fromkeys(missing))

    # --- saving and loading ----------------------------------------------------------------

    def save(
        self, session: Session, *, expected: FileStamp | None = None, path: Path | None = None
    ) -> Path:
        """Write ``session`` to its file atomically and return the file's path.

        The first save claims a new file name (never another file's); later saves (and saves
        after a rename) go to the same file. The file holds no key: the store's secrets are
        masked. Safe to call often (checkpoints while streaming).

        Args:
            session: The session to write.
            expected: When given, the stamp the file had when it was loaded (see :meth:`stamp`);
                if the file has changed since, nothing is written and SessionConflict is raised.
            path: The file to write (the one the session was opened from). Without it, the
                file this store last used for the session's id, else the one holding that id,
                else a new one.

        Raises:
            SessionConflict: ``expected`` was given and the file changed on disk.
            AmbiguousSession: no ``path`` was given, this store has not seen the session, and
                several files hold its id.
            StoreError: the session is read-only, or the write failed (disk full, read-only
                folder, no permission …); the old file is intact and ``session`` unchanged.
        """
        if session.read_only:
            raise StoreError(
                f"'{session.title or 'Untitled'}' was saved by a newer glmtui and is open "
                "read-only; duplicate it to keep working on a copy."
            )
        with self._lock:
            stored = redact_session(session, self._secrets)
            target = path if path is not None else self._path_for(session)
            fmt = (format_for_path(target) if target else None) or self.session_format
            data = encode_session(stored, fmt)
            if expected is not None:
                current = _stamp_of(target) if target is not None else None
                if current != expected:
                    raise SessionConflict(target or self.folder, deleted=current is None)
            if target is None:
                name = session_file_name(session.created_at, slugify(stored.title), fmt)
                target = self._write_new(self.folder / name, data, "save")
            else:
                target = self._write(target, data, "save")
            written = _stamp_of(target)
            if path is None or self._paths.get(session.id) in (None, target):
                self._paths[session.id] = target
            if written is not None:
                self._stamps[target] = written
            self._dirty = True
            return target

    def _write(self, target: Path, data: bytes, action: str) -> Path:
        """Replace the session's file ``target``; if it is gone, create it again (or, if its
        name was taken meanwhile, the next free numbered name).

        Returns:
            The file written.

        Raises:
            StoreError: the write failed; nothing changed on disk.
        """
        if not os.path.lexists(target):
            return self._write_new(target, data, action)
        try:
            atomic_write_bytes(target, data, mode=PRIVATE_FILE, folder_mode=PRIVATE_FOLDER)
        except OSError as exc:
            raise StoreError(describe_os_error(exc, action, target)) from exc
        return target

    def _write_new(self, target: Path, data: bytes, action: str) -> Path:
        """Create a new file: ``target``, or ``target-2`` … when taken (claimed atomically, so
        no other file is ever replaced, whoever else is saving at the same moment).

        Raises:
            StoreError: the write failed; nothing is left on disk.
        """
        try:
            return write_new_file(_numbered(target), data)
        except OSError as exc:
            raise StoreError(describe_os_error(exc, action, target)) from exc

    def load(self, ref: str | Path) -> Session:
        """Read a session by id, unique id prefix, or file path.

        Returns:
            The session; ``read_only`` is set when a newer glmtui wrote it.

        Raises:
            SessionFileError: the file does not hold a valid session (reason in one line).
            AmbiguousSession: the id or prefix names several files.
            StoreError: no session matches ``ref``, or the file is gone.
        """
        with self._lock:
            session, path, stamp = self._read(ref)
            if self._in_folder(path):
                self._paths[session.id] = path
                self._stamps[path] = stamp
            return session

    def open_session(self, ref: str | Path) -> OpenedSession:
        """Load a session to continue it, making sure its id is its own.

        When another file in the session folder holds the same id (a copy made outside
        glmtui), the opened file gets a fresh id, written to that same file, so that saving,
        renaming or deleting it can never reach the other file. A file from outside the folder
        whose id is already in the store gets a fresh id in memory only (its first save is a
        new file in the store). A read-only session (from a newer glmtui) keeps its id.

        Returns:
            The session, its file, what was done, and which attachments' content is missing
            (see :attr:`OpenedSession.notice`).

        Raises:
            SessionFileError: the file does not hold a valid session.
            AmbiguousSession: ``ref`` is an id or prefix that names several files.
            StoreError: nothing matches, or the new id could not be written.
        """
        with self._lock:
            session, path, stamp = self._read(ref)
            inside = self._in_folder(path)
            others = tuple(p for p in self.files_with_id(session.id) if p != path)
            missing = self.missing_attachments(session)
            if not others or session.read_only:
                if inside:
                    self._paths[session.id] = path
                    self._stamps[path] = stamp
                return OpenedSession(
                    session,
                    path,
                    same_id_as=tuple(p.name for p in others),
                    missing_attachments=missing,
                )
            previous = session.id
            session.id = new_id()
            if inside:
                try:
                    self.save(session, expected=stamp, path=path)
                except StoreError:
                    session.id = previous
                    raise
                if self._paths.get(previous) == path:
                    del self._paths[previous]  # that id lives only in the other files now
            return OpenedSession(
                session,
                path,
                previous_id=previous,
                same_id_as=tuple(p.name for p in others),
                missing_attachments=missing,
            )

    def files_with_id(self, session_id: str) -> list[Path]:
        """Every readable file in the folder holding a session with exactly this id, as the
        folder is now (newest first). More than one means copies (see
        :attr:`SessionSummary.same_id_as`)."""
        found = self.index.by_id(session_id, read=self._index_entry)
        self._mark_fresh()
        return [summary.path for summary in found]

    def path_of(self, session_id: str) -> Path | None:
        """The file a session was last loaded from or saved to by this store, if any."""
        return self._paths.get(session_id)

    def stamp(self, ref: str | Path) -> FileStamp | None:
        """A file's stamp when this store last loaded or saved it (by the file's path, or by
        the session id, meaning :meth:`path_of` that id).

        Pass it back as ``save(session, expected=…)`` to refuse overwriting outside changes.
        """
        path = ref if isinstance(ref, Path) else self._paths.get(ref)
        return self._stamps.get(path) if path is not None else None

    def changed_on_disk(self, ref: str | Path) -> bool:
        """True when the session's file changed (or vanished) since this store read or wrote
        it (by path, or by session id as in :meth:`stamp`)."""
        path = ref if isinstance(ref, Path) else self._paths.get(ref)
        known = self._stamps.get(path) if path is not None else None
        if path is None or known is None:
            return False
        return _stamp_of(path) != known

    # --- listing and searching -------------------------------------------------------------

    def list_sessions(self, *, refresh: bool = True) -> list[SessionSummary]:
        """Every session file, most recently updated first; unreadable ones with their reason.

        Brings the index up to date first (unless ``refresh`` is False, e.g. right after
        :meth:`refresh`): a ``scandir`` plus a ``stat`` per file, parsing only files that are
        new or changed since the last call. While :meth:`refresh` runs in another thread (a
        first, cold build), answers at once from what is indexed so far.
        """
        self._sweep_temp_files()
        if not refresh:
            return self.index.summaries()
        items = self.index.summaries(read=self._index_entry)
        self._mark_fresh()
        return items

    def refresh(self, progress: Progress | None = None) -> RefreshReport:
        """Bring the index up to date now; ``progress(done, total)`` is called while parsing.

        Worth calling in a worker at start-up: the first run over a large folder parses every
        file once (seconds for thousands of sessions); afterwards it takes milliseconds.
        """
        report = self.index.refresh(self._index_entry, progress)
        self._mark_fresh()
        return report

    def search(self, text: str, limit: int = 200) -> list[SearchHit]:
        """Sessions whose title or message text contain every word of ``text``, newest first.

        Case-insensitive substring search (``lifetim`` finds "Lifetimes"; Unicode-aware), fast
        enough to run on every keystroke (tens of milliseconds over 10,000 sessions). Tool
        results and the names and arguments of tool calls are searched like message text;
        reasoning and system prompts are not. Each hit carries a one-line snippet around the
        first match. The folder is re-scanned at most every :data:`FRESH_FOR` seconds, and
        always after this store wrote something.
        """
        read = self._index_entry if self._needs_refresh() else None
        hits = self.index.search(text, limit, read=read)
        if read is not None:
            self._mark_fresh()
        return hits

    def resolve(self, ref: str) -> SessionSummary:
        """The readable session whose id is ``ref`` or starts with ``ref``.

        Raises:
            AmbiguousSession: the id is in several files (copies), or the prefix matches
                several sessions; the error names the files.
            SessionNotFound: no session matches.
        """
        ref = ref.strip()
        if not ref:
            raise StoreError("No session id given.")
        # Always against the folder as it is now (a scandir and a stat per file): a copy made
        # a moment ago must make its id ambiguous, not be missed for a few seconds.
        found = self.index.by_id(ref, read=self._index_entry) or self.index.by_id(ref, prefix=True)
        self._mark_fresh()
        if found:
            if len(found) == 1:
                return found[0]
            ids = list(dict.fromkeys(s.id for s in found))
            titles = {s.id: s.title or "Untitled" for s in reversed(found)}
            raise AmbiguousSession(
                ids[0] if len(ids) == 1 else ref,
                [s.path for s in found],
                same_id=len(ids) == 1,
                labels=[f"{i[:12]} ({titles[i]})" for i in ids],
            )
        raise SessionNotFound(f"No session with id '{ref}' (see 'glmtui sessions list').")

    # --- editing ---------------------------------------------------------------------------

    def rename(self, ref: Session | str | Path, title: str) -> Session:
        """Give a session a new title (one line) and save it; the file name does not change.

        Pass the open :class:`Session` when there is one, so the screen showing it and the file
        agree; a string or path is resolved like :meth:`load`, and that file is the one written.

        Raises:
            StoreError: the title is empty, the session is read-only, or saving failed.
        """
        title = _one_line(title)
        if not title:
            raise StoreError("A title cannot be empty.")
        with self._lock:
            path: Path | None = None
            expected: FileStamp | None = None
            if isinstance(ref, Session):
                session = ref
            else:
                session, path, expected = self._read(ref)
            previous = session.title
            session.title = title
            try:
                self.save(session, path=path, expected=expected)
            except StoreError:
                session.title = previous
                raise
            return session

    def duplicate(self, ref: Session | str | Path) -> Session:
        """Save and return a copy of a session under a new id, titled "… (copy)"."""
        source = ref if isinstance(ref, Session) else self._read(ref)[0]
        return self._save_copy(source, source.messages, "copy")

    def fork(self, ref: Session | str | Path, upto_index: int) -> Session:
        """Save and return a new session holding messages ``0 … upto_index`` (inclusive).

        "Fork from this message": the conversation up to and including that message, under a
        new id and titled "… (fork)", to continue in another direction.

        Raises:
            IndexError: ``upto_index`` is not the index of a message.
        """
        source = ref if isinstance(ref, Session) else self._read(ref)[0]
        if not 0 <= upto_index < len(source.messages):
            raise IndexError(
                f"message index {upto_index} is out of range (0–{len(source.messages) - 1})"
            )
        return self._save_copy(source, source.messages[: upto_index + 1], "fork")

    def _save_copy(self, source: Session, messages: list[Message], label: str) -> Session:
        now = utc_now()
        copy = Session(
            id=new_id(),
            title=f"{source.title or 'Untitled'} ({label})",
            created_at=now,
            updated_at=now,
            model=source.model,
            provider=source.provider,
            base_url=source.base_url,
            system_prompt=source.system_prompt,
            parameters=source.parameters,
            messages=_copy_messages(messages),
        )
        self.save(copy)
        return copy

    def delete(self, ref: Session | str | Path) -> DeletedSession:
        """Move a session's file (or an unreadable file, by path) to the trash folder.

        A :class:`Session` means the file this store last loaded or saved it from.

        Returns:
            The token for :meth:`undo_delete`.

        Raises:
            AmbiguousSession: an id that names several files (give the path).
            StoreError: nothing matches, the file is outside the sessions folder, or the move
                failed (the file is then where it was).
        """
        with self._lock:
            if isinstance(ref, Session):
                ref = self._paths.get(ref.id) or ref.id
            path = self._locate(ref)
            if not self._in_folder(path):
                raise StoreError(f"{path} is not in the session folder; not deleted.")
            session_id, title = "", path.name
            with contextlib.suppress(StoreError, FileNotFoundError):
                _, data = _read_bytes(path)
                session = decode_session(data, path=path)
                session_id, title = session.id, session.title or "Untitled"
            try:
                make_folder(self.trash_folder, PRIVATE_FOLDER)
                target = move_to_new_name(path, _numbered(self.trash_folder / path.name))
            except OSError as exc:
                raise StoreError(describe_os_error(exc, "delete", path)) from exc
            if session_id and self._paths.get(session_id) == path:
                del self._paths[session_id]
            self._stamps.pop(path, None)
            self._dirty = True
            return DeletedSession(session_id, title, path, target)

    def undo_delete(self, token: DeletedSession) -> Path:
        """Put a deleted file back (under a new name if its old one has been taken meanwhile).

        Raises:
            StoreError: the file is no longer in the trash, or moving it back failed.
        """
        with self._lock:
            if not os.path.lexists(token.trashed):
                raise StoreError(f"{token.trashed.name} is no longer in the trash.")
            try:
                make_folder(self.folder, PRIVATE_FOLDER)
                target = move_to_new_name(token.trashed, _numbered(token.original))
            except OSError as exc:
                raise StoreError(describe_os_error(exc, "restore", token.original)) from exc
            if token.session_id and token.session_id not in self._paths:
                self._paths[token.session_id] = target
            self._dirty = True
            return target

    # --- export and import -----------------------------------------------------------------

    def export(
        self, ref: Session | str | Path, fmt: ExportFormat = "md", *, brief: bool = False
    ) -> str:
        """A session as Markdown (front matter, one heading per message) or as JSON/TOML text.

        The store's secrets are masked, as in its files. ``brief``: Markdown with each tool
        call on one line and only the first lines of its result, for reading in a terminal
        (see :func:`~glmtui.store.export.session_to_markdown`).

        Raises:
            ValueError: unknown ``fmt``.
            AmbiguousSession: an id that names several files (give the path).
            StoreError: ``ref`` names no readable session.
        """
        session = ref if isinstance(ref, Session) else self._read(ref)[0]
        text = export_session(redact_session(session, self._secrets), fmt, brief=brief)
        return mask_text(text, self._secrets)

    def import_file(self, source: Path) -> Session:
        """Copy a session file from anywhere into the store and return the session.

        The copy keeps the source's format and gets a file name of its own. If a session with
        the same id is already in the store, the imported one gets a new id (a file from a
        newer glmtui is copied byte for byte, so it cannot be given a new id and is refused).
        The store's secrets are masked in the copy.

        Raises:
            SessionFileError: the file is not a valid session.
            StoreError: it cannot be read, or the copy cannot be written.
        """
        source = source.expanduser()
        try:
            _, data = _read_bytes(source)
        except FileNotFoundError:
            raise StoreError(f"{source} does not exist.") from None
        session = decode_session(data, path=source)
        if self._in_folder(source):
            return self.load(source)  # already in the store
        fmt = format_for_path(source) or sniff_format(data)
        with self._lock:
            taken = session.id in self._paths or bool(
                self.index.by_id(session.id, read=self._index_entry)
            )
            self._mark_fresh()
            if session.read_only:
                if taken:
                    raise StoreError(
                        f"{source.name} is from a newer glmtui and its session is already in "
                        "the store; not imported."
                    )
                payload = data
                for secret in self._secrets:
                    payload = payload.replace(secret.encode("utf-8"), MASK.encode("utf-8"))
            else:
                if taken:
                    session.id = new_id()
                payload = encode_session(redact_session(session, self._secrets), fmt)
            title = mask_text(session.title, self._secrets)
            name = session_file_name(session.created_at, slugify(title), fmt)
            target = self._write_new(self.folder / name, payload, "import")
            self._paths[session.id] = target
            stamp = _stamp_of(target)
            if stamp is not None:
                self._stamps[target] = stamp
            self._dirty = True
            return session

    # --- internals -------------------------------------------------------------------------

    def _sweep_temp_files(self) -> None:
        """Remove temp files a crash or kill left behind mid-save (ours, an hour old); once.

        They are never sessions (the real file was left intact), only wasted space.
        """
        if self._swept:
            return
        self._swept = True
        now = time.time()
        with contextlib.suppress(OSError), os.scandir(self.folder) as entries:
            for entry in entries:
                if not _TEMP_NAME.match(entry.name):
                    continue
                with contextlib.suppress(OSError):
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode) and now - info.st_mtime > TEMP_MAX_AGE:
                        os.unlink(entry.path)

    def _in_folder(self, path: Path) -> bool:
        try:
            return path.resolve().parent == self.folder.resolve()
        except OSError:
            return False

    def _needs_refresh(self) -> bool:
        return self._dirty or time.monotonic() - self._refreshed_at > FRESH_FOR

    def _mark_fresh(self) -> None:
        self._dirty = False
        self._refreshed_at = time.monotonic()

    def _locate(self, ref: str | Path) -> Path:
        """The file ``ref`` names: a path as given, else a session id or unique id prefix
        (looked up in the index every time: an id that names several files is refused)."""
        if isinstance(ref, Path):
            return ref.expanduser()
        if os.sep in ref or (os.altsep and os.altsep in ref) or format_for_path(Path(ref)):
            path = Path(ref).expanduser()
            if not path.exists() and not path.is_absolute() and (self.folder / path).exists():
                path = self.folder / path
            return path
        return self.resolve(ref).path

    def _read(self, ref: str | Path) -> tuple[Session, Path, FileStamp]:
        """The session ``ref`` names, its file, and the stamp of the bytes read.

        Raises:
            SessionFileError, AmbiguousSession, StoreError: as :meth:`load`.
        """
        path = self._locate(ref)
        try:
            stamp, data = _read_bytes(path)
        except FileNotFoundError:
            raise StoreError(f"{path.name} no longer exists.") from None
        return decode_session(data, path=path), path, stamp

    def _path_for(self, session: Session) -> Path | None:
        """The file ``session`` lives in, or None when it has none yet (a first save).

        A session this store has not seen may still have a file (saved by another store or
        process): the index is asked, then the few files whose name starts with the session's
        creation time (a file name never changes, and neither does ``created_at``).

        Raises:
            AmbiguousSession: several files hold the session's id; the caller must say which.
        """
        known = self._paths.get(session.id)
        if known is not None:
            return known
        found: list[Path] = []
        with contextlib.suppress(StoreError):
            found = [
                summary.path
                for summary in self.index.by_id(session.id, wait=False)
                if summary.path.exists()
            ]
            if len(found) > 1:  # the index may be behind (a copy given its own id since)
                found = [
                    summary.path
                    for summary in self.index.by_id(session.id, read=self._index_entry)
                    if summary.path.exists()
                ]
        if not found:
            prefix = session_file_name(session.created_at, "", self.session_format).split(".")[0]
            with contextlib.suppress(OSError), os.scandir(self.folder) as entries:
                for entry in entries:
                    if entry.name.startswith(prefix) and is_session_file_name(entry.name):
                        with contextlib.suppress(StoreError, OSError):
                            _, data = _read_bytes(Path(entry.path))
                            if decode_session(data, path=Path(entry.path)).id == session.id:
                                found.append(Path(entry.path))
        if len(found) > 1:
            raise AmbiguousSession(session.id, sorted(found), same_id=True)
        return found[0] if found else None

    def _index_entry(self, path: Path) -> tuple[FileStamp, SessionSummary, list[str]] | None:
        """Read one file for the index; never raises for a bad file (it is listed instead)."""
        fmt = format_for_path(path) or self.session_format
        try:
            stamp, data = _read_bytes(path)
            session = decode_session(data, path=path)
        except FileNotFoundError:
            return None
        except SessionFileError as exc:
            stamp_now = _stamp_of(path)
            return None if stamp_now is None else self._unreadable(path, stamp_now, fmt, exc.reason)
        except Exception as exc:  # one odd file must never break the browser
            stamp_now = _stamp_of(path)
            if stamp_now is None:
                return None
            reason = f"could not be read ({type(exc).__name__}: {exc})".splitlines()[0]
            return self._unreadable(path, stamp_now, fmt, reason)
        return stamp, summarize(session, path, fmt), session_parts(session)

    @staticmethod
    def _unreadable(
        path: Path, stamp: FileStamp, fmt: SessionFormat, reason: str
    ) -> tuple[FileStamp, SessionSummary, list[str]]:
        when = datetime.fromtimestamp(stamp.mtime_ns // 1_000_000_000, UTC)
        summary = SessionSummary(
            id="",
            title=path.name,
            created_at=when,
            updated_at=when,
            model="",
            provider="",
            message_count=0,
            tokens=0,
            tokens_estimated=False,
            folder=path.parent,
            name=path.name,
            format=fmt,
            error=reason,
        )
        return stamp, summary, []


__all__ = ["SessionStore", "session_file_name", "slugify"]
