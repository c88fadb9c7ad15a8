"""The session store's exceptions, each carrying a one-line message meant for the user.

The UI and the CLI show these messages as they are (a toast, a line on stderr), so they name the
file or folder and say what went wrong in words, never as a traceback or an errno number.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from pathlib import Path


class StoreError(Exception):
    """Saving, loading or moving a session failed; ``str(error)`` is one line for the user.

    Whatever failed, the files on disk are as they were before the call (writes are atomic), and a
    session being saved is still in memory, so the caller can show the message and retry.
    """


class SessionFileError(StoreError):
    """A session file cannot be read or does not hold a valid session.

    Attributes:
        path: The file (``None`` when decoding bytes that came from nowhere in particular).
        reason: What is wrong with it, in one line: ``line 12, column 3: invalid TOML (…)``,
            ``missing 'messages'``, ``'created_at' is not a date and time``.
    """

    def __init__(self, path: Path | None, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path.name}: {reason}" if path is not None else reason)


class SessionConflict(StoreError):
    """The session's file changed on disk since it was loaded (another glmtui, an editor, a sync).

    Raised by ``SessionStore.save(session, expected=stamp)`` instead of overwriting someone
    else's changes; the caller can reload, save a copy, or save again without ``expected``.
    """

    def __init__(self, path: Path, *, deleted: bool = False) -> None:
        self.path = path
        self.deleted = deleted
        """True when the file is gone (deleted or moved) rather than changed."""
        what = "deleted" if deleted else "changed"
        super().__init__(
            f"{path.name} was {what} by another program since it was opened; "
            + (
                "not written again (save it again or keep a copy)."
                if deleted
                else "not overwritten (reload it or save a copy)."
            )
        )


class SessionNotFound(StoreError):
    """No session has the id (or id prefix) asked for: a wrong reference, not a failure of
    the store (the CLI exits with its usage status)."""


class AmbiguousSession(StoreError):
    """A session id (or id prefix) names more than one file, so no file is chosen for it.

    Two files can hold the same id when one is a copy made outside glmtui (a copied file, a
    sync tool's conflict copy, a restored backup); a short prefix can also match several
    sessions. Address the file by its path instead (every store method that takes an id also
    takes a path), or open it, which gives a shared id's file an id of its own.

    Attributes:
        ref: The id or prefix that was given.
        paths: Every file it matches, newest first.
        same_id: True when all of them hold the one same id (copies), False when the prefix
            matches different sessions.
    """

    def __init__(
        self,
        ref: str,
        paths: Sequence[Path],
        *,
        same_id: bool,
        labels: Sequence[str] = (),
    ) -> None:
        """
        Args:
            ref: The id or prefix given.
            paths: The files it matches.
            same_id: Whether they all hold the same id.
            labels: How to name the different sessions in the message (``id (title)``);
                the file names when not given.
        """
        self.ref = ref
        self.paths = tuple(paths)
        self.same_id = same_id
        shown = list(labels) if labels and not same_id else [path.name for path in self.paths]
        more = " …" if len(shown) > 3 else ""
        listed = ", ".join(shown[:3]) + more
        if same_id:
            message = (
                f"Session id '{ref}' is in {len(self.paths)} files ({listed}): one is a copy; "
                "give the file's path instead of the id."
            )
        else:
            message = (
                f"'{ref}' matches {len(shown)} sessions: {listed}; give more of the id "
                "(or a file's path)."
            )
        super().__init__(message)


def describe_os_error(exc: OSError, action: str, path: Path) -> str:
    """One line saying why ``action`` (e.g. "save") on ``path`` failed and what to do about it.

    Args:
        exc: The error from the operating system.
        action: The verb for the message: "save", "read", "move" …
        path: The file involved; its folder is named when the folder is the problem.
    """
    folder = path.parent
    code = exc.errno
    if code == errno.ENOSPC:
        return f"Could not {action} {path.name}: the disk is full. Free some space and retry."
    if code == errno.EDQUOT:
        return f"Could not {action} {path.name}: your disk quota is used up."
    if code == errno.EROFS:
        return f"Could not {action} {path.name}: {folder} is on a read-only file system."
    if code in (errno.EACCES, errno.EPERM):
        return f"Could not {action} {path.name}: no permission to write in {folder}."
    if code in (errno.EEXIST, errno.ENOTDIR):
        return f"Could not {action} {path.name}: {folder} is not a folder."
    if code == errno.ENOENT:
        return f"Could not {action} {path.name}: it no longer exists."
    if code == errno.ENAMETOOLONG:
        return f"Could not {action} {path.name}: the file name is too long for this file system."
    if code == errno.EIO:
        return f"Could not {action} {path.name}: input/output error (failing disk or network)."
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"Could not {action} {path.name}: {reason}."
