"""Crash-safe file writes shared by the session store and the config file.

Two ways to write, for two different promises:

- :func:`atomic_write_bytes` *replaces* a file: the data goes to a temporary file in the same
  folder, is flushed and fsynced, then moved over the target with ``os.replace``, so a crash or
  kill at any moment leaves either the old file or the new one, never a torn one.
- :func:`write_new_file` *creates* a file that did not exist, and never replaces one: the
  complete temp file is hard-linked to the first free name of a list (``os.link`` fails with
  ``EEXIST`` instead of overwriting), so two processes or threads that pick the same name at
  the same moment end up with two files, and neither reports saving data it did not keep.
  :func:`move_to_new_name` moves a file the same way (to the trash and back).

Where a file system has no hard links (some network and FUSE mounts, FAT), the name is claimed
with ``O_CREAT | O_EXCL`` and the temp file is renamed over the placeholder: the claim is still
exclusive; only a crash between the two steps can leave an empty placeholder behind.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Final

PRIVATE_FILE: Final = 0o600
"""Mode of files that hold private text (conversations, keys)."""

PRIVATE_FOLDER: Final = 0o700
"""Mode of folders glmtui creates for private files."""

_NO_HARD_LINKS: Final = frozenset(
    code
    for code in (
        errno.EPERM,
        errno.EACCES,
        errno.ENOTSUP,
        errno.EOPNOTSUPP,
        errno.ENOSYS,
        errno.EMLINK,
        getattr(errno, "EFTYPE", None),
    )
    if code is not None
)
"""``os.link`` errors that mean "no hard link here", not "the name is taken"; the name is then
claimed with ``O_EXCL`` instead. (EACCES and EPERM: some file systems refuse links outright;
a folder that is really not writable fails again at the ``O_EXCL`` claim, with a clear error.)"""


def atomic_write_bytes(
    path: Path, data: bytes, *, mode: int = 0o644, folder_mode: int = 0o777
) -> None:
    """Replace ``path`` with ``data`` atomically, creating parent folders as needed.

    The new file gets ``mode`` whatever the old one had, so rewriting a file that was too
    widely readable makes it private again.

    Args:
        path: The file to write.
        data: Its new contents.
        mode: Permission bits of the new file (0o600 for files that may hold a key or a
            conversation).
        folder_mode: Permission bits of the folder when it has to be created (before the
            umask; parents above it get the defaults).

    Raises:
        OSError: the folder is read-only, the disk is full … the old file is left intact.
    """
    make_folder(path.parent, folder_mode)
    tmp = _write_temp(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def atomic_write_text(
    path: Path, text: str, *, mode: int = 0o644, folder_mode: int = 0o777
) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode, folder_mode=folder_mode)


def write_new_file(
    candidates: Iterable[Path],
    data: bytes,
    *,
    mode: int = PRIVATE_FILE,
    folder_mode: int = PRIVATE_FOLDER,
) -> Path:
    """Create the first of ``candidates`` that does not exist yet, holding ``data``.

    The file appears whole (written and fsynced under a temp name first) and no existing file
    is ever replaced, even by another process racing for the same name: that one gets the
    next candidate.

    Args:
        candidates: Names to try in order, all in one folder (e.g. ``a.toml``, ``a-2.toml`` …).
        data: The file's contents.
        mode: Permission bits of the new file.
        folder_mode: Permission bits of the folder when it has to be created.

    Returns:
        The file written.

    Raises:
        FileExistsError: every candidate was taken.
        OSError: the folder is not writable, the disk is full … nothing is left behind.
    """
    names = iter(candidates)
    first = next(names, None)
    if first is None:
        raise ValueError("no file name to write to")
    make_folder(first.parent, folder_mode)
    tmp = _write_temp(first, data, mode)
    try:
        target = _claim(itertools.chain([first], names), partial(os.link, tmp), tmp)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    _fsync_dir(first.parent)
    return target


def move_to_new_name(source: Path, candidates: Iterable[Path]) -> Path:
    """Move ``source`` to the first of ``candidates`` that is free, never replacing a file.

    Args:
        source: The file to move.
        candidates: Names to try in order, all in one folder.

    Returns:
        Where the file is now.

    Raises:
        FileExistsError: every candidate was taken.
        OSError: the move failed; ``source`` is where it was.
    """
    names = iter(candidates)
    first = next(names, None)
    if first is None:
        raise ValueError("no file name to move to")
    info = os.stat(source)
    if info.st_dev != os.stat(first.parent).st_dev:
        # Another file system: copy under a new name (exclusively), then remove the original.
        target = write_new_file(
            itertools.chain([first], names), source.read_bytes(), mode=info.st_mode & 0o7777
        )
        with contextlib.suppress(OSError):
            shutil.copystat(source, target)
    else:
        target = _claim(itertools.chain([first], names), partial(os.link, source), source)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(source)
    _fsync_dir(target.parent)
    if source.parent != target.parent:
        _fsync_dir(source.parent)
    return target


def make_folder(folder: Path, mode: int = 0o777) -> None:
    """Create ``folder`` (and missing parents) if needed; ``mode`` applies to ``folder`` only
    and only when it is created here (an existing folder keeps the mode its owner gave it)."""
    if folder.is_dir():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=mode)
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    """``data`` in a fsynced temp file next to ``path`` (named ``.<name>.<random>.tmp``)."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


def _claim(names: Iterable[Path], link: Callable[[Path], None], source: Path) -> Path:
    """Give ``source`` the first free name of ``names``: by ``link(name)`` (a hard link), or
    by an ``O_EXCL`` placeholder that ``source`` is renamed over, where links are refused."""
    use_links = True
    first: Path | None = None
    for name in names:
        first = first or name
        if os.path.lexists(name):
            continue
        if use_links:
            try:
                link(name)
                return name
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno not in _NO_HARD_LINKS:
                    raise
                use_links = False
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        except FileExistsError:
            continue
        os.close(fd)
        try:
            os.rename(source, name)  # replaces only the placeholder created just now
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
        return name
    raise FileExistsError(errno.EEXIST, "every name is taken", str(first))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
