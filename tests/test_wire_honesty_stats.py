"""Numbers that are estimates say so: token counts and speeds counted locally, and context
limits glmtui assumed.

When a server sends no usage (llama.cpp without ``include_usage``, many proxies), a reply's
tokens are counted from the stream's deltas, about one token each on these servers, not
guessed from the text's length; they stay marked as estimates, and so does the speed made from
them. A context limit that is glmtui's assumption travels with the gauge as one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial

import pytest

from glmtui.chat.formatting import speed, token_count
from glmtui.domain import Message, Usage
from glmtui.domain.stats import TurnStats, context_use

LONG_PIECES = [
    "Supercalifragilistic",
    "expialidocious ",
    "antidisestablishmentarianism ",
    "and more",
]
"""Deltas of very different lengths: a length-based guess (about 20 tokens) is far from the
four deltas, as a tokenizer with long tokens or a server batching bytes makes it."""


def ticking(step: float = 0.5) -> partial[float]:
    """A clock that moves ``step`` seconds each time it is read."""

    def ticks() -> Iterator[float]:
        now = 0.0
        while True:
            yield now
            now += step

    return partial(next, ticks())


def streamed(
    content: Sequence[str], reasoning: Sequence[str] = (), usage: Usage | None = None
) -> TurnStats:
    stats = TurnStats(clock=ticking())
    stats.start(prompt_estimate=12)
    for piece in reasoning:
        stats.add(piece, reasoning=True)
    for piece in content:
        stats.add(piece)
    stats.usage = usage
    stats.finish()
    return stats


def test_without_usage_each_delta_counts_as_one_token_and_is_an_estimate() -> None:
    stats = streamed(LONG_PIECES, reasoning=["Hmm, ", "let me think about it at length."])
    assert stats.completion_tokens == 6
    assert stats.estimated
    usage = stats.final_usage()
    assert (usage.completion_tokens, usage.reasoning_tokens) == (6, 2)
    assert (usage.prompt_tokens, usage.total_tokens) == (12, 18)
    assert usage.estimated


def test_the_servers_usage_wins_and_is_no_estimate() -> None:
    reported = Usage(prompt_tokens=40, completion_tokens=31, total_tokens=71)
    stats = streamed(LONG_PIECES, usage=reported)
    assert stats.completion_tokens == 31
    assert not stats.estimated
    assert stats.final_usage() is reported


def test_usage_without_completion_tokens_falls_back_to_the_deltas() -> None:
    stats = streamed(LONG_PIECES, usage=Usage(prompt_tokens=40))
    assert stats.completion_tokens == 4
    assert stats.estimated


def test_no_text_and_no_usage_is_zero_and_still_an_estimate() -> None:
    stats = streamed([])
    assert stats.completion_tokens == 0
    assert stats.estimated


def test_speed_comes_from_the_same_count() -> None:
    now = [0.0]
    stats = TurnStats(clock=lambda: now[0])
    stats.start()
    now[0] = 0.5
    for piece in LONG_PIECES:  # the first token at 0.5 s, the other three by 2.0 s
        stats.add(piece)
    now[0] = 2.0
    stats.finish()
    assert stats.tokens_per_second == pytest.approx(2.0)  # 3 tokens in 1.5 s
    assert speed(stats.tokens_per_second, estimated=stats.estimated) == "~2 tok/s"


@pytest.mark.parametrize(
    ("number", "estimated", "text"),
    [(1, False, "1 token"), (1204, False, "1,204 tokens"), (1204, True, "~1,204 tokens")],
)
def test_token_counts_are_marked_when_estimated(number: int, estimated: bool, text: str) -> None:
    assert token_count(number, estimated=estimated) == text


def test_speed_formats() -> None:
    assert speed(None) == ""
    assert speed(41.6) == "42 tok/s"
    assert speed(1234.2, estimated=True) == "~1,234 tok/s"


def test_an_assumed_limit_travels_with_the_gauge() -> None:
    reply = Message("assistant", "ok", usage=Usage(3000, 400, 3400))
    for messages in ([Message("user", "x" * 4000)], [Message("user", "hi"), reply]):
        assumed = context_use(messages, "", 4096, pending=3000, limit_assumed=True)
        assert (assumed.limit, assumed.limit_assumed) == (4096, True)
        assert assumed.warning  # an assumed limit warns as a known one does
        known = context_use(messages, "", 4096, pending=3000)
        assert not known.limit_assumed
        assert known.warning
        assert not context_use(messages, "", None, limit_assumed=True).limit_assumed
