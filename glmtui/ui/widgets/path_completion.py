"""Completing ``@path`` in the composer, and recognising a pasted (or dragged-in) path.

Typing ``@`` at the start of a word opens a list of the files and folders under the working
folder; typing on narrows it (``@src/ch`` lists what starts with, then what contains, ``ch``
in ``src/``). The composer keeps the focus and drives the list with its keys (see
:class:`glmtui.ui.widgets.composer.Composer`): the list itself never takes the focus, so
closing it gives the keys back exactly as they were.

A terminal pastes a dragged-in file as its path: absolute, often quoted (``'/a b/c.txt'``),
with escaped spaces (``/a\\ b/c.txt``) or as a ``file://`` URL, several separated by spaces
or lines. :func:`pasted_paths` reads such a paste; only absolute paths (and ``~/``) count,
so a pasted word that happens to name a file here stays a word.

Listing a folder and reading a paste are plain functions (no Textual) so they are tested
alone; the list widget only draws their results.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from rich.cells import cell_len
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from glmtui.domain.text import visible_controls

MAX_WORD = 1_024
"""The longest ``@word`` completed (a path is shorter; a longer word is text)."""
MAX_SCANNED = 5_000
"""Entries of one folder looked at, at most: a huge folder (``node_modules``) still answers a
keystroke at once; what is beyond is reached by typing more of the name."""
MAX_SHOWN = 200
"""Candidates offered at most (the list scrolls)."""
NAME_CELLS = 48
"""Names are padded to line up their sizes, up to this many cells (longer ones push theirs)."""
MAX_PASTE = 8_192
"""A paste longer than this is text, not paths (nothing on disk is looked up for it)."""
MAX_PASTED_PATHS = 32
"""A paste of more words than this is text, not dropped files."""


@dataclass(frozen=True, slots=True)
class PathToken:
    """The ``@word`` the cursor is in, on one line of the composer.

    ``start`` is the column of the ``@``, ``end`` the column after the word (the cursor may be
    inside it); ``typed`` is what was typed between the ``@`` and the cursor.
    """

    row: int
    start: int
    end: int
    typed: str


def token_at(line: str, row: int, column: int) -> PathToken | None:
    """The ``@path`` word the cursor (at ``column`` of ``line``) is in, if any.

    The ``@`` must begin a word (the start of the line, or after a space), so an e-mail
    address or a ``@decorator`` in the middle of code does not open the list. Only the current
    line is looked at, and only :data:`MAX_WORD` characters either side of the cursor: this
    runs at every keystroke, also at the end of a pasted megabyte without a space.
    """
    start = column
    lowest = max(0, column - MAX_WORD)
    while start > lowest and not line[start - 1].isspace():
        start -= 1
    if start >= len(line) or line[start] != "@" or start == column:
        return None
    end = column
    highest = min(len(line), column + MAX_WORD)
    while end < highest and not line[end].isspace():
        end += 1
    typed = line[start + 1 : column]
    if "@" in typed:
        return None
    return PathToken(row, start, end, typed)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One file or folder the list offers."""

    text: str
    """What the ``@`` word becomes if it is completed (folders end in ``/``)."""
    path: Path
    """Where it is (absolute)."""
    folder: bool
    size: int | None = None
    """A file's size in bytes (None for a folder, or when it could not be read)."""


def folder_of(typed: str, cwd: Path) -> tuple[Path, str, str]:
    """Where ``typed`` (the text after ``@``) points: (the folder to list, what to write
    before a name in it, the start of the name typed so far)."""
    head, sep, prefix = typed.rpartition("/")
    if not sep:
        if typed == "~":
            return Path.home(), "~/", ""
        return cwd, "", typed
    written = head + sep
    folder = Path(head or "/").expanduser()
    if not folder.is_absolute():
        folder = cwd / folder
    return folder, written, prefix


def scan_folder(folder: Path, written: str) -> list[Candidate]:
    """Every file and folder in ``folder`` (at most :data:`MAX_SCANNED`), each to be written
    as ``written`` + its name; sockets, devices and broken links are left out. A folder that
    cannot be read has nothing."""
    found: list[Candidate] = []
    try:
        with os.scandir(folder) as entries:
            for scanned, entry in enumerate(entries):
                if scanned >= MAX_SCANNED:
                    break
                try:
                    is_dir = entry.is_dir()
                    if not is_dir and not entry.is_file():
                        continue
                    size = None if is_dir else entry.stat().st_size
                except OSError:
                    continue
                text = written + entry.name + ("/" if is_dir else "")
                found.append(Candidate(text, Path(entry.path), is_dir, size))
    except OSError:
        return []
    return found


def matching(entries: list[Candidate], prefix: str) -> list[Candidate]:
    """The entries whose names start with ``prefix`` (ignoring case), then those that contain
    it; folders first in each group, then by name. Hidden entries only once a ``.`` is typed.
    """
    wanted = prefix.casefold()
    starts: list[Candidate] = []
    contains: list[Candidate] = []
    for candidate in entries:
        name = candidate.path.name
        if name.startswith(".") and not prefix.startswith("."):
            continue
        folded = name.casefold()
        if folded.startswith(wanted):
            starts.append(candidate)
        elif wanted in folded:
            contains.append(candidate)

    def order(candidate: Candidate) -> tuple[bool, str]:
        return (not candidate.folder, candidate.path.name.casefold())

    return (sorted(starts, key=order) + sorted(contains, key=order))[:MAX_SHOWN]


