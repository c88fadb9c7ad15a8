"""A shorter soak than ``python -m tests.benchmarks.soak``: 60 turns through the headless app,
every tenth reply broken off; afterwards every turn is on disk, in order, with its status."""

from __future__ import annotations

from tests.benchmarks.soak import soak
from tests.server import LoopbackServer


async def test_sixty_turns_all_on_disk(server: LoopbackServer) -> None:
    result = await soak(server, 60)
    assert result.problems == []
    assert result.turns == 60
