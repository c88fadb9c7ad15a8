"""Tool calls in what leaves glmtui: the Markdown export, ``glmtui sessions show``, the JSON
and TOML exports, and the request shown as cURL, Python or JSON."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from glmtui import paths
from glmtui.api.request import build_request
from glmtui.chat.export import as_curl, as_json, as_python
from glmtui.cli import main
from glmtui.domain import Message, Session
from glmtui.domain.tools import ToolCall, ToolOutcome
from glmtui.store import SessionStore, session_to_markdown
from glmtui.store.export import BRIEF_ARGUMENTS, fenced, inline_code
from tests.conftest import FAKE_KEY
from tests.server import JsonReply, LoopbackServer, tool_call_stream

RESULT = (
    '{\n  "timezone": "Asia/Tokyo",\n  "datetime": "2026-12-08T18:15:03+09:00",\n'
    '  "day_of_week": "Tuesday",\n  "is_dst": false\n}'
)


def turn(
    *results: Message, arguments: str = '{"timezone":"Asia/Tokyo"}', content: str = ""
) -> Session:
    """A user question, a reply calling ``get_current_time``, then ``results``."""
    when = datetime(2026, 12, 8, 9, 15, tzinfo=UTC)
    return Session(
        id="tools0001",
        title="Tokyo time",
        created_at=when,
        updated_at=when,
        model="zai-org/GLM-5-FP8",
        messages=[
            Message("user", "What time is it in Tokyo?", created_at=when),
            Message(
                "assistant",
                content,
                created_at=when,
                status="complete",
                finish_reason="tool_calls",
                model="zai-org/GLM-5-FP8",
                tool_calls=(ToolCall("call_1", "get_current_time", arguments),),
            ),
            *results,
        ],
    )


def result(
    content: str = RESULT, outcome: ToolOutcome | None = "ok", duration: int | None = 41
) -> Message:
    return Message(
        "tool",
        content,
        tool_call_id="call_1",
        tool_name="time.get_current_time",
        tool_outcome=outcome,
        duration_ms=duration,
    )


DEEP = "[" * 3000 + "]" * 3000
"""Valid JSON nested too deeply for Python's ``json`` to indent."""


def parse(markdown: str) -> list[Token]:
    """The tokens of an export's body (after the front matter) as a CommonMark parser reads it."""
    assert markdown.startswith("---\n")
    return MarkdownIt("commonmark").parse(markdown.split("\n---\n", 1)[1])


def fences(markdown: str) -> list[tuple[str, str]]:
    """Each fenced code block of ``markdown``: (info, text)."""
    return [(t.info, t.content) for t in parse(markdown) if t.type == "fence"]


# --- the Markdown export -------------------------------------------------------------------------


def test_a_call_and_its_result_are_shown_together() -> None:
    markdown = session_to_markdown(turn(result()))
    assert (
        "## Assistant · zai-org/GLM-5-FP8\n\n"
        "**Tool call** `time.get_current_time`\n\n"
        '```json\n{\n  "timezone": "Asia/Tokyo"\n}\n```\n\n'  # pretty-printed
        "**Result** · ok · 41 ms\n\n"
        f"```json\n{RESULT}\n```\n"
    ) in markdown
    assert "## Tool" not in markdown  # the result is under its call, not repeated
    assert "*(no text)*" not in markdown  # a reply that only calls tools has no text to miss
    assert fences(markdown) == [
        ("json", '{\n  "timezone": "Asia/Tokyo"\n}\n'),
        ("json", RESULT + "\n"),
    ]


@pytest.mark.parametrize(
    ("outcome", "duration", "label"),
    [
        ("error", 1500, "**Result** · failed · 1.5 s"),
        ("denied", None, "**Result** · denied"),
        ("timeout", 30000, "**Result** · timed out · 30.0 s"),
        ("cancelled", None, "**Result** · not completed"),
        (None, None, "**Result**\n"),
    ],
)
def test_the_outcome_is_named(
    outcome: ToolOutcome | None, duration: int | None, label: str
) -> None:
    markdown = session_to_markdown(turn(result("It went wrong.", outcome, duration)))
    assert f"{label}" in markdown
    assert fences(markdown)[-1] == ("", "It went wrong.\n")


