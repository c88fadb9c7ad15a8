"""The session store's exceptions, each carrying a one-line message meant for the user.

The UI and the CLI show these messages as they are (a toast, a line on stderr), so they name the
file or folder and say what went wrong in words, never as a traceback or an errno number.
"""

from __future__ import annotations

import errno
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
