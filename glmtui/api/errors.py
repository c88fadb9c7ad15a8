"""Typed API errors, each with a one-line message a user understands and a hint on what to do.

Every failure of a request ends up as one of these, whether it came from an HTTP status, a
broken connection or an error reported in the middle of a stream. Errors raised after output
began carry that output (``partial_content``/``partial_reasoning``) so nothing the model said is
lost.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

OXEN_KEY_URL = "https://www.oxen.ai/settings/profile"
"""Where an Oxen.ai user finds their API key."""

_MAX_MESSAGE = 300
_HTML_LIMIT = 64 * 1024
"""Only the start of an HTML page is read for its message."""


def shown_url(url: str) -> str:
    """``url`` as a message may show it: without credentials (``user:password@``), query or
    fragment, where a key may sit (``?key=…``); the scheme, host, port and path stay."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # not a URL at all: drop anything that looks like credentials
        return re.sub(r"//[^/@\s]*@", "//", url).split("?", 1)[0].split("#", 1)[0]
    if not parts.scheme or not host:
        return re.sub(r"//[^/@\s]*@", "//", url).split("?", 1)[0].split("#", 1)[0]
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def one_line(text: str, limit: int = _MAX_MESSAGE) -> str:
    """Collapse whitespace and control characters and cap the length, for messages shown inline."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f]+", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class ApiError(Exception):
    """Base class: a request failed. ``str(error)`` is the one-line message."""

    kind: ClassVar[str] = "error"
    """Short machine-readable category (``auth``, ``rate_limit`` …), used by ``--json`` output."""
    retryable: ClassVar[bool] = False
    """Whether retrying the same request may succeed (before any output was shown)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        hint: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.message = one_line(message)
        self.status = status
        self.hint = hint
        self.retry_after = retry_after
        self.partial_content = ""
        self.partial_reasoning = ""
        super().__init__(self.message)

    def describe(self) -> str:
        """The message and, when there is one, the hint: what happened and what to do."""
        return f"{self.message} {self.hint}".strip()

    def redact(self, secret: str, mask: str = "***") -> None:
        """Replace ``secret`` (the API key) wherever this error's text quotes it."""
        if not secret:
            return
        self.message = self.message.replace(secret, mask)
        self.hint = self.hint.replace(secret, mask)
        self.args = tuple(
            arg.replace(secret, mask) if isinstance(arg, str) else arg for arg in self.args
        )


class AuthError(ApiError):
    """401/403: the key is missing, wrong or not allowed to use this model."""

    kind = "auth"


class CreditsError(ApiError):
    """402: the account has no credits left."""

    kind = "credits"


class NotFoundError(ApiError):
    """404: the model (or the endpoint, when the base URL is wrong) does not exist."""

    kind = "not_found"


class BadRequestError(ApiError):
    """400/413/422: the server refused the request as sent (a parameter out of range …)."""

    kind = "bad_request"


class RateLimitError(ApiError):
    """429: too many requests; ``retry_after`` holds the server's wait in seconds when given."""

    kind = "rate_limit"
    retryable = True


class ServerError(ApiError):
    """5xx or 408: the server failed; usually temporary."""

    kind = "server"
    retryable = True


class NetworkError(ApiError):
    """The connection could not be made or broke: refused, DNS, TLS, reset."""

    kind = "network"
    retryable = True


class ApiTimeout(ApiError):
    """The server stopped answering for longer than the configured timeout.

    Not retried: the user has already waited the whole timeout once.
    """

    kind = "timeout"


class StreamInterrupted(ApiError):
    """The stream ended before the model finished (EOF with no finish reason and no [DONE])."""

    kind = "interrupted"


class ClosedWithoutReply(ApiError):
    """The server accepted the request (200, an event stream) and closed it before sending
    anything of a reply.

    Not the same as :class:`StreamInterrupted`: nothing arrived, so there is nothing to keep,
    and a retry meets the same end when the cause is the request itself. llama.cpp does this
    when the prompt is longer than its context window; other servers when they fail while
    preparing the reply. The client asks once more without streaming to learn the server's
    own words (see :func:`closed_without_reply`).
    """

    kind = "no_reply"


def closed_without_reply(
    server_says: str = "", *, status: str = "", answered: bool = False
) -> ClosedWithoutReply:
    """The error for a stream that ended before any event of a reply.

    Args:
        server_says: The server's error message for the same request sent without streaming
            (empty when it gave none, or was not asked).
        status: That answer's status ("400 Bad Request"), shown next to the message.
        answered: The request without streaming succeeded: the stream itself failed.
    """
    if server_says:
        code = f" ({status})" if status else ""
        return ClosedWithoutReply(
            "The server closed the stream without replying; asked again without streaming, "
            f"it said{code}: {server_says.rstrip('.')}.",
            hint=(
                "If the prompt is longer than the model's context window, shorten the "
                "conversation or start a new chat."
            ),
        )
    if answered:
        return ClosedWithoutReply(
            "The server closed the stream without replying, though the same request without "
            "streaming was answered.",
            hint=(
                "Retry, or turn streaming off for this server; a prompt longer than the "
                "model's context window can also cause this."
            ),
        )
    return ClosedWithoutReply(
        "The server closed the stream without replying.",
        hint=(
            "Likely causes: a prompt longer than the model's context window, or an error on "
            "the server while it prepared the reply (its log says which)."
        ),
    )


