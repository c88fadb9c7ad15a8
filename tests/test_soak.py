"""A shorter soak than ``python -m tests.benchmarks.soak``: 20 turns through the headless app
(each turn shape, and two replies broken off: every tenth); afterwards every turn is on disk,
in order, with its status. The on-demand soak runs 500 for memory."""

from __future__ import annotations

from tests.benchmarks.soak import soak
from tests.server import LoopbackServer


async def test_twenty_turns_all_on_disk(server: LoopbackServer) -> None:
    result = await soak(server, 20)
    assert result.problems == []
    assert result.turns == 20