def list_candidates(typed: str, cwd: Path) -> list[Candidate]:
    """The files and folders that complete ``typed`` (the text after ``@``), relative to
    ``cwd`` (see :func:`matching` for the order)."""
    folder, written, prefix = folder_of(typed, cwd)
    return matching(scan_folder(folder, written), prefix)


def file_size(size: int) -> str:
    """A size as the ``[attachments]`` limits and their refusals say it (``12.4 KB``)."""
    from glmtui.store.export import size_text  # with the store, which attaching loads anyway

    return size_text(size)


def pasted_paths(text: str, cwd: Path) -> list[Path] | None:
    """The existing files and folders a paste names, when the whole paste is paths.

    What terminals paste for dragged-in files is understood: quotes, backslash-escaped
    spaces, ``file://`` URLs (percent-encoded), several paths separated by spaces or lines.
    Each must be absolute (or start with ``~``): a relative word that happens to name a file
    in the working folder is text. ``cwd`` resolves nothing today but is where a relative
    path would be read from, should one ever be accepted.

    Returns:
        The paths, in order, or None when the paste is anything else (text, a path that does
        not exist, a quote left open).
    """
    del cwd  # relative paths are text (see above)
    stripped = text.strip()
    if not stripped or len(stripped) > MAX_PASTE or "\x00" in stripped:
        return None
    try:
        words = shlex.split(stripped, posix=True)
    except ValueError:
        return None
    if not words or len(words) > MAX_PASTED_PATHS:
        return None
    paths: list[Path] = []
    for word in words:
        if word.startswith("file://"):
            parts = urlsplit(word)
            if parts.netloc not in ("", "localhost"):
                return None
            word = unquote(parts.path)
        if not (word.startswith("/") or word.startswith("~")):
            return None
        path = Path(word).expanduser()
        try:
            if not path.is_absolute() or not (path.is_file() or path.is_dir()):
                return None
        except OSError:
            return None
        paths.append(path)
    return paths


class PathCompletion(OptionList, can_focus=False):
    """The list of files and folders under the composer's ``@word``.

    It never takes the focus: the composer moves its highlight (Up/Down), accepts (Tab, Enter)
    and closes it (Esc). A click on an entry accepts it too (the screen hands the click to the
    composer, see :class:`glmtui.ui.chat.attachments.AttachmentsPart`).
    """

    DEFAULT_CSS = """
    PathCompletion {
        display: none;
        height: auto;
        max-height: 10;
        width: auto;
        min-width: 30;
        max-width: 90%;
        border: round $accent;
        padding: 0 1;
        background: $panel;
    }
    PathCompletion > .option-list--option-highlighted {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: $block-cursor-text-style;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.candidates: list[Candidate] = []
        """What is offered, in the list's order."""
        self.token: PathToken | None = None
        """The ``@word`` the list completes."""
        self._scanned: dict[tuple[Path, str], list[Candidate]] = {}
        """Folders read while the list is open (forgotten when it closes)."""

    @property
    def is_open(self) -> bool:
        """True while the list is shown."""
        return bool(self.display)

    @property
    def chosen(self) -> Candidate | None:
        """The highlighted candidate."""
        index = self.highlighted
        if index is None or not 0 <= index < len(self.candidates):
            return None
        return self.candidates[index]

    def offer(self, token: PathToken, cwd: Path) -> bool:
        """Show what completes ``token``. A folder is read once while the list is open (each
        keystroke only filters it again). Returns whether anything is offered (else the list
        closes)."""
        folder, written, prefix = folder_of(token.typed, cwd)
        key = (folder, written)
        entries = self._scanned.get(key)
        if entries is None:
            entries = self._scanned[key] = scan_folder(folder, written)
        candidates = matching(entries, prefix)
        self.token = token
        if not candidates:
            self.close()
            return False
        if candidates != self.candidates or not self.is_open:
            self.candidates = candidates
            width = min(NAME_CELLS, max(cell_len(visible_controls(c.text)) for c in candidates))
            self.set_options(self._option(candidate, width) for candidate in candidates)
            self.highlighted = 0
            self.display = True
        return True

    def close(self) -> None:
        """Hide the list (the composer keeps its text)."""
        self.display = False
        self.token = None
        self.candidates = []
        self._scanned.clear()

    def move(self, step: int) -> None:
        """Move the highlight by ``step``, wrapping at either end."""
        if self.candidates:
            current = self.highlighted or 0
            self.highlighted = (current + step) % len(self.candidates)

    @staticmethod
    def _option(candidate: Candidate, width: int) -> Option:
        """A folder in bold; a file with its size in a column after the names."""
        name = visible_controls(candidate.text)
        if candidate.folder:
            return Option(Content.styled(name, "bold"))
        size = file_size(candidate.size) if candidate.size is not None else ""
        pad = " " * max(2, width - cell_len(name) + 2)
        return Option(Content.assemble(name, pad, (size, "$text-muted")))
