"""Pytest fixture for the scripted loopback API server (see :mod:`tests.server`).

Use it from a test module with ``from tests.fixtures_server import server`` or register it
for a whole directory with ``pytest_plugins = ["tests.fixtures_server"]`` in the root conftest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server import LoopbackServer


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A fresh :class:`~tests.server.LoopbackServer` on an ephemeral 127.0.0.1 port per test
    (starts in milliseconds; stopped, with all its connections, after the test)."""
    with LoopbackServer() as srv:
        yield srv
