"""The HTTP client for OpenAI-compatible chat APIs (Oxen.ai, vLLM, SGLang, z.ai …).

:class:`ChatClient` streams replies as typed events (:mod:`glmtui.api.events`), retries what is
safe to retry, and turns every failure into an :class:`~glmtui.api.errors.ApiError` with a
message a user understands: what happened as it happened (a stream closed before any reply is
not a reply cut off; a non-streamed request that times out was waiting for the whole reply).
Values from users and servers never steer a request elsewhere: a model id is one encoded path
segment (:func:`path_segment`). It never imports Textual: the CLI and the UI both use it.
"""

from __future__ import annotations

import asyncio
import errno
import json
import random
import re
import ssl
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from httpx_sse import EventSource

from glmtui import __version__
from glmtui.api.errors import (
    ApiError,
    ApiTimeout,
    BadRequestError,
    ClosedWithoutReply,
    NetworkError,
    ProtocolError,
    StreamInterrupted,
    closed_without_reply,
    error_for_status,
    html_text,
    message_from_body,
    message_from_object,
    one_line,
    shown_url,
)
from glmtui.api.events import (
    ContentDelta,
    Finished,
    ReasoningDelta,
    Retrying,
    StreamEvent,
    UsageReport,
)
from glmtui.api.models import parse_model, parse_model_list
from glmtui.api.pacing import ReadPacing, paced
from glmtui.api.request import ChatRequest
from glmtui.api.stream import ChunkDecoder
from glmtui.domain import ModelCard, Usage

_ERROR_BODY_LIMIT = 64 * 1024
_SSL_SOURCE = re.compile(r"\s*\(_ssl\.c:\d+\)")

PROBE_READ_TIMEOUT = 30.0
"""The longest wait, in seconds, for the one non-streamed request that asks a server why it
closed a stream without replying (see :meth:`ChatClient.stream_chat`). Its answer is one token
long, or an error; a server slower than this has nothing quick to say."""


def path_segment(value: str) -> str:
    """``value`` as exactly one URL path segment, for ids sent in a path (``/models/{id}``).

    Everything outside RFC 3986's unreserved characters is percent-encoded, ``/`` included,
    so ``?``, ``#``, ``%``, spaces, unicode or slashes can never end the segment, start a
    query or climb the path; an id that is all dots (``.``, ``..``) has its dots encoded too,
    so no URL resolver (httpx, a proxy, the server) treats it as a dot-segment.

    Raises:
        BadRequestError: ``value`` is empty (the path would name the list, not a model).
    """
    if not value:
        raise BadRequestError("The model id is empty.", hint="Name a model, e.g. zai-org-glm-5.")
    encoded = quote(value, safe="")
    if not encoded.strip("."):
        encoded = encoded.replace(".", "%2E")
    return encoded


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long to wait, in seconds. ``read`` is the longest silence tolerated mid-stream."""

    connect: float = 10.0
    read: float = 120.0
    write: float = 30.0

    def to_httpx(self) -> httpx.Timeout:
        """As an :class:`httpx.Timeout`."""
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=10.0)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries for 408/429/5xx and connection failures, only before any output was shown."""

    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0
    """A ``Retry-After`` longer than this is not waited for; the error is shown instead."""

    def delay(self, attempt: int, error: ApiError) -> float | None:
        """Seconds to wait before retry number ``attempt`` (1-based), or None to give up."""
        if not error.retryable or attempt > self.max_retries:
            return None
        wait = error.retry_after
        if wait is not None:
            return float(wait) if wait <= self.max_retry_after else None
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return backoff * (0.75 + random.random() * 0.5)


@dataclass(slots=True)
class Completion:
    """A whole (non-streamed, or fully collected) reply."""

    content: str = ""
    reasoning: str = ""
    finish_reason: str | None = None
    model: str | None = None
    usage: Usage | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


