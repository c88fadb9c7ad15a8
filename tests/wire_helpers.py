"""A chat client for the wire tests: the key every test uses, talking to the loopback server,
without retries unless a test asks for them."""

from __future__ import annotations

from glmtui.api.client import ChatClient, RetryPolicy
from tests.conftest import FAKE_KEY
from tests.server import LoopbackServer

NO_RETRY = RetryPolicy(max_retries=0)


def client_for(server: LoopbackServer, **kw: object) -> ChatClient:
    """A client for ``server`` (keyword arguments go to :class:`ChatClient`)."""
    kw.setdefault("retry", NO_RETRY)
    return ChatClient(server.base_url, FAKE_KEY, **kw)  # type: ignore[arg-type]
