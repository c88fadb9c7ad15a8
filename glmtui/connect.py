"""Build a :class:`~glmtui.api.client.ChatClient` from resolved settings.

Kept apart from both the config and the API packages so neither depends on the other: the
client knows nothing about config files, the config nothing about HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glmtui.config import Settings

if TYPE_CHECKING:
    from glmtui.api.client import ChatClient
    from glmtui.api.pacing import ReadPacing


def make_client(settings: Settings, *, read_pacing: ReadPacing | None = None) -> ChatClient:
    """The client for the active provider, or the offline demo when ``settings.demo``.

    Args:
        settings: Resolved settings.
        read_pacing: See :class:`ChatClient`; the TUI reads at the pace it draws.
    """
    from glmtui.api.client import ChatClient, RetryPolicy, Timeouts  # httpx: not at startup

    timeouts = Timeouts(connect=settings.connect_timeout, read=settings.timeout)
    retry = RetryPolicy(max_retries=settings.max_retries)
    if settings.demo:
        from glmtui.api.demo import DEMO_BASE_URL, DemoTransport

        return ChatClient(
            DEMO_BASE_URL,
            transport=DemoTransport(pace=settings.demo_pace),
            timeouts=timeouts,
            retry=retry,
            read_pacing=read_pacing,
        )
    return ChatClient(
        settings.base_url,
        settings.api_key or None,
        timeouts=timeouts,
        retry=retry,
        read_pacing=read_pacing,
    )