class ChatClient:
    """Talks to one OpenAI-compatible endpoint.

    Args:
        base_url: The API root, e.g. ``https://hub.oxen.ai/api/ai`` or ``http://host:8000/v1``.
        api_key: Sent as ``Authorization: Bearer <key>``; omitted when None.
        transport: An httpx transport to use instead of the network (the offline demo, tests).
        timeouts: Connect/read/write timeouts.
        retry: When and how long to back off.
        read_pacing: How often to read the socket while a reply streams (``None``: as data
            arrives). A UI reads at the pace it draws; scripts leave it out.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        read_pacing: ReadPacing | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.read_pacing = read_pacing
        self._api_key = api_key
        self._transport = transport
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._http: httpx.AsyncClient | None = None

    def __repr__(self) -> str:  # never show the key
        return f"ChatClient({self.base_url!r}, api_key={'***' if self._api_key else None})"

    def _scrub(self, error: ApiError) -> None:
        """Take the key out of an error's text: some servers and proxies quote the key they
        rejected ("Incorrect API key provided: sk-…"), and errors are shown, logged and saved."""
        if self._api_key:
            error.redact(self._api_key)

    def url(self, path: str) -> str:
        """The absolute URL of an endpoint below the base URL."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            headers = {"User-Agent": f"glmtui/{__version__}"}
            if self._api_key:
                headers["Authorization"] = f"Bearer {self._api_key}"
            self._http = httpx.AsyncClient(
                headers=headers,
                timeout=self.timeouts.to_httpx(),
                transport=self._transport,
                follow_redirects=True,
            )
        return self._http

    async def aclose(self) -> None:
        """Close pooled connections."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- streaming -------------------------------------------------------------------------

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """Send ``request`` and yield its reply as typed events.

        Failures before any text arrived are retried per :attr:`retry` (a :class:`Retrying`
        event announces each wait). A stream the server closes before any of the reply is not
        retried: the request is sent once more without streaming and for one token
        (``max_tokens: 1``), and the server's answer, usually an error that says why (a prompt
        longer than the context window), goes into the :class:`ClosedWithoutReply` raised.
        Nothing is ever sent again once any of the reply arrived. Closing the iterator, or
        cancelling the task consuming it, closes the connection (that second request's too).

        Raises:
            ApiError: the request failed; if text had arrived, the error carries it in
                ``partial_content``/``partial_reasoning``.
        """
        attempt = 0
        while True:
            decoder = ChunkDecoder()
            try:
                async for event in self._stream_once(request, decoder):
                    yield event
                return
            except ApiError as caught:
                error = caught
                if isinstance(error, ClosedWithoutReply) and not decoder.has_output:
                    # Not retried (the same request meets the same end): asked once without
                    # streaming instead, which costs a token and tells why.
                    error = await self._ask_why_closed(request)
                self._scrub(error)
                decoder.attach_partial(error)
                attempt += 1
                delay = None if decoder.has_output else self.retry.delay(attempt, error)
                if delay is None:
                    if error is caught:
                        raise
                    raise error from caught
                yield Retrying(attempt=attempt, delay=delay, reason=error.message)
                await asyncio.sleep(delay)

    async def _ask_why_closed(self, request: ChatRequest) -> ClosedWithoutReply:
        """Send ``request`` once more, without streaming and for one token, to learn the
        server's own reason for closing a stream before replying (llama.cpp, for one, streams
        nothing when the prompt is longer than its context window, but says so in the body of
        a non-streamed answer). Any failure of this request leaves the plain explanation.

        Cancelling the task (a user's Stop) cancels this request with it.
        """
        body = {**request.body(), "stream": False, "max_tokens": 1}
        body.pop("stream_options", None)
        timeout = httpx.Timeout(
            connect=self.timeouts.connect,
            read=min(self.timeouts.read, PROBE_READ_TIMEOUT),
            write=self.timeouts.write,
            pool=10.0,
        )
        try:
            response = await self._client().post(
                self.url("chat/completions"), json=body, timeout=timeout
            )
        except httpx.HTTPError:
            return closed_without_reply()
        raw = response.content[:_ERROR_BODY_LIMIT]
        said = message_from_body(raw)
        if response.status_code >= 400:
            if not said and raw.strip()[:1] not in (b"", b"<", b"{", b"["):
                said = one_line(raw.decode("utf-8", "replace"), 160)  # a plain-text reason
            status = f"{response.status_code} {response.reason_phrase}".strip()
            return closed_without_reply(said, status=status)
        if said:  # an error object behind a 200
            return closed_without_reply(said)
        try:
            answered = isinstance(json.loads(raw).get("choices"), list)
        except (ValueError, AttributeError):
            answered = False
        return closed_without_reply(answered=answered)

    async def _stream_once(
        self, request: ChatRequest, decoder: ChunkDecoder
    ) -> AsyncIterator[StreamEvent]:
        url = self.url("chat/completions")
        body = request.body()
        opened = False  # a 200 event stream: from here on, an early end is the server's doing
        try:
            async with self._client().stream(
                "POST",
                url,
                json=body,
                headers={"Accept": "text/event-stream", "Cache-Control": "no-store"},
            ) as response:
                if response.status_code >= 400:
                    raise await self._status_error(response, request.model)
                content_type = response.headers.get("content-type", "")
                if "text/event-stream" not in content_type:
                    # Some servers ignore "stream": true, or put an error page behind a 200.
                    for event in await self._non_sse_body(response, content_type):
                        yield event
                    return
                opened = True
                paced_response, pace = paced(response, self.read_pacing)
                async for sse in EventSource(paced_response).aiter_sse():
                    pace.note_event()
                    for event in decoder.feed(sse.data, sse.event):
                        yield event
                    if decoder.done:
                        break
        except httpx.HTTPError as exc:
            if decoder.complete:
                # The model had finished; a connection dropped before [DONE] loses nothing.
                for event in decoder.finish():
                    yield event
                return
            if opened and not decoder.has_output and isinstance(exc, httpx.RemoteProtocolError):
                raise closed_without_reply() from exc  # closed, not reset: as a clean EOF
            raise _transport_error(
                exc,
                url,
                self.timeouts,
                mid_stream=decoder.has_output,
                whole_reply=not request.stream,
            ) from exc
        for event in decoder.finish():
            yield event

    async def _non_sse_body(self, response: httpx.Response, content_type: str) -> list[StreamEvent]:
        raw = await response.aread()
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("choices"), list):
            completion = _completion_from_json(data)
            events: list[StreamEvent] = []
            if completion.reasoning:
                events.append(ReasoningDelta(completion.reasoning))
            if completion.content:
                events.append(ContentDelta(completion.content))
            if completion.usage:
                events.append(UsageReport(completion.usage))
            events.append(Finished(completion.finish_reason or "stop", completion.model))
            return events
        said = message_from_object(data) if data is not None else ""
        if said:
            raise ProtocolError(f"The server answered with an error: {said}.")
        kind = content_type.split(";")[0].strip() or "no content type"
        text = raw.decode("utf-8", "replace")
        if "html" in kind or text.lstrip()[:1] == "<":
            text = html_text(text)  # an error page: what it says, not its markup
        snippet = one_line(text, 80) if text.strip() else "an empty body"
        raise ProtocolError(
            f"The server did not answer with an event stream ({kind}): {snippet}",
            hint="Check base_url: it should point at an OpenAI-compatible API.",
        )

    async def _status_error(self, response: httpx.Response, model: str | None) -> ApiError:
        raw = b""
        try:
            async for part in response.aiter_bytes():
                raw += part
                if len(raw) > _ERROR_BODY_LIMIT:
                    break
        except httpx.HTTPError:
            pass
        return error_for_status(
            response.status_code,
            raw,
            reason=response.reason_phrase,
            model=model,
            retry_after=response.headers.get("retry-after"),
            url=str(response.request.url),
            endpoint="chat",
        )

    # --- whole replies and models ----------------------------------------------------------

    async def complete(self, request: ChatRequest) -> Completion:
        """Send ``request`` without streaming and return the whole reply.

        Raises:
            ApiError: the request failed (retried first when that is safe).
        """
        body = {**request.body(), "stream": False}
        body.pop("stream_options", None)
        data = await self._json(
            "POST", "chat/completions", model=request.model, whole_reply=True, json=body
        )
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            said = message_from_object(data)
            raise ProtocolError(
                f"The server sent an unexpected reply{': ' + said if said else ''}.",
            )
        return _completion_from_json(data)

    async def list_models(self) -> list[ModelCard]:
        """Every model the server offers (``GET {base}/models``)."""
        return parse_model_list(await self._json("GET", "models"))

    async def get_model(self, model_id: str) -> ModelCard:
        """One model's card (``GET {base}/models/{id}``).

        Raises:
            NotFoundError: the provider has no such model.
        """
        # One path segment, whatever the id holds: "../../etc/passwd" must not become
        # GET /etc/passwd (with the key) on the provider's host. See path_segment().
        data = await self._json("GET", f"models/{path_segment(model_id)}", model=model_id)
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            data = data["data"]  # some servers wrap the object
        if not isinstance(data, dict) or not data.get("id"):
            raise ProtocolError(f"The server sent no model object for '{model_id}'.")
        return parse_model(data)

    async def _json(
        self,
        method: str,
        path: str,
        *,
        model: str | None = None,
        whole_reply: bool = False,
        **kw: Any,
    ) -> Any:
        """``method path`` and its JSON answer, retried when that is safe.

        Args:
            whole_reply: The request waits for a whole chat reply (not streamed), which a
                timeout's message must say.
        """
        url = self.url(path)
        endpoint = "chat" if path.startswith("chat") else "model" if model else "other"
        attempt = 0
        while True:
            try:
                try:
                    response = await self._client().request(method, url, **kw)
                except httpx.HTTPError as exc:
                    raise _transport_error(
                        exc, url, self.timeouts, mid_stream=False, whole_reply=whole_reply
                    ) from exc
                if response.status_code >= 400:
                    error = error_for_status(
                        response.status_code,
                        response.content[:_ERROR_BODY_LIMIT],
                        reason=response.reason_phrase,
                        model=model,
                        retry_after=response.headers.get("retry-after"),
                        url=url,
                        endpoint=endpoint,
                    )
                    raise error
                try:
                    return response.json()
                except ValueError:
                    kind = response.headers.get("content-type", "no content type")
                    raise ProtocolError(
                        f"The server did not answer with JSON ({kind.split(';')[0]}).",
                        hint="Check base_url: it should point at an OpenAI-compatible API.",
                    ) from None
            except ApiError as error:
                self._scrub(error)
                attempt += 1
                delay = self.retry.delay(attempt, error)
                if delay is None:
                    raise
                await asyncio.sleep(delay)


def _completion_from_json(data: dict[str, Any]) -> Completion:
    from glmtui.api.stream import split_inline_reasoning

    choice = data["choices"][0] if data.get("choices") else {}
    message = choice.get("message") or {}
    content = message.get("content") if isinstance(message.get("content"), str) else ""
    reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
    if not isinstance(reasoning, str):
        reasoning = ""
    if not reasoning and content:
        reasoning, content = split_inline_reasoning(content)
    usage = data.get("usage")
    return Completion(
        content=content or "",
        reasoning=reasoning,
        finish_reason=choice.get("finish_reason"),
        model=data.get("model") if isinstance(data.get("model"), str) else None,
        usage=Usage.from_wire(usage) if isinstance(usage, dict) and usage else None,
        tool_calls=[c for c in message.get("tool_calls") or [] if isinstance(c, dict)],
    )


def _host(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except Exception:
        return url
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host


def _transport_error(
    exc: httpx.HTTPError,
    url: str,
    timeouts: Timeouts,
    *,
    mid_stream: bool,
    whole_reply: bool = False,
) -> ApiError:
    """Map an httpx exception to an :class:`ApiError` with a plain-words message.

    Args:
        mid_stream: Some of the reply had arrived.
        whole_reply: The request was not streamed: the server sends nothing until the whole
            reply is written, so a read timeout says that rather than blaming the server.
    """
    host = _host(url)
    text = str(exc)
    chain = _exception_chain(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return NetworkError(
            f"Could not connect to {host} within {timeouts.connect:g} s.",
            hint="Check your network and base_url.",
        )
    if isinstance(exc, httpx.TimeoutException) and whole_reply and not mid_stream:
        return ApiTimeout(
            f"No reply within {timeouts.read:g} s (read timeout): the request was not "
            "streamed, so it was waiting for the complete reply.",
            hint=(
                "Turn streaming on to see the reply as it is written, or set max_tokens to "
                "bound its length (or raise the timeout setting)."
            ),
        )
    if isinstance(exc, httpx.TimeoutException):
        where = "mid-reply" if mid_stream else "before answering"
        return ApiTimeout(
            f"The server went silent {where} for {timeouts.read:g} s (read timeout).",
            hint="The provider may be overloaded; retry, or raise the timeout setting.",
        )
    if isinstance(exc, httpx.ConnectError):
        lowered = text.lower()
        if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in lowered or "tls" in lowered:
            return NetworkError(
                f"Secure connection (TLS) to {host} failed: {_short_reason(exc)}.",
                hint="Check the URL's scheme (http/https) and the system's certificates.",
            )
        if any(
            phrase in lowered
            for phrase in (
                "name or service not known",
                "nodename nor servname",
                "getaddrinfo failed",
                "temporary failure in name resolution",
                "no address associated",
                "name resolution",
            )
        ):
            return NetworkError(
                f"Could not resolve host '{httpx.URL(url).host}'.",
                hint="Check base_url and your network connection.",
            )
        if "refused" in lowered or any(
            getattr(e, "errno", None) == errno.ECONNREFUSED for e in chain
        ):
            return NetworkError(
                f"Could not connect to {host}: connection refused.",
                hint="Is the server running, and is base_url right?",
            )
        return NetworkError(
            f"Could not connect to {host}: {_short_reason(exc)}.",
            hint="Check your network and base_url.",
        )
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError) and mid_stream:
        return StreamInterrupted(
            "The reply was cut off: the connection broke before the model finished.",
            hint="What arrived is kept; regenerate to try again.",
        )
    if isinstance(exc, httpx.RemoteProtocolError):
        return NetworkError(
            f"{host} closed the connection without a complete answer.",
            hint="This is usually temporary; retry in a moment.",
        )
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return NetworkError(
            f"The connection to {host} was reset.",
            hint="Check your network; retry in a moment.",
        )
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return NetworkError(
            f"base_url is not a usable URL: {shown_url(url)}.",
            hint="It should look like https://hub.oxen.ai/api/ai.",
        )
    if isinstance(exc, httpx.DecodingError):
        return ProtocolError(f"The server's answer could not be decoded: {_short_reason(exc)}.")
    return NetworkError(f"Request to {host} failed: {_short_reason(exc)}.")


def _exception_chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _short_reason(exc: BaseException) -> str:
    """The innermost exception's message, without errno noise."""
    for inner in reversed(_exception_chain(exc)):
        text = getattr(inner, "strerror", None) or getattr(inner, "reason", None) or str(inner)
        text = _SSL_SOURCE.sub("", str(text))  # "… (_ssl.c:1006)": OpenSSL's source line
        if text:
            return one_line(text, 120).rstrip(".")
    return type(exc).__name__
