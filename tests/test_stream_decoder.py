"""The pure half of streaming: chunks → typed events, inline <think> splitting, request bodies."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glmtui.api.errors import (
    ClosedWithoutReply,
    ProtocolError,
    ProviderError,
    StreamInterrupted,
)
from glmtui.api.events import ContentDelta, Finished, ReasoningDelta, ToolCallDelta, UsageReport
from glmtui.api.request import ChatRequest, build_request, thinking_fields
from glmtui.api.stream import ChunkDecoder, ThinkSplitter, split_inline_reasoning
from glmtui.domain import Message, Parameters, Session


def delta(**fields: object) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": fields, "finish_reason": None}]})


def texts(events: list[object], kind: type) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))  # type: ignore[attr-defined]


def test_reasoning_content_and_reasoning_fields() -> None:
    decoder = ChunkDecoder()
    events = decoder.feed(delta(reasoning_content="a")) + decoder.feed(delta(reasoning="b"))
    events += decoder.feed(delta(content="answer"))
    assert texts(events, ReasoningDelta) == "ab"
    assert texts(events, ContentDelta) == "answer"


def test_role_only_first_chunk_yields_nothing() -> None:
    assert ChunkDecoder().feed(delta(role="assistant", content="")) == []


def test_usage_only_chunk_and_usage_on_choice_chunk() -> None:
    decoder = ChunkDecoder()
    events = decoder.feed(json.dumps({"choices": [], "usage": {"prompt_tokens": 3}}))
    assert isinstance(events[0], UsageReport)
    assert events[0].usage.prompt_tokens == 3
    both = {
        "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 5,
            "completion_tokens": 7,
            "total_tokens": 12,
            "completion_tokens_details": {"reasoning_tokens": 4},
            "prompt_tokens_details": {"cached_tokens": 2},
            "cost": 0.001,
        },
    }
    events = decoder.feed(json.dumps(both))
    usage = next(e for e in events if isinstance(e, UsageReport)).usage
    assert (usage.total_tokens, usage.reasoning_tokens, usage.cached_tokens) == (12, 4, 2)
    assert usage.cost == pytest.approx(0.001)
    assert texts(events, ContentDelta) == "x"


def test_repeated_finish_reason_and_done() -> None:
    decoder = ChunkDecoder()
    finish = json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})
    decoder.feed(finish)
    decoder.feed(finish)
    decoder.feed("[DONE]")
    assert decoder.done
    assert decoder.finish() == [Finished("length", None)]


def test_finish_without_done_is_complete() -> None:
    decoder = ChunkDecoder()
    decoder.feed(json.dumps({"choices": [{"delta": {"content": "hi"}, "finish_reason": "stop"}]}))
    assert isinstance(decoder.finish()[-1], Finished)


def test_eof_with_neither_is_interrupted_with_partial() -> None:
    decoder = ChunkDecoder()
    decoder.feed(delta(reasoning_content="think"))
    decoder.feed(delta(content="partial"))
    with pytest.raises(StreamInterrupted) as info:
        decoder.finish()
    assert info.value.partial_content == "partial"
    assert info.value.partial_reasoning == "think"


@pytest.mark.parametrize(
    "events",
    [
        [],
        [delta(role="assistant", content="")],
        [json.dumps({"choices": [], "usage": {"prompt_tokens": 9}})],
        [delta(content="<think>")],  # an empty thought is nothing said
    ],
    ids=["nothing", "role-only", "usage-only", "empty-think-tag"],
)
def test_eof_before_any_output_is_closed_without_reply(events: list[str]) -> None:
    """Nothing of a reply arrived: not "cut off, what arrived is kept" but "closed without
    replying" (the client then asks the server why)."""
    decoder = ChunkDecoder()
    for data in events:
        decoder.feed(data)
    with pytest.raises(ClosedWithoutReply, match="closed the stream without replying"):
        decoder.finish()
    assert not decoder.has_output


def test_text_held_back_until_the_end_is_output() -> None:
    """ "<thi" might have begun a think tag, so it is held back; at the end it is text."""
    decoder = ChunkDecoder()
    decoder.feed(delta(content="<thi"))
    with pytest.raises(StreamInterrupted) as info:
        decoder.finish()
    assert info.value.partial_content == "<thi"


def test_a_tool_call_is_output() -> None:
    """A tool call's pieces are part of the reply: never sent again behind the user's back."""
    decoder = ChunkDecoder()
    decoder.feed(delta(tool_calls=[{"index": 0, "id": "c1", "function": {"name": "get_time"}}]))
    assert decoder.has_output
    with pytest.raises(StreamInterrupted):
        decoder.finish()


@pytest.mark.parametrize("reason", ["sensitive", "network_error", "content_filter", "abort"])
def test_unknown_finish_reasons_are_passed_verbatim(reason: str) -> None:
    decoder = ChunkDecoder()
    decoder.feed(json.dumps({"choices": [{"delta": {}, "finish_reason": reason}]}))
    assert decoder.finish() == [Finished(reason, None)]


