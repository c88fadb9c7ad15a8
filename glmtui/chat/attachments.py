"""Reading files into attachments: what may be sent, and what is refused with a reason.

One set of readers for the composer and ``glmtui ask -f``, so both accept and refuse the same
files with the same words. What a file is comes from its bytes, never its name alone:

* an image (PNG, JPEG, WebP, GIF: by their magic bytes) or a PDF (``%PDF-``) is attached as
  such, its bytes carried in :class:`Loaded` and stored by content hash when the prompt is
  sent;
* text (valid UTF-8 without NUL bytes in its first 8 KB; a byte order mark is dropped) is
  attached as text, inlined into the prompt when it is sent;
* anything else is refused: "x.zip is a binary file (application/zip); only text, images and
  PDFs can be attached".

A folder attaches its text files, recursively, as git would see them: ``.gitignore`` files
(see :mod:`glmtui.chat.gitignore`) and hidden files and folders (``.git``, ``.env``) are left
out without a word; binary files and text files over the per-file limit are left out and
named in :attr:`LoadedFiles.skipped`. Limits (the ``[attachments]`` table,
:class:`~glmtui.config.AttachmentLimits`) are never a silent cut: a file, a folder or a message
over one is refused with a line naming the limit and its config key.

No Textual: the CLI and the tests use this without the UI.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import mimetypes
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from glmtui.chat.gitignore import Ignores
from glmtui.config import AttachmentLimits
from glmtui.domain import ModelCard
from glmtui.domain.attachments import Attachment, AttachmentKind
from glmtui.domain.stats import estimate_attachment_tokens as estimate_tokens
from glmtui.store.export import size_text

__all__ = [
    "AttachmentError",
    "AttachmentLimits",
    "Loaded",
    "LoadedFiles",
    "check_capabilities",
    "check_message",
    "estimate_tokens",
    "load_path",
    "load_stdin",
]

SNIFF_BYTES: Final = 8192
"""How much of a file is looked at to tell text from binary (as git and grep do)."""

MAX_FOLDER_ENTRIES: Final = 20_000
"""Entries (files and folders) an attached folder may hold before walking it stops: a home
folder or a ``node_modules`` without a ``.gitignore`` is refused quickly, not read for minutes."""

STDIN_NAME: Final = "stdin"
"""The name of an attachment read from standard input (``glmtui ask -f -``)."""

_MAGIC: Final[tuple[tuple[bytes, int, AttachmentKind, str], ...]] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image", "image/png"),
    (b"\xff\xd8\xff", 0, "image", "image/jpeg"),
    (b"GIF87a", 0, "image", "image/gif"),
    (b"GIF89a", 0, "image", "image/gif"),
    (b"WEBP", 8, "image", "image/webp"),  # after "RIFF" and the length
    (b"%PDF-", 0, "pdf", "application/pdf"),
)
"""Signatures of the binary kinds that can be sent: (bytes, offset, kind, MIME type)."""

SENDABLE_TYPES: Final = frozenset(mime for _, _, _, mime in _MAGIC)
"""The MIME types of the binary kinds that can be sent."""

_TEXT_TYPES: Final = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/toml",
        "application/yaml",
        "application/x-yaml",
        "application/x-sh",
        "application/sql",
        "application/x-tex",
        "application/x-httpd-php",
    }
)
"""MIME types guessed from a name that are text although not ``text/*``."""

KINDS_SHOWN: Final[dict[str, str]] = {"text": "text", "image": "images", "pdf": "PDFs"}
"""How each kind is named in a sentence."""

MODALITIES: Final[dict[str, tuple[str, ...]]] = {
    "image": ("image",),
    "pdf": ("file", "pdf", "document"),
}
"""The card modalities (``capabilities.input`` on Oxen, ``architecture.input_modalities`` on
OpenRouter) that mean a model takes a binary kind."""


class AttachmentError(Exception):
    """A file, folder or message that cannot be attached; ``str(error)`` is one line for the
    user (it names the file, and the limit and its config key when a limit is the reason)."""

    def __init__(self, message: str, *, short: str = "") -> None:
        super().__init__(message)
        self.short = short or message
        """The reason alone (``binary``, ``612 KB, over 512 KB``), for a folder's skip list."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """An attachment read from disk, with the bytes of a binary one (stored by content hash
    when the prompt is sent; ``attachment.sha256`` is already set)."""

    attachment: Attachment
    data: bytes | None = None


class LoadedFiles(list[Loaded]):
    """What :func:`load_path` read (a list, one :class:`Loaded` per file), and what it left
    out of a folder and why, so the user is told rather than guessing.

    A list so a caller that only wants the files treats it as one.
    """

    def __init__(
        self,
        loaded: Iterable[Loaded] = (),
        skipped: Iterable[str] = (),
        ignored: int = 0,
        folder: str = "",
    ) -> None:
        super().__init__(loaded)
        self.folder = folder
        """The folder as the user named it ("" for a single file)."""
        self.skipped: list[str] = list(skipped)
        """Files a folder held that were left out, each ``name (reason)``: binary files,
        images and PDFs (attach them one by one), text over the per-file limit, unreadable."""
        self.ignored = ignored
        """Entries left out because ``.gitignore`` says so or they are hidden (not listed)."""

    @property
    def note(self) -> str | None:
        """One line saying what a folder attached and what it left out; None when it left
        out nothing but ignored and hidden files (which git would not show either)."""
        if not self.skipped:
            return None
        shown = ", ".join(self.skipped[:5])
        more = f" and {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
        files = "file" if len(self) == 1 else "files"
        return f"{self.folder}: attached {len(self)} text {files}; left out {shown}{more}."


# --- one file --------------------------------------------------------------------------------


def _sniff(head: bytes) -> tuple[AttachmentKind, str] | None:
    """The binary kind and MIME type the first bytes show, or None (text or unknown)."""
    for magic, offset, kind, mime in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            if mime == "image/webp" and not head.startswith(b"RIFF"):
                continue
            return kind, mime
    return None


def _text_mime(name: str) -> str:
    guessed = mimetypes.guess_type(name, strict=False)[0]
    if guessed and (guessed.startswith("text/") or guessed in _TEXT_TYPES):
        return guessed
    return "text/plain"


def _binary_reason(name: str, data: bytes) -> str:
    """What an unsendable binary file seems to be, for the refusal: its MIME type by name
    (or that its bytes are not what its name says), else where its first NUL byte is, else
    the byte that is not UTF-8."""
    guessed = mimetypes.guess_type(name, strict=False)[0]
    if guessed in SENDABLE_TYPES:
        return f"named like {guessed}, but its bytes are not"
    if guessed and not guessed.startswith("text/") and guessed != "application/octet-stream":
        return guessed
    nul = data.find(b"\x00", 0, SNIFF_BYTES)
    if nul >= 0:
        return f"a NUL byte at offset {nul:,}"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start:,}"
    return "binary data"


def _refuse_binary(name: str, data: bytes) -> AttachmentError:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return AttachmentError(
            f"{name} is UTF-16 text; save it as UTF-8 to attach it.", short="UTF-16 text"
        )
    reason = _binary_reason(name, data)
    return AttachmentError(
        f"{name} is a binary file ({reason}); only text, images (PNG, JPEG, WebP, GIF) and "
        "PDFs can be attached.",
        short=f"binary: {reason}",
    )


def _sizes(size: int, limit: int) -> tuple[str, str]:
    """A size and the limit it is over, in words that differ (in bytes when rounding to KB
    or MB would make them look the same)."""
    shown, most = size_text(size), size_text(limit)
    return (f"{size:,} bytes", f"{limit:,} bytes") if shown == most else (shown, most)


def _too_large(name: str, size: int, limit: int, what: str, key: str) -> AttachmentError:
    shown, most = _sizes(size, limit)
    return AttachmentError(
        f"{name} is {shown}; {what} can be attached up to {most} ([attachments] {key}).",
        short=f"{shown}, over {most}",
    )


def _read(path: Path, name: str, limits: AttachmentLimits) -> Loaded:
    """One file as an attachment.

    Only a regular file is read (a FIFO or ``/dev/zero`` would block or never end), and never
    more than its kind's limit allows.

    Raises:
        AttachmentError: missing, unreadable, not a regular file, binary of a kind that
            cannot be sent, or over its limit.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise AttachmentError(f"{name} does not exist.", short="gone") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise AttachmentError(f"{name} cannot be read ({reason}).", short=reason) from None
    info = os.fstat(fd)  # before fdopen, which refuses a folder with its own error
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise AttachmentError(f"{name} cannot be attached (it is {what}).", short=what)
    with os.fdopen(fd, "rb") as handle:
        try:
            head = handle.read(SNIFF_BYTES)
            sniffed = _sniff(head)
            limit, what, key = (
                (limits.max_binary_bytes, "images and PDFs", "max_binary_kb")
                if sniffed
                else (limits.max_file_bytes, "text files", "max_file_kb")
            )
            if info.st_size > limit:
                if not sniffed and _binary_head(head):  # say what it is, not only its size
                    raise _refuse_binary(name, head)
                raise _too_large(name, info.st_size, limit, what, key)
            data = head + handle.read(limit + 1 - len(head))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise AttachmentError(f"{name} cannot be read ({reason}).", short=reason) from None
    if len(data) > limit:  # it grew while being read
        raise _too_large(name, len(data), limit, what, key)
    return _classify(name, data, sniffed)


def _binary_head(head: bytes) -> bool:
    """Whether the first bytes of a file already show it is not UTF-8 text (a character cut
    at the end of ``head`` does not count)."""
    if b"\x00" in head:
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return True
    return False


def _classify(name: str, data: bytes, sniffed: tuple[AttachmentKind, str] | None) -> Loaded:
    if sniffed is not None:
        kind, mime = sniffed
        digest = hashlib.sha256(data).hexdigest()
        return Loaded(Attachment(name, kind, mime, len(data), sha256=digest), data)
    if b"\x00" in data[:SNIFF_BYTES]:
        raise _refuse_binary(name, data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse_binary(name, data) from None
    return Loaded(
        Attachment(name, "text", _text_mime(name), len(data), text.removeprefix("\ufeff"))
    )


def shown_name(path: Path, given: str, cwd: Path) -> str:
    """How an attachment is named: its path relative to ``cwd`` when it is under it (also
    when given absolute), else as given."""
    absolute = Path(os.path.normpath(cwd / path))
    with contextlib.suppress(ValueError):
        return absolute.relative_to(os.path.normpath(cwd)).as_posix() or "."
    return given


# --- folders ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Walk:
    """The state of reading one folder."""

    limits: AttachmentLimits
    shown: str
    """The folder as named to the user."""
    found: list[Loaded] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    ignored: int = 0
    entries: int = 0
    text_bytes: int = 0

    def folder(self, folder: Path, prefix: str, ignores: Ignores) -> None:
        ignores = ignores.entering(folder)
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            self.skipped.append(f"{prefix or self.shown}/ ({exc.strerror or exc})")
            return
        for entry in entries:
            self.entries += 1
            if self.entries > MAX_FOLDER_ENTRIES:
                raise AttachmentError(
                    f"{self.shown} holds more than {MAX_FOLDER_ENTRIES:,} files and folders; "
                    "attach a smaller folder (or add a .gitignore)."
                )
            path = Path(entry.path)
            name = f"{prefix}{entry.name}"
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_folder = False
            if entry.name.startswith(".") or ignores.ignored(path, folder=is_folder):
                self.ignored += 1
            elif not is_folder and entry.is_symlink() and path.is_dir():
                self.skipped.append(f"{name} (a link to a folder: not followed)")
            elif is_folder:
                self.folder(path, f"{name}/", ignores)
            else:
                self.file(path, name)

    def file(self, path: Path, name: str) -> None:
        try:
            loaded = _read(path, name, self.limits)
        except AttachmentError as exc:
            self.skipped.append(f"{name} ({exc.short})")
            return
        if loaded.attachment.binary:
            kind = "image" if loaded.attachment.kind == "image" else "PDF"
            self.skipped.append(f"{name} ({kind}: attach it by itself)")
            return
        self.found.append(loaded)
        self.text_bytes += len(loaded.attachment.text.encode("utf-8"))
        limit = self.limits.max_folder_files
        if len(self.found) > limit:
            raise AttachmentError(
                f"{self.shown} holds more than {limit:,} text files; a folder attaches at "
                f"most {limit:,} ([attachments] max_folder_files)."
            )
        if self.text_bytes > self.limits.max_message_bytes:
            raise AttachmentError(
                f"{self.shown} holds more than {size_text(self.limits.max_message_bytes)} of "
                "text; one message attaches at most that much ([attachments] max_message_kb)."
            )


def load_path(path: str | Path, *, cwd: Path, limits: AttachmentLimits) -> LoadedFiles:
    """A file, or a folder's text files, as attachments.

    Args:
        path: As the user gave it (``~`` is expanded; relative to ``cwd``).
        cwd: The working folder: names are relative to it when the file is under it.
        limits: The ``[attachments]`` limits.

    Returns:
        One :class:`Loaded` per file, in path order; for a folder, also what was left out
        (:attr:`LoadedFiles.skipped`, :attr:`LoadedFiles.note`).

    Raises:
        AttachmentError: the file cannot be attached, or the folder is over a limit (one line
            naming the limit and its config key).
    """
    given = str(path)
    target = Path(given).expanduser()
    name = shown_name(target, given, cwd)
    absolute = Path(os.path.normpath(cwd / target))
    if not absolute.is_dir():
        return LoadedFiles([_read(absolute, name, limits)])
    folder_name = name.rstrip("/") or name
    walk = _Walk(limits, folder_name)
    walk.folder(absolute, "" if folder_name == "." else f"{folder_name}/", Ignores.above(absolute))
    if not walk.found:
        left = f" (left out: {', '.join(walk.skipped[:3])})" if walk.skipped else ""
        raise AttachmentError(f"{folder_name} holds no text files to attach{left}.")
    return LoadedFiles(walk.found, walk.skipped, walk.ignored, folder_name)


def load_stdin(data: bytes, limits: AttachmentLimits) -> Loaded:
    """Piped bytes as an attachment named ``stdin``, judged like a file.

    Raises:
        AttachmentError: binary of a kind that cannot be sent, or over its limit.
    """
    sniffed = _sniff(data[:SNIFF_BYTES])
    if sniffed:
        limit, what, key = limits.max_binary_bytes, "images and PDFs", "max_binary_kb"
    else:
        limit, what, key = limits.max_file_bytes, "text files", "max_file_kb"
    if len(data) > limit:
        raise _too_large(STDIN_NAME, len(data), limit, what, key)
    return _classify(STDIN_NAME, data, sniffed)


# --- a message's attachments -----------------------------------------------------------------


def check_message(files: Sequence[Loaded], limits: AttachmentLimits) -> None:
    """Refuse a message whose attachments together are over a limit.

    Raises:
        AttachmentError: the text or the images and PDFs come to more than one message takes.
    """
    text = sum(len(f.attachment.text.encode("utf-8")) for f in files if not f.attachment.binary)
    if text > limits.max_message_bytes:
        shown, most = _sizes(text, limits.max_message_bytes)
        raise AttachmentError(
            f"The attached text comes to {shown}; one message takes at most {most} of text "
            "([attachments] max_message_kb)."
        )
    binary = sum(f.attachment.size for f in files if f.attachment.binary)
    if binary > limits.max_binary_bytes:
        shown, most = _sizes(binary, limits.max_binary_bytes)
        raise AttachmentError(
            f"The attached images and PDFs come to {shown}; one message takes at most {most} "
            "of them ([attachments] max_binary_kb)."
        )


def takes(card: ModelCard, kind: str) -> bool:
    """Whether the card says the model takes ``kind`` (text always)."""
    if kind == "text":
        return True
    inputs = {modality.lower() for modality in card.input_modalities}
    return any(modality in inputs for modality in MODALITIES.get(kind, (kind,)))


def _kinds(kinds: Iterable[str]) -> str:
    names = [KINDS_SHOWN[k] for k in ("text", "image", "pdf") if k in set(kinds)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def check_capabilities(
    attachments: Iterable[Attachment],
    card: ModelCard | None,
    known_cards: Iterable[ModelCard] = (),
    *,
    hint: str = "F4 lists models",
) -> str | None:
    """Why the model cannot take these attachments, in one line; None when it can.

    A model takes images when its card's input modalities hold ``image``, PDFs when they hold
    ``file``, ``pdf`` or ``document``. A card that lists no input modalities (a self-hosted
    server says nothing), or no card at all, is not refused: the server decides.

    Args:
        attachments: Everything the request would carry.
        card: The model's card, if known.
        known_cards: Other models (the catalogue), to name one that takes the refused kinds.
        hint: Where to find models, said at the end (the CLI says ``glmtui models``).
    """
    if card is None or not card.input_modalities:
        return None
    wanted = {a.kind for a in attachments if a.binary}
    refused = {kind for kind in wanted if not takes(card, kind)}
    if not refused:
        return None
    taken = [k for k in ("text", "image", "pdf") if takes(card, k)]
    what = "text only" if taken == ["text"] else _kinds(taken) + ", not " + _kinds(refused)
    other = next(
        (c.id for c in known_cards if c.id != card.id and all(takes(c, kind) for kind in refused)),
        None,
    )
    example = f", e.g. {other}" if other else ""
    them = _kinds(refused)
    return f"{card.id} takes {what}; attach {them} to a model that takes them{example} ({hint})."
