"""Keeping the open conversation on disk: save before sending, checkpoint while streaming.

The chat screen calls :meth:`SessionKeeper.save` at every point where losing the session would
lose words: after the user sends (before the request goes out), every few seconds while a reply
streams, and when it ends, fails or is stopped. A failed save (disk full, read-only folder) is
reported once and retried at the next save; the session stays in memory either way.

The keeper remembers the *file* each session id was opened from or first saved to, and always
saves there: another file holding the same id (a copy made outside glmtui) is never written,
whatever else the store has loaded meanwhile.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from glmtui.domain import Session

if TYPE_CHECKING:
    from glmtui.store import SessionConflict, SessionStore
    from glmtui.store.records import FileStamp


def snapshot(session: Session) -> Session:
    """A copy that later edits of ``session`` cannot change (texts are immutable strings)."""
    return replace(session, messages=[replace(message) for message in session.messages])


@dataclass(frozen=True)
class Conflict:
    """The session's file was changed or deleted by someone else; ours went to a copy."""

    message: str
    """What happened, in one line."""
    deleted: bool
    """The file is gone (rather than changed)."""
    original_id: str
    original_title: str
    copy_id: str
    copy_title: str


class SessionKeeper:
    """Saves one session through the store, in order, reporting failures without raising.

    Args:
        store: Gives the store where sessions live, or None (nothing is saved). Called when
            first needed, so the store's imports stay out of startup.
        on_error: Called with a one-line message when a save fails (not repeated while the
            same problem persists).
        on_saved: Called after a save succeeds (e.g. to clear an "unsaved" marker).
        on_conflict: Called with a :class:`Conflict` when the file was changed or deleted by
            another program. The conversation has then been saved as a copy, so both versions
            are on disk; :meth:`use_mine` and :meth:`discard_copy` carry out the user's choice.
    """

    def __init__(
        self,
        store: Callable[[], SessionStore | None],
        *,
        on_error: Callable[[str], None],
        on_saved: Callable[[], None] = lambda: None,
        on_conflict: Callable[[Conflict], None] | None = None,
    ) -> None:
        self._store = store
        self._on_error = on_error
        self._on_saved = on_saved
        self._on_conflict = on_conflict or (lambda conflict: on_error(conflict.message))
        self._write_lock = threading.Lock()
        self._sequence = itertools.count(1)
        self._written = 0
        """Sequence number of the newest snapshot on disk: an older one is never written
        after it (a checkpoint thread finishing late cannot undo the final save)."""
        self._stamp: FileStamp | None = None
        self._files: dict[str, Path] = {}
        """The file each session id this keeper saves lives in (the open session's, and the
        copy's after a conflict): saves go there and nowhere else."""
        self._last_error = ""
        self._conflict: SessionConflict | None = None
        self.unsaved = False
        """True while the latest changes are only in memory (the last save failed)."""

    @property
    def store(self) -> SessionStore | None:
        """The store (opened on first use)."""
        return self._store()

    def adopt(self, session: Session) -> None:
        """Track a session opened from disk: later saves go to the file it was loaded from
        and refuse to overwrite outside changes."""
        store = self.store
        path = store.path_of(session.id) if store is not None else None
        self._files = {session.id: path} if path is not None else {}
        self._stamp = store.stamp(path) if store is not None and path is not None else None

    def path_of(self, session_id: str) -> Path | None:
        """The file this keeper last saved (or adopted) ``session_id`` in, if any."""
        return self._files.get(session_id)

    def save_now(self, session: Session) -> bool:
        """Save synchronously (a few milliseconds): before a request, at the end of a reply."""
        if self.store is None or session.read_only or not session.messages:
            return True
        return self._settle(session, *self._write(session, next(self._sequence)))

    async def save_soon(self, session: Session) -> bool:
        """Save a snapshot in a thread, so a checkpoint never stalls a frame."""
        if self.store is None or session.read_only or not session.messages:
            return True
        outcome = await asyncio.to_thread(self._write, snapshot(session), next(self._sequence))
        return self._settle(session, *outcome)

    def _write(
        self, session: Session, sequence: int
    ) -> tuple[Literal["ok", "error", "conflict"], str]:
        """Write (may run in a thread: no UI calls here). Returns the outcome and message."""
        from glmtui.store import SessionConflict, StoreError

        store = self.store
        assert store is not None
        with self._write_lock:
            if sequence < self._written:
                return "ok", ""  # a newer snapshot is already on disk
            try:
                path = store.save(session, expected=self._stamp, path=self._files.get(session.id))
            except SessionConflict as conflict:
                self._conflict = conflict
                return "conflict", str(conflict)
            except StoreError as error:
                return "error", str(error)
            self._written = sequence
            self._files[session.id] = path
            self._stamp = store.stamp(path)
        return "ok", ""

    def _settle(
        self, session: Session, outcome: Literal["ok", "error", "conflict"], message: str
    ) -> bool:
        """Report an outcome (on the UI's thread)."""
        if outcome == "conflict":
            return self._fork_after_conflict(session, message)
        if outcome == "error":
            self._failed(message)
            return False
        self._succeeded()
        return True

    def _failed(self, message: str) -> None:
        self.unsaved = True
        if message != self._last_error:
            self._last_error = message
            self._on_error(f"{message} The conversation is kept in memory; saving retries.")

    def _succeeded(self) -> None:
        self._last_error = ""
        if self.unsaved:
            self.unsaved = False
            self._on_saved()

    def _fork_after_conflict(self, session: Session, message: str) -> bool:
        """Another program changed or deleted the file: keep its version, save ours as a copy.

        Nothing is overwritten and nothing is lost; the user is then asked what to keep.
        """
        from glmtui.domain import new_id
        from glmtui.store import StoreError

        store = self.store
        assert store is not None
        deleted = self._conflict is not None and self._conflict.deleted
        original_id, original_title = session.id, session.title
        session.id = new_id()
        session.title = f"{session.title or 'Untitled'} (copy)"
        try:
            path = store.save(session)
        except StoreError as error:
            session.id, session.title = original_id, original_title
            self._failed(str(error))
            return False
        self._files[session.id] = path
        self._stamp = store.stamp(path)
        self._succeeded()
        self._on_conflict(
            Conflict(message, deleted, original_id, original_title, session.id, session.title)
        )
        return True

    def use_mine(self, session: Session, conflict: Conflict) -> bool:
        """Write this conversation over the other version (or again, if it was deleted).

        The copy made when the conflict was found is removed: its content is what is written.
        """
        from glmtui.store import StoreError

        store = self.store
        if store is None:
            return False
        copy_id = session.id
        session.id, session.title = conflict.original_id, conflict.original_title
        with self._write_lock:
            try:
                path = store.save(session, path=self._files.get(session.id))
            except StoreError as error:
                session.id, session.title = copy_id, conflict.copy_title
                self._failed(str(error))
                return False
            self._written = next(self._sequence)  # checkpoints of the copy still queued: skip
            self._files[session.id] = path
            self._stamp = store.stamp(path)
        self._remove(copy_id)
        self._succeeded()
        return True

    def discard_copy(self, conflict: Conflict) -> None:
        """Move the copy to the trash (the user chose the other version, or to close it)."""
        from glmtui.store import StoreError

        store = self.store
        if store is not None:
            try:
                store.delete(self._file_or_id(conflict.copy_id))
            except StoreError as error:
                self._on_error(str(error))

    def _file_or_id(self, session_id: str) -> Path | str:
        """The file this keeper saved ``session_id`` to (forgotten now), else the id."""
        path = self._files.pop(session_id, None)
        return path if path is not None else session_id

    def _remove(self, session_id: str) -> None:
        """Delete a file this keeper wrote and no longer needs (not via the trash)."""
        from glmtui.store import StoreError

        store = self.store
        if store is None:
            return
        try:
            token = store.delete(self._file_or_id(session_id))
        except StoreError:
            return  # a leftover copy is harmless; it holds nothing that is not saved
        token.trashed.unlink(missing_ok=True)
