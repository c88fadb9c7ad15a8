"""The next request as something to paste elsewhere: cURL, Python (httpx) or raw JSON.

Built from the very :class:`~glmtui.api.request.ChatRequest` the client would send, so what is
shown is what is sent (tool calls and their results included). The key is never written: the
snippets read it from an environment variable (``$OXEN_API_KEY`` or the provider's own
variable). A request built as a preview holds placeholders for images and PDFs; the cURL
command and the script then say so in a comment at the top, so nobody runs one unaware.
"""

from __future__ import annotations

import json
import pprint
import re
import shlex
from typing import Any

from glmtui.api.request import ChatRequest

FORMATS = ("curl", "python", "json")
"""What ``--print-request`` and the preview offer."""

_HEREDOC = "GLMTUI_REQUEST"
"""Delimiter of the cURL body: JSON text can never hold it alone on a line."""


_PLACEHOLDER = re.compile(r"^data:[^;,]*;base64,…\((.*)\)$", re.S)
"""A preview's stand-in for an attachment's data (see
:func:`glmtui.domain.attachments.user_content`): ``data:image/png;base64,…(12,345 bytes of
photo.png)``."""


def placeholders(request: ChatRequest) -> list[str]:
    """What each placeholder in the request stands for (``12,345 bytes of photo.png``), in
    order; empty when the request carries all its data."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            match = _PLACEHOLDER.match(value)
            if match:
                found.append(match.group(1))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for message in request.messages:
        if isinstance(message.get("content"), list):
            walk(message["content"])
    return found


def _left_out_note(request: ChatRequest) -> str:
    """Comment lines (``#``) naming the data a preview left out, or ""."""
    missing = placeholders(request)
    if not missing:
        return ""
    return (
        f"# Not runnable as it is: the data of {'; '.join(missing)} is a placeholder "
        "(send from glmtui to send the files).\n"
    )


def as_json(request: ChatRequest) -> str:
    """The request body, pretty-printed."""
    return json.dumps(request.body(), indent=2, ensure_ascii=False)


def as_curl(request: ChatRequest, base_url: str, key_variable: str | None) -> str:
    """A cURL command sending the request (the body in a quoted here-document: no escaping)."""
    url = f"{base_url.rstrip('/')}/chat/completions"
    lines = [
        f"{_left_out_note(request)}curl -sS{' -N' if request.stream else ''} {shlex.quote(url)} \\"
    ]
    if key_variable:
        lines.append(f'  -H "Authorization: Bearer ${key_variable}" \\')
    lines.append('  -H "Content-Type: application/json" \\')
    lines.append(f"  --data-binary @- <<'{_HEREDOC}'")
    lines.append(as_json(request))
    lines.append(_HEREDOC)
    return "\n".join(lines) + "\n"


_SSE_READER = '''\
def sse_events(lines):
    """The (event, data) of each server-sent event: data lines joined with newlines,
    comments skipped, "data:" with or without a space (the SSE standard's rules)."""
    event, data = "", []
    for line in lines:
        if not line:  # a blank line ends the event
            if data:
                yield event, "\\n".join(data)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue  # a comment, e.g. a keep-alive ping
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    if data:
        yield event, "\\n".join(data)


def fail(text):
    sys.exit(f"error: {text}")


'''
"""Decodes a stream in the exported Python script (standard library only)."""

_STREAM_CALL = """\
calls = {}  # tool calls by index: [name, arguments], which arrive in pieces
with httpx.stream("POST", URL, json=body, headers=headers, timeout=120) as response:
    if response.is_error:
        fail(f"{response.status_code} {response.reason_phrase}: {response.read().decode()}")
    for event, data in sse_events(response.iter_lines()):
        if data.strip() == "[DONE]":
            break
        try:
            chunk = json.loads(data)
        except ValueError:
            fail(data if event == "error" else f"not JSON: {data!r}")
        if event == "error" or not isinstance(chunk, dict) or chunk.get("error"):
            fail(json.dumps(chunk.get("error", chunk) if isinstance(chunk, dict) else chunk))
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            thinking = delta.get("reasoning_content") or delta.get("reasoning")
            if thinking:
                print(thinking, end="", file=sys.stderr, flush=True)
            print(delta.get("content") or "", end="", flush=True)
            for call in delta.get("tool_calls") or []:
                function = call.get("function") or {}
                name_and_arguments = calls.setdefault(call.get("index", len(calls)), ["", ""])
                name_and_arguments[0] += function.get("name") or ""
                name_and_arguments[1] += function.get("arguments") or ""
print()
for name, arguments in calls.values():
    print(f"tool call: {name}({arguments})", file=sys.stderr)
"""

_WHOLE_CALL = """\
response = httpx.post(URL, json=body, headers=headers, timeout=120)
if response.is_error:
    fail(f"{response.status_code} {response.reason_phrase}: {response.text}")
message = response.json()["choices"][0]["message"]
print(message.get("content") or "")
for call in message.get("tool_calls") or []:
    function = call.get("function") or {}
    print(f"tool call: {function.get('name')}({function.get('arguments') or ''})", file=sys.stderr)
"""


def as_python(request: ChatRequest, base_url: str, key_variable: str | None) -> str:
    """A Python script (httpx) sending the request and printing the answer as it arrives.

    A streamed answer is decoded as server-sent events by the script itself, with the
    standard library only: an event may span several ``data:`` lines (z.ai sends such), lines
    may end in CRLF, comments are skipped, ``data:`` may lack its space, ``[DONE]`` ends the
    stream, and an ``error`` (an ``event: error`` or an ``error`` object) ends the script
    with the provider's message on stderr and exit status 1. Reasoning goes to stderr, the
    answer to stdout, and the tool calls the model asks for, once complete (their arguments
    stream in pieces, parallel calls interleaved), to stderr as ``tool call: name(arguments)``;
    the request itself holds the history's calls and results exactly as the app sends them
    (:meth:`~glmtui.domain.Session.wire_messages`). ``URL`` is the script's first assignment,
    so it is easy to change.
    """
    url = f"{base_url.rstrip('/')}/chat/completions"
    body = pprint.pformat(request.body(), indent=1, width=88, sort_dicts=False)
    headers = (
        f'headers = {{"Authorization": f"Bearer {{os.environ[{key_variable!r}]}}"}}'
        if key_variable
        else "headers: dict[str, str] = {}"
    )
    helpers = _SSE_READER if request.stream else _SSE_READER[_SSE_READER.index("def fail") :]
    call = _STREAM_CALL if request.stream else _WHOLE_CALL
    return (
        f"{_left_out_note(request)}import json\nimport os\nimport sys\n\nimport httpx\n\n"
        f"URL = {url!r}\n{headers}\nbody = {body}\n\n\n{helpers}{call}"
    )


def render(request: ChatRequest, fmt: str, base_url: str, key_variable: str | None) -> str:
    """The request in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "curl":
        return as_curl(request, base_url, key_variable)
    if fmt == "python":
        return as_python(request, base_url, key_variable)
    if fmt == "json":
        return as_json(request) + "\n"
    raise ValueError(f"unknown request format {fmt!r}; choose from {', '.join(FORMATS)}")
