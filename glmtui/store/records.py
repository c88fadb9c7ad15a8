"""Small immutable records the store hands out: summaries, search hits, file stamps, undo tokens.

They carry only what a list, a search result or an undo needs, so the browser can show 10,000
sessions without holding 10,000 conversations in memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from glmtui.domain import Session
from glmtui.domain.stats import estimate_conversation_tokens, estimate_tokens
from glmtui.store.codecs import SessionFormat


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What a file looked like when it was last read or written: enough to notice a change.

    An atomic save replaces the file (a new inode) and most edits change the size or the mtime,
    so comparing all three catches changes even within one mtime tick.
    """

    mtime_ns: int
    size: int
    inode: int

    @classmethod
    def of(cls, result: os.stat_result) -> FileStamp:
        """The stamp of a ``stat()`` result."""
        return cls(result.st_mtime_ns, result.st_size, result.st_ino)


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One row of the session browser: what a list or a search result shows, without messages.

    Unreadable files are listed too: ``error`` holds the one-line reason, ``id`` is empty and
    ``title`` is the file name. Such files are never modified by the store.
    """

    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    model: str
    provider: str
    message_count: int
    tokens: int
    """Sum of the replies' ``usage.total_tokens``, estimated from the text where missing."""
    tokens_estimated: bool
    """True when any part of ``tokens`` is an estimate (show it with a ``~``)."""
    folder: Path
    """The sessions folder the file is in."""
    name: str
    """The file's name (``path`` joins the two; kept apart so listing 10,000 is cheap)."""
    format: SessionFormat
    read_only: bool = False
    """The file is from a newer glmtui (higher ``schema_version``): open it read-only."""
    error: str | None = None
    """Why the file could not be read, or None when it is a valid session."""
    same_id_as: tuple[str, ...] = ()
    """Names of the other files in the folder that hold a session with this ``id`` (a copied
    file, a sync tool's conflict copy, a restored backup). Empty when the id is unique. Act on
    such a row by its :attr:`path`, never by its id; opening it gives it an id of its own."""

    @property
    def path(self) -> Path:
        """The session file."""
        return self.folder / self.name

    @property
    def readable(self) -> bool:
        """True for a valid session file (one that can be opened)."""
        return self.error is None

    @property
    def shares_id(self) -> bool:
        """True when another file in the folder holds a session with the same id."""
        return bool(self.same_id_as)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A session that matches a search, with a one-line snippet around the match."""

    summary: SessionSummary
    snippet: str
    """One line of text around the first match, ``…``-trimmed; the title when only it matched."""
    field: Literal["title", "message"]
    """Where the snippet comes from."""
    message_index: int | None = None
    """Index in ``Session.messages`` of the message the snippet is from, when known."""


@dataclass(frozen=True, slots=True)
class DeletedSession:
    """The undo token of a delete: where the file was and where it went in the trash."""

    session_id: str
    title: str
    original: Path
    trashed: Path


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """What :meth:`SessionStore.open_session` opened, and whether it had to change its id."""

    session: Session
    path: Path
    """The file it was read from (and is saved to)."""
    previous_id: str | None = None
    """The id the file had, when it shared it with another file and was given a new one."""
    same_id_as: tuple[str, ...] = ()
    """Names of the other files that held (or, for a read-only session, hold) the same id."""
    missing_attachments: tuple[str, ...] = ()
    """Names of binary attachments whose content is no longer in the data folder (the
    session opens and reads as before; a request that would carry them cannot be sent)."""

    @property
    def notice(self) -> str | None:
        """One line for the user when the id was shared or an attachment is missing, else
        None."""
        notes = [note for note in (self._shared_notice(), self._missing_notice()) if note]
        return " ".join(notes) if notes else None

    def _missing_notice(self) -> str | None:
        if not self.missing_attachments:
            return None
        names = ", ".join(self.missing_attachments[:3])
        if len(self.missing_attachments) > 3:
            names += f" and {len(self.missing_attachments) - 3} more"
        title = self.session.title or "Untitled"
        return (
            f"“{title}”: the content of {names} (attached earlier) is no longer in the data "
            "folder; the chat reads as before, but to send on, delete or edit the message it "
            "came with, or fork the chat from before it."
        )

    def _shared_notice(self) -> str | None:
        if not self.same_id_as:
            return None
        others = self.same_id_as[0] + (
            f" and {len(self.same_id_as) - 1} more" if len(self.same_id_as) > 1 else ""
        )
        title = self.session.title or "Untitled"
        if self.previous_id is None:
            return (
                f"“{title}” has the same id as {others} (a copy); it is open read-only, "
                "so its id is unchanged."
            )
        return (
            f"“{title}” had the same id as {others} (a copy); it now has an id of its own "
            f"({self.session.id[:8]}), so the two files are saved and deleted separately."
        )


@dataclass(frozen=True, slots=True)
class RefreshReport:
    """What an index refresh found: files new to the index, changed, gone, and the total."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    total: int = 0


def session_tokens(session: Session) -> tuple[int, bool]:
    """Tokens a session used and whether the number is (partly) an estimate.

    The sum of each reply's ``usage.total_tokens``; a reply without usage counts its text's
    estimate, and a session with no replies counts its prompt's estimate.
    """
    replies = [m for m in session.messages if m.role == "assistant"]
    if not replies:
        total = estimate_conversation_tokens(session.messages, session.system_prompt)
        return (total if session.messages else 0), bool(session.messages)
    total = 0
    estimated = False
    for reply in replies:
        if reply.usage is not None:
            total += reply.usage.total_tokens
            estimated = estimated or reply.usage.estimated
        else:
            total += estimate_tokens(reply.content) + estimate_tokens(reply.reasoning)
            estimated = True
    return total, estimated


def summarize(session: Session, path: Path, fmt: SessionFormat) -> SessionSummary:
    """The summary of a valid session stored at ``path``."""
    tokens, estimated = session_tokens(session)
    return SessionSummary(
        id=session.id,
        title=session.title,
        created_at=session.created_at,
        updated_at=session.updated_at,
        model=session.model,
        provider=session.provider,
        message_count=len(session.messages),
        tokens=tokens,
        tokens_estimated=estimated,
        folder=path.parent,
        name=path.name,
        format=fmt,
        read_only=session.read_only,
    )