def test_chunk_without_object_key() -> None:
    assert ChunkDecoder().feed(json.dumps({"choices": [{"delta": {"content": "ok"}}]})) == [
        ContentDelta("ok")
    ]


def test_error_event_and_error_object() -> None:
    with pytest.raises(ProviderError, match="overloaded"):
        ChunkDecoder().feed('{"error": {"message": "Model overloaded"}}', event="error")
    with pytest.raises(ProviderError, match="Quota: detail here"):
        ChunkDecoder().feed(json.dumps({"error": {"title": "Quota", "detail": "detail here"}}))


def test_malformed_json_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="not valid JSON"):
        ChunkDecoder().feed('{"choices": [')


def test_tool_call_deltas() -> None:
    data = json.dumps(
        {
            "choices": [
                {
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "search", "arguments": '{"q":'},
                            }
                        ]
                    }
                }
            ]
        }
    )
    assert ChunkDecoder().feed(data) == [ToolCallDelta(0, "call_1", "search", '{"q":')]


def test_inline_think_tags_split_into_reasoning() -> None:
    decoder = ChunkDecoder()
    events = []
    for piece in ["<thi", "nk>I should ", "say hi</th", "ink>\n\nHi", " there"]:
        events += decoder.feed(delta(content=piece))
    decoder.feed("[DONE]")
    events += decoder.finish()
    assert texts(events, ReasoningDelta) == "I should say hi"
    assert texts(events, ContentDelta) == "Hi there"


def test_think_tag_mid_answer_is_left_alone() -> None:
    assert split_inline_reasoning("Use a <think> tag like this.") == (
        "",
        "Use a <think> tag like this.",
    )


def test_reasoning_field_disables_tag_splitting() -> None:
    decoder = ChunkDecoder()
    events = decoder.feed(delta(reasoning_content="r")) + decoder.feed(delta(content="<think>x"))
    assert texts(events, ContentDelta) == "<think>x"


def test_unclosed_think_at_eof_stays_reasoning() -> None:
    splitter = ThinkSplitter()
    pieces = splitter.feed("<think>still thinking</") + splitter.flush()
    assert "".join(t for k, t in pieces if k == "reasoning") == "still thinking</"


@given(st.text(max_size=200), st.lists(st.integers(min_value=1, max_value=9), max_size=40))
def test_splitting_never_loses_or_reorders_text(text: str, cuts: list[int]) -> None:
    """However the content is chunked, reasoning + content add back up to the input."""
    whole = split_inline_reasoning(text)
    splitter = ThinkSplitter()
    pieces = []
    position = 0
    for cut in cuts:
        pieces += splitter.feed(text[position : position + cut])
        position += cut
    pieces += splitter.feed(text[position:]) + splitter.flush()
    chunked = (
        "".join(t for k, t in pieces if k == "reasoning"),
        "".join(t for k, t in pieces if k == "content"),
    )
    assert chunked == whole
    if not text.lstrip().startswith("<think>"):
        assert whole == ("", text) or not text.strip()


def test_request_body_sends_only_set_parameters() -> None:
    session = Session(model="m", messages=[Message("user", "hi")])
    body = build_request(session, Parameters(temperature=0.2)).body()
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_request_never_resends_reasoning_and_puts_system_first() -> None:
    session = Session(
        model="m",
        system_prompt="Be brief.",
        messages=[
            Message("user", "q1"),
            Message("assistant", "a1", reasoning="secret thoughts", status="complete"),
            Message("assistant", "", status="error"),
            Message("user", "q2"),
        ],
    )
    body = ChatRequest(model="m", messages=tuple(session.wire_messages()), stream=False).body()
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
    ]
    assert "stream_options" not in body
    assert "secret thoughts" not in json.dumps(body)


@pytest.mark.parametrize(
    ("style", "on", "off"),
    [
        ("thinking_type", {"thinking": {"type": "enabled"}}, {"thinking": {"type": "disabled"}}),
        (
            "chat_template_kwargs",
            {"chat_template_kwargs": {"enable_thinking": True}},
            {"chat_template_kwargs": {"enable_thinking": False}},
        ),
        ("reasoning_effort", {"reasoning_effort": "high"}, {"reasoning_effort": "none"}),
        ("none", {}, {}),
    ],
)
def test_thinking_switch_per_provider_style(style: str, on: dict, off: dict) -> None:
    assert thinking_fields(style, True) == on
    assert thinking_fields(style, False) == off
    request = ChatRequest(
        model="m", messages=(), parameters=Parameters(reasoning=False), thinking_style=style
    )
    body = request.body()
    for key, value in off.items():
        assert body[key] == value
    assert "reasoning" not in body


def test_usage_dict_round_trip() -> None:
    from glmtui.domain import Usage

    usage = Usage(5, 7, 12, cached_tokens=2, reasoning_tokens=3, cost=0.5, estimated=True)
    assert Usage.from_dict(usage.to_dict()) == usage