@pytest.mark.parametrize(
    "text",
    [
        "```\nrm -rf /\n```",
        "````python\nx\n````\n## Not a heading",
        "a ``` in a line, then\n```",
        "`````",
        "~~~\nnot closing\n~~~",
    ],
    ids=["fence", "longer-fence-and-heading", "fence-mid-line", "five-backticks", "tildes"],
)
def test_a_result_holding_fences_stays_inside_its_block(text: str) -> None:
    """A tool returning Markdown cannot close the block early and inject headings."""
    markdown = session_to_markdown(turn(result(text)))
    assert fences(markdown)[-1] == ("", text + "\n")
    tokens = parse(markdown)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == ["Tokyo time", "User", "Assistant · zai-org/GLM-5-FP8"]


def test_fence_and_inline_code_helpers() -> None:
    assert fenced("x") == ["```", "x", "```"]
    assert fenced("a ```` b\n", "json") == ["`````json", "a ```` b", "`````"]
    assert inline_code("server.tool") == "`server.tool`"
    assert inline_code("a`b") == "``a`b``"
    assert inline_code("`x") == "`` `x ``"


@pytest.mark.parametrize(
    ("arguments", "shown"),
    [
        ('{"a": 1', ("", '{"a": 1\n')),  # not JSON: as the model wrote it
        pytest.param("[" * 5000, ("", "[" * 5000 + "\n"), id="unparseable"),
        pytest.param(DEEP, ("", DEEP + "\n"), id="too-deep-to-indent"),
    ],
)
def test_arguments_that_are_not_json_are_shown_verbatim(
    arguments: str, shown: tuple[str, str]
) -> None:
    markdown = session_to_markdown(turn(result(), arguments=arguments))
    assert fences(markdown)[0] == shown
    brief = session_to_markdown(turn(result(), arguments=arguments), brief=True)
    [line] = [li for li in brief.splitlines() if li.startswith("⚙")]  # one line, cut
    assert len(line) <= len("⚙ time.get_current_time() → ok · 41 ms") + BRIEF_ARGUMENTS


def test_no_arguments_no_output_and_no_result() -> None:
    session = turn(result("", duration=None), arguments="")
    markdown = session_to_markdown(session)
    assert "*(no arguments)*" in markdown
    assert "**Result** · ok\n\n*(no output)*" in markdown
    unanswered = session_to_markdown(turn(content="Checking."))
    assert "Checking.\n\n**Tool call** `get_current_time`" in unanswered  # the model's name
    assert "*(no result: not completed)*" in unanswered


def test_a_result_whose_call_is_missing_is_shown_on_its_own() -> None:
    session = turn(result())
    orphan = Message("tool", "late", tool_call_id="gone", tool_name="x.y", tool_outcome="denied")
    session.messages.extend([Message("user", "and?"), orphan])
    markdown = session_to_markdown(session)
    assert markdown.endswith("## Tool · x.y\n\n**Result** · denied\n\n```\nlate\n```\n")


def test_parallel_calls_each_get_their_own_result() -> None:
    session = turn()
    session.messages[1].tool_calls = (
        ToolCall("a", "f", "{}"),
        ToolCall("b", "g", "{}"),
    )
    session.messages += [
        Message("tool", "from g", tool_call_id="b", tool_name="s.g", tool_outcome="ok"),
        Message("tool", "from f", tool_call_id="a", tool_name="s.f", tool_outcome="error"),
    ]
    markdown = session_to_markdown(session)
    f_at, g_at = markdown.index("**Tool call** `s.f`"), markdown.index("**Tool call** `s.g`")
    assert f_at < markdown.index("from f") < g_at < markdown.index("from g")
    assert "**Result** · failed" in markdown[f_at:g_at]


# --- the brief form: glmtui sessions show --------------------------------------------------------


def test_brief_form_gives_each_call_one_line_and_the_first_lines_of_its_result() -> None:
    text = session_to_markdown(turn(result()), brief=True)
    assert (
        'Assistant · zai-org/GLM-5-FP8\n\n⚙ time.get_current_time({"timezone": "Asia/Tokyo"})'
        " → ok · 41 ms\n\n"
        "    {\n"
        '      "timezone": "Asia/Tokyo",\n'
        '      "datetime": "2026-12-08T18:15:03+09:00",\n'
        "    … 3 more lines\n"
    ) in text
    long = turn(result("x" * 300, "denied", None), arguments=json.dumps({"q": "y" * 200}))
    line = next(li for li in session_to_markdown(long, brief=True).splitlines() if "⚙" in li)
    assert line == f'⚙ time.get_current_time({{"q": "{"y" * (BRIEF_ARGUMENTS - 8)}…) → denied'
    assert "    " + "x" * 99 + "…\n" in session_to_markdown(long, brief=True)
    assert "→ no result (not completed)" in session_to_markdown(turn(), brief=True)


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def saved() -> Session:
    session = turn(result(), content="Let me look that up.")
    session.messages.append(Message("assistant", "It is 18:15 in Tokyo.", status="complete"))
    with SessionStore(paths.data_dir()) as store:
        store.save(session)
    return session


