"""Masking secrets (the API key) out of a session before it is written or exported.

A session never holds a key on purpose, but it holds whatever the server sent back, and an
echoing proxy or a confused model can send the key itself (``Your key sk-… is invalid`` as a
reply, in the reasoning, in an error, even in a message id). The store masks every occurrence at
the moment it writes, so every path that saves (the TUI, ``glmtui ask --save``, copies, forks,
imports, exports) is covered by one rule instead of each caller remembering to do it.

The walk is generic over the session's dataclasses, lists and mappings, so a field added later
is covered without touching this module: tool calls (their ids, names and arguments) and tool
results (whatever a tool returned, which can be a key it read) are masked like the text. A reply
cut off mid-way (a checkpoint while streaming, Ctrl-C) can end with the first part of the key,
in its text, its reasoning or the arguments of a call it was writing: that trailing part is
masked too, so no save holds a recognisable piece of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass, replace
from typing import Any, Final, TypeVar

from glmtui.domain import Message, Session

MASK: Final = "***"
"""What a secret is replaced by (the same mask as :meth:`glmtui.api.errors.ApiError.redact`)."""

MIN_SECRET_LENGTH: Final = 8
"""Shorter "keys" are placeholders (``EMPTY``, ``x``, ``none`` for servers without auth), not
secrets; masking them would garble every conversation that contains the word."""

_UNFINISHED: Final = ("streaming", "interrupted", "error")
"""Statuses of a reply that may have stopped in the middle of an echoed key."""

T = TypeVar("T")


def usable_secrets(secrets: Iterable[str | None]) -> tuple[str, ...]:
    """The secrets worth masking: non-empty, at least :data:`MIN_SECRET_LENGTH` characters,
    without duplicates, longest first (so a key that contains another is masked whole)."""
    found = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
    return tuple(sorted(found, key=len, reverse=True))


def mask_text(text: str, secrets: tuple[str, ...], *, tail: bool = False) -> str:
    """``text`` with every occurrence of each secret replaced by :data:`MASK`.

    Args:
        text: Any text.
        secrets: From :func:`usable_secrets`.
        tail: Also mask an ending that is the start of a secret (at least
            :data:`MIN_SECRET_LENGTH` characters of it): text that stopped mid-key.
    """
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    if tail:
        for secret in secrets:
            for size in range(len(secret) - 1, MIN_SECRET_LENGTH - 1, -1):
                if text.endswith(secret[:size]):
                    text = text[:-size] + MASK
                    break
    return text


def redact(value: T, secrets: tuple[str, ...]) -> T:
    """A copy of ``value`` (a session, a message, a document …) with every secret masked.

    Strings, dataclasses, lists, tuples and mappings (keys and values) are walked; anything
    else is kept. Parts without a secret are shared, not copied, and the original is never
    changed. With no secrets, ``value`` itself is returned.
    """
    if not secrets:
        return value
    return _redact(value, secrets, tail=False)  # type: ignore[no-any-return]


def redact_session(session: Session, secrets: tuple[str, ...]) -> Session:
    """:func:`redact` for a session (typed)."""
    return redact(session, secrets)


def _redact(value: Any, secrets: tuple[str, ...], *, tail: bool) -> Any:
    if isinstance(value, str):
        return mask_text(value, secrets, tail=tail)
    if isinstance(value, Message):
        unfinished = value.status in _UNFINISHED
        message = _redact_dataclass(value, secrets, tails=("content", "reasoning"), on=unfinished)
        if unfinished and message.tool_calls:  # arguments stream too, and can stop mid-key
            calls = tuple(
                _redact_dataclass(call, secrets, tails=("arguments",), on=True)
                for call in message.tool_calls
            )
            if any(a is not b for a, b in zip(calls, message.tool_calls, strict=True)):
                message = replace(message, tool_calls=calls)
        return message
    if is_dataclass(value) and not isinstance(value, type):
        return _redact_dataclass(value, secrets)
    if isinstance(value, list):
        items = [_redact(item, secrets, tail=False) for item in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, tuple):
        items = [_redact(item, secrets, tail=False) for item in value]
        if not any(a is not b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, Mapping):
        pairs = [
            (_redact(k, secrets, tail=False), _redact(v, secrets, tail=False))
            for k, v in value.items()
        ]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items(), strict=True)):
            return value
        return dict(pairs)
    return value


def _redact_dataclass(
    value: Any, secrets: tuple[str, ...], *, tails: tuple[str, ...] = (), on: bool = False
) -> Any:
    changes: dict[str, Any] = {}
    for f in fields(value):
        if not f.init:
            continue
        old = getattr(value, f.name)
        new = _redact(old, secrets, tail=on and f.name in tails)
        if new is not old:
            changes[f.name] = new
    return replace(value, **changes) if changes else value


__all__ = ["MASK", "MIN_SECRET_LENGTH", "mask_text", "redact", "redact_session", "usable_secrets"]