class ProviderError(ApiError):
    """The provider reported an error inside an otherwise healthy stream."""

    kind = "provider"


class ProtocolError(ApiError):
    """The server answered with something that is not an OpenAI-compatible response."""

    kind = "protocol"


class MissingKeyError(ApiError):
    """No API key was found for a provider that needs one."""

    kind = "no_key"


def missing_key_error(env_var: str) -> MissingKeyError:
    """The error shown when no key is configured, with every way to set one."""
    return MissingKeyError(
        "No API key found.",
        hint=(
            f"Set {env_var} (get a key at {OXEN_KEY_URL}), add api_key to the config file, "
            "log in with the oxen CLI, or run with --demo to try glmtui offline."
        ),
    )


def message_from_body(body: bytes | str) -> str:
    """The most useful one-line message in an error body, or "" when there is none.

    Takes the first of ``error.title``, ``error.message``, ``error.detail`` and ``message``;
    a title is followed by the detail when both exist, since a title alone rarely says enough.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return ""
    return message_from_object(data)


def message_from_object(data: Any) -> str:
    """Like :func:`message_from_body` for an already-parsed JSON value."""
    if not isinstance(data, dict):
        return ""
    error = data.get("error")
    if isinstance(error, str):
        return one_line(error)
    if isinstance(error, dict):
        title, message, detail = (
            _text(error.get("title")),
            _text(error.get("message")),
            _text(error.get("detail")),
        )
        if title:
            return one_line(f"{title}: {detail}" if detail and detail != title else title)
        if message or detail:
            return one_line(message or detail)
    for key in ("message", "detail", "status_message"):
        if _text(data.get(key)):
            return one_line(_text(data.get(key)))
    return ""


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def html_text(page: str) -> str:
    """What an HTML page says, in one line: its ``<title>``, else its text without tags."""
    page = page[:_HTML_LIMIT]
    title = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    if title and title.group(1).strip():
        text = title.group(1)
    else:
        text = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", page, flags=re.IGNORECASE | re.DOTALL)
        text = re.sub(r"<[^>]*>", " ", text)
    return one_line(html.unescape(text))


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list | dict):
        return json.dumps(value)
    return ""


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds form; HTTP dates are rare for APIs)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        from email.utils import parsedate_to_datetime  # rare: not paid for at startup

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds)


def error_for_status(
    status: int,
    body: bytes,
    *,
    reason: str = "",
    model: str | None = None,
    retry_after: str | None = None,
    url: str = "",
    endpoint: str = "chat",
) -> ApiError:
    """Turn an HTTP error response into the matching :class:`ApiError`.

    Args:
        endpoint: ``chat``, ``model`` (``GET /models/{id}``) or ``other``; a 404 means an
            unknown model for the first two and a wrong base URL otherwise.
    """
    server_says = message_from_body(body)
    if not server_says and body and body.lstrip()[:1] not in (b"<", b"") and not _is_json(body):
        # Plain text is shown; JSON without a message ("{}") and HTML pages are not.
        server_says = one_line(body.decode("utf-8", "replace"), 160)
    said = f": {server_says}" if server_says else ""
    stop = "" if said.endswith((".", "!", "?", "…")) else "."  # never "credits.."
    code = f"{status} {reason}".strip()
    if status in (401, 403):
        return AuthError(
            f"The API key was rejected ({code}){said}{stop}",
            status=status,
            hint=(
                f"Check your key (Oxen keys are at {OXEN_KEY_URL}) "
                "or run glmtui to paste a new one."
            ),
        )
    if status == 402:
        return CreditsError(
            f"Out of credits ({code}){said}{stop}",
            status=status,
            hint="Add credits to your account, then retry.",
        )
    if status == 404:
        if model and endpoint == "model":
            return NotFoundError(
                f"Model '{model}' does not exist on this provider ({code}){said}{stop}",
                status=status,
                hint="'glmtui models' lists the models it offers.",
            )
        if model and endpoint == "chat":
            return NotFoundError(
                f"Model '{model}' was not found on this provider ({code}){said}{stop}",
                status=status,
                hint="Choose another with --model; 'glmtui models' lists what the server offers.",
            )
        return NotFoundError(
            f"Nothing found at {shown_url(url) if url else 'that address'} ({code}){said}{stop}",
            status=status,
            hint="Check base_url: it should end at the API root, e.g. https://hub.oxen.ai/api/ai.",
        )
    if status == 429:
        wait = parse_retry_after(retry_after)
        when = f" Retry in {wait:.0f} s." if wait is not None else " Wait a moment, then retry."
        return RateLimitError(
            f"Rate limited by the provider ({code}){said}{stop}",
            status=status,
            hint=when.strip(),
            retry_after=wait,
        )
    if status == 408 or status >= 500:
        return ServerError(
            f"The server failed ({code}){said}{stop}",
            status=status,
            hint="This is usually temporary; retry in a moment.",
            retry_after=parse_retry_after(retry_after),
        )
    if status in (400, 413, 422):
        return BadRequestError(
            f"The server refused the request ({code}){said}{stop}",
            status=status,
            hint="Check the parameters and the model name.",
        )
    return ApiError(f"Unexpected answer from the server ({code}){said}{stop}", status=status)
