"""The next request as something to paste elsewhere: cURL, Python (httpx) or raw JSON.

Built from the very :class:`~glmtui.api.request.ChatRequest` the client would send, so what is
shown is what is sent. The key is never written: the snippets read it from an environment
variable (``$OXEN_API_KEY`` or the provider's own variable).
"""

from __future__ import annotations

import json
import pprint
import shlex

from glmtui.api.request import ChatRequest

FORMATS = ("curl", "python", "json")
"""What ``--print-request`` and the preview offer."""

_HEREDOC = "GLMTUI_REQUEST"
"""Delimiter of the cURL body: JSON text can never hold it alone on a line."""


def as_json(request: ChatRequest) -> str:
    """The request body, pretty-printed."""
    return json.dumps(request.body(), indent=2, ensure_ascii=False)


def as_curl(request: ChatRequest, base_url: str, key_variable: str | None) -> str:
    """A cURL command sending the request (the body in a quoted here-document: no escaping)."""
    url = f"{base_url.rstrip('/')}/chat/completions"
    lines = [f"curl -sS{' -N' if request.stream else ''} {shlex.quote(url)} \\"]
    if key_variable:
        lines.append(f'  -H "Authorization: Bearer ${key_variable}" \\')
    lines.append('  -H "Content-Type: application/json" \\')
    lines.append(f"  --data-binary @- <<'{_HEREDOC}'")
    lines.append(as_json(request))
    lines.append(_HEREDOC)
    return "\n".join(lines) + "\n"


def as_python(request: ChatRequest, base_url: str, key_variable: str | None) -> str:
    """A Python script (httpx) sending the request and printing the answer as it arrives."""
    url = f"{base_url.rstrip('/')}/chat/completions"
    body = pprint.pformat(request.body(), indent=1, width=88, sort_dicts=False)
    headers = (
        f'headers = {{"Authorization": f"Bearer {{os.environ[{key_variable!r}]}}"}}'
        if key_variable
        else "headers: dict[str, str] = {}"
    )
    if request.stream:
        call = """\
with httpx.stream("POST", URL, json=body, headers=headers, timeout=120) as response:
    response.raise_for_status()
    for line in response.iter_lines():
        if not line.startswith("data:") or line[5:].strip() == "[DONE]":
            continue
        for choice in json.loads(line[5:]).get("choices", []):
            print(choice.get("delta", {}).get("content") or "", end="", flush=True)
print()
"""
    else:
        call = """\
response = httpx.post(URL, json=body, headers=headers, timeout=120)
response.raise_for_status()
print(response.json()["choices"][0]["message"]["content"])
"""
    return (
        "import json\nimport os\n\nimport httpx\n\n"
        f"URL = {url!r}\n{headers}\nbody = {body}\n\n{call}"
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