@pytest.fixture(autouse=True)
def empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def test_sessions_show_search_and_export(
    capsys: pytest.CaptureFixture[str], saved: Session
) -> None:
    assert main(["sessions", "show", "tools0001"]) == 0
    out = capsys.readouterr().out
    assert (
        "Let me look that up.\n\n"
        '⚙ time.get_current_time({"timezone": "Asia/Tokyo"}) → ok · 41 ms\n\n'
        "    {\n"
    ) in out
    assert out.endswith("## Assistant\n\nIt is 18:15 in Tokyo.\n")

    assert main(["sessions", "search", "--json", "Tuesday"]) == 0
    [hit] = json.loads(capsys.readouterr().out)
    assert (hit["id"], hit["message_index"], hit["snippet"]) == (
        "tools0001",
        2,
        '"day_of_week": "Tuesday",',
    )

    assert main(["sessions", "export", "tools0001", "--format", "json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["messages"][1]["tool_calls"] == [
        {"id": "call_1", "name": "get_current_time", "arguments": '{"timezone":"Asia/Tokyo"}'}
    ]
    assert {k: v for k, v in exported["messages"][2].items() if k.startswith(("tool", "dur"))} == {
        "tool_call_id": "call_1",
        "tool_name": "time.get_current_time",
        "tool_outcome": "ok",
        "duration_ms": 41,
    }

    assert main(["sessions", "export", "tools0001"]) == 0
    assert "**Tool call** `time.get_current_time`" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_an_exported_file_imports_back_with_its_tool_calls(fmt: str, saved: Session) -> None:
    with SessionStore(paths.data_dir()) as store:
        target = paths.data_dir() / f"elsewhere.{fmt}"
        target.write_text(store.export(saved, fmt))  # type: ignore[arg-type]
        imported = store.import_file(target)
    assert imported.messages == saved.messages


# --- the request, shown as cURL, Python and JSON ------------------------------------------------


def test_the_request_export_carries_the_tool_history() -> None:
    session = turn(result())
    session.messages[1].tool_calls += (ToolCall("call_2", "f", "{broken"),)  # never answered
    request = build_request(session)
    body = json.loads(as_json(request))
    assert body["messages"] == session.wire_messages()
    assert body["messages"][1]["tool_calls"][1]["function"] == {"name": "f", "arguments": "{broken"}
    assert [m["tool_call_id"] for m in body["messages"] if m["role"] == "tool"] == [
        "call_1",
        "call_2",  # answered as not completed, so a server accepts the history
    ]
    curl = as_curl(request, "http://x/v1", "OXEN_API_KEY")
    assert json.loads(curl.split("<<'GLMTUI_REQUEST'\n")[1].split("\nGLMTUI_REQUEST")[0]) == body
    script = as_python(request, "http://x/v1", None)
    namespace: dict[str, object] = {}
    exec(script.split("\n\n\ndef ")[0].replace("import httpx", ""), namespace)  # up to `body`
    assert namespace["body"] == body


def run_script(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-"],
        input=script,
        capture_output=True,
        text=True,
        env={**os.environ, "OXEN_API_KEY": FAKE_KEY},
        timeout=30,
    )


@pytest.mark.parametrize("style", ["fragments", "whole"])
def test_the_python_script_prints_the_tool_calls_it_is_asked_for(
    server: LoopbackServer, style: str
) -> None:
    calls = [("c1", "get_current_time", '{"timezone": "Asia/Tokyo"}'), ("c2", "g", "{}")]
    server.enqueue(tool_call_stream(calls, style=style, text_tokens=["Checking."]))
    done = run_script(as_python(build_request(turn(result())), server.base_url, "OXEN_API_KEY"))
    assert (done.returncode, done.stdout) == (0, "Checking.\n"), done.stderr
    assert done.stderr == (
        'tool call: get_current_time({"timezone": "Asia/Tokyo"})\ntool call: g({})\n'
    )
    assert server.chat_requests[0].json()["messages"][2]["role"] == "tool"


def test_the_python_script_without_streaming_prints_the_tool_calls(
    server: LoopbackServer,
) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    server.enqueue(JsonReply(body={"choices": [{"index": 0, "message": message}]}))
    request = build_request(turn(result()), stream=False)
    done = run_script(as_python(request, server.base_url, "OXEN_API_KEY"))
    assert (done.returncode, done.stdout, done.stderr) == (0, "\n", 'tool call: f({"a": 1})\n')
