"""Build a :class:`~glmtui.api.client.ChatClient` from resolved settings, and decide where a
session's requests may go.

Kept apart from both the config and the API packages so neither depends on the other: the
client knows nothing about config files, the config nothing about HTTP.

A session records the provider profile and the API root it talked to. A key belongs to the
profile that holds it and goes only to the URL that profile is configured with *now*: a chat
once held with a local model (``--base-url http://127.0.0.1:8000/v1``) must never be resumed
by sending the whole conversation, with the Oxen key, to hub.oxen.ai. :func:`route_session`
makes that decision without any UI, so the TUI and any other front end decide the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from glmtui.config import ProviderProfile, Settings

if TYPE_CHECKING:
    from glmtui.api.client import ChatClient
    from glmtui.api.pacing import ReadPacing
    from glmtui.api.request import ProviderOptions
    from glmtui.domain import Session

DEMO_PROVIDER = "demo"
"""The provider a conversation with the offline demo is saved under (the TUI and ``glmtui ask
--demo --save``), so its canned replies are never taken for a real model's."""
DEMO_URL = "http://demo.glmtui.invalid/v1"
"""The demo's API root, as :data:`glmtui.api.demo.DEMO_BASE_URL` (a test checks they agree).
Repeated here because that module loads httpx, which the first frame does without."""


def public_url(url: str) -> str:
    """``url`` as it may be stored and shown: no user name or password, query or fragment,
    and no trailing slash. Two URLs name the same endpoint when their public forms are equal.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return text.rstrip("/")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def profile_url(settings: Settings, provider: str) -> str | None:
    """Where the profile named ``provider`` sends requests in this run, or None when there is
    no such profile. The active profile sends to the run's ``base_url`` (``--base-url`` and
    ``GLMTUI_BASE_URL`` apply to it); any other to the URL in its configuration."""
    if provider == settings.provider.name:
        return settings.base_url
    profile = settings.providers.get(provider)
    return profile.base_url if profile is not None else None


def session_endpoint(settings: Settings) -> tuple[str, str]:
    """The provider name and API root a new session records: the active profile and the URL
    it really sends to (without credentials); the demo's for the offline demo."""
    if settings.demo:
        return DEMO_PROVIDER, DEMO_URL
    return settings.provider.name, public_url(settings.base_url)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a session's next request goes, and whether the user must agree first."""

    provider: str
    """The profile whose client, key and thinking switch are used (:data:`DEMO_PROVIDER` for
    the demo). When :attr:`recorded` is set, the profile offered instead of the recorded URL."""
    base_url: str
    """Where that profile sends now."""
    recorded: str = ""
    """The session's recorded API root when no profile is configured for it any more ("" when
    the route is configured). Nothing may be sent until the user chooses: that URL without a
    key, or :attr:`base_url` (and the session is updated)."""

    @property
    def configured(self) -> bool:
        """True when requests may go out without asking."""
        return not self.recorded


def route_session(settings: Settings, provider: str, base_url: str) -> Route:
    """Where a session with this ``provider`` and recorded ``base_url`` may send.

    * The offline demo (``settings.demo``, or a session saved from the demo) stays offline.
    * A session without a recorded URL (schema 1) goes where its profile sends now, or to the
      active profile when its profile is gone (as glmtui always did).
    * Otherwise the profile whose URL is the recorded one: the session's own profile first,
      then the active one, then any other. Each sends only with its own key.
    * When none is, the route is not configured (:attr:`Route.recorded`): the session's own
      profile, or the active one if that is gone, is the alternative to offer.
    """
    if settings.demo or provider == DEMO_PROVIDER:
        return Route(DEMO_PROVIDER, DEMO_URL)
    if not base_url:
        url = profile_url(settings, provider)
        if url is None:
            return Route(settings.provider.name, settings.base_url)
        return Route(provider, url)
    recorded = public_url(base_url)
    names = [provider, settings.provider.name, *settings.providers]
    for name in dict.fromkeys(names):
        url = profile_url(settings, name)
        if url is not None and public_url(url) == recorded:
            return Route(name, url)
    name = provider if profile_url(settings, provider) is not None else settings.provider.name
    return Route(name, profile_url(settings, name) or settings.base_url, recorded=recorded)


def session_profile(settings: Settings, session: Session) -> ProviderProfile | None:
    """The profile the session's requests go through (None: the demo, or no such profile)."""
    route = route_session(settings, session.provider, session.base_url)
    providers = settings.providers
    return providers.get(route.provider) or providers.get(session.provider)


def provider_options(settings: Settings, session: Session) -> ProviderOptions:
    """What the session's provider wants in a request beyond the thinking switch, and what it
    does not take (its limits, JSON mode)."""
    from glmtui.api.request import ProviderOptions

    profile = session_profile(settings, session)
    if profile is None:
        return ProviderOptions()
    return ProviderOptions(
        resend_reasoning=profile.resend_reasoning,
        tool_stream=profile.tool_stream,
        limits=profile.limits,
        json_mode=profile.takes_json_mode,
    )


def client_settings(
    settings: Settings, provider: str, base_url: str | None = None
) -> tuple[str, Settings]:
    """The settings to make a client from, to send as ``provider`` to ``base_url``, and a
    name for that endpoint (one client per name can be kept).

    A key goes only where its profile sends now: asked for another ``base_url`` (a session's
    recorded one that the user agreed to send to), the settings hold no key. The active
    profile keeps the run's settings (flags and environment apply to it); another profile
    takes its own URL, model and key from the configuration. In the demo, and for a session
    saved from the demo, everything goes to the demo.

    Args:
        settings: The run's resolved settings.
        provider: The profile's name.
        base_url: Where to send; None for wherever the profile sends.
    """
    if settings.demo:
        return "active", settings
    if provider == DEMO_PROVIDER:
        return "demo", replace(settings, demo=True)
    configured = profile_url(settings, provider)
    if base_url is not None and (
        configured is None or public_url(base_url) != public_url(configured)
    ):
        url = public_url(base_url)
        return f"keyless {url}", replace(settings, base_url=url, api_key="", api_key_source="")
    profile = settings.providers.get(provider)
    if provider == settings.provider.name or profile is None:
        return "active", settings  # (no such profile: a session from one that is gone)
    from glmtui.config import resolve_api_key

    key, source = resolve_api_key(profile, profile.base_url, os.environ)
    return f"profile {provider}", replace(
        settings,
        provider=profile,
        base_url=profile.base_url,
        model=profile.model,
        api_key=key,
        api_key_source=source,
    )


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
