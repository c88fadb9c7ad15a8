"""Files attached to a prompt, as the conversation keeps them and the request sends them.

Plain data, no I/O: reading a file into an :class:`Attachment` (and refusing what cannot be
sent) is :mod:`glmtui.chat.attachments`' job, storing binary content under the data folder is
the store's, and the request builder asks a :data:`BlobReader` for a binary attachment's
bytes when it builds the request.

How each kind goes on the wire (issue 22):

* ``text``: inlined into the message's text as a fenced block headed by its path, so a
  text-only model such as GLM-5 reads it (the session keeps the text as it was sent);
* ``image`` (PNG, JPEG, WebP, GIF): an ``image_url`` content part with a ``data:`` URL;
* ``pdf``: a ``file`` content part (``filename``, ``file_data`` as a ``data:`` URL).

Binary kinds are sent only to a model whose card says it takes them (checked before sending).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

_BACKTICKS = re.compile("`+")

AttachmentKind = Literal["text", "image", "pdf"]
"""What an attachment is sent as."""

ATTACHMENT_KINDS: tuple[AttachmentKind, ...] = ("text", "image", "pdf")


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attached file.

    ``name`` is the path as the user gave it (relative to the working folder when it is under
    it), shown on chips and in exports; ``size`` the file's size in bytes; ``text`` the content
    of a text attachment, exactly as inlined; ``sha256`` the content hash a binary attachment
    is stored under (:meth:`glmtui.store.SessionStore.put_blob` / ``read_blob``).
    """

    name: str
    kind: AttachmentKind
    mime: str
    size: int
    text: str = ""
    sha256: str = ""

    @property
    def binary(self) -> bool:
        """True for kinds sent as content parts (their bytes live in the blob store)."""
        return self.kind != "text"

    def fenced(self) -> str:
        """A text attachment as inlined: its path, then its text in a fence none of its own
        lines can close."""
        # The longest run of backticks, found by the regex engine: a loop over the characters
        # took ~2 ms per 8 KB, and the status bar estimates every attachment of the history.
        longest = max(map(len, _BACKTICKS.findall(self.text)), default=0)
        fence = "`" * max(3, longest + 1)
        body = self.text if self.text.endswith("\n") or not self.text else self.text + "\n"
        return f"{self.name}\n{fence}\n{body}{fence}"


BlobReader = Callable[[Attachment], bytes]
"""Gives a binary attachment's bytes (raises ``OSError`` when they cannot be read)."""


def data_url(mime: str, data: bytes) -> str:
    """``data:<mime>;base64,<data>``."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def user_content(text: str, attachments: tuple[Attachment, ...], blobs: BlobReader | None) -> Any:
    """A user message's ``content``: a string when everything is text, else content parts.

    Text attachments follow the prompt's text, each as :meth:`Attachment.fenced`. With binary
    attachments the content is a list: one ``text`` part, then an ``image_url`` or ``file``
    part per binary attachment, in order. ``blobs`` gives their bytes; without one (a preview
    that must not read files) the URL is a placeholder naming the file and its size.

    Raises:
        OSError: ``blobs`` could not read an attachment.
    """
    inlined = [a.fenced() for a in attachments if a.kind == "text"]
    full = "\n\n".join(part for part in (text, *inlined) if part)
    binary = [a for a in attachments if a.binary]
    if not binary:
        return full
    parts: list[dict[str, Any]] = [{"type": "text", "text": full}] if full else []
    for attachment in binary:
        if blobs is None:
            url = f"data:{attachment.mime};base64,…({attachment.size:,} bytes of {attachment.name})"
        else:
            url = data_url(attachment.mime, blobs(attachment))
        if attachment.kind == "image":
            parts.append({"type": "image_url", "image_url": {"url": url}})
        else:
            parts.append({"type": "file", "file": {"filename": attachment.name, "file_data": url}})
    return parts
