"""Model cards and the model catalogue, live when possible and from disk when not.

:class:`ModelCatalog` is what the CLI and the screens ask for model facts. It fetches from the
provider, keeps what it got on disk (one JSON file per model, one for the catalogue, each with
the time it was fetched), and when the provider cannot be reached or the key is missing or
rejected it answers from that copy, or, with no copy, from the card shipped with glmtui for
GLM-5. Each answer says where it came from and why live data was not used, so the UI can say
"cached 12 min ago (offline)" instead of silently showing old prices.

A 404 for one model is an answer, not an outage: the result says the model does not exist on
this provider and no stale copy is shown in its place.

A copy younger than an hour (:data:`FRESH_FOR`) is reused without asking the provider, even
when it is up; the source line says so ("Copy saved 26 min ago (reused for up to an hour) —
press r to refresh"), so a reused copy is never taken for a fresh answer.

A provider profile may set the context length (``context_length``); it then wins over what
the server says or glmtui assumes, on every card, and is labelled as set in the config.

No Textual imports: the CLI uses this without loading the UI.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from glmtui import domain
from glmtui.api.errors import ApiError, NotFoundError, missing_key_error
from glmtui.api.models import GLM5_ID, builtin_card, parse_model
from glmtui.chat.formatting import age
from glmtui.domain import ModelCard
from glmtui.fileio import atomic_write_text

if TYPE_CHECKING:
    from glmtui.api.client import ChatClient
    from glmtui.config import Settings

Source = Literal["live", "cache", "builtin", "none"]
"""Where a result's data came from: the provider just now, the on-disk copy, the card shipped
with glmtui, or nowhere (``none``: there is no card, and ``error`` says why)."""

FRESH_FOR = timedelta(hours=1)
"""How long a saved copy is reused without asking the provider again.

The rule: the info screen and the catalogue show the copy saved on disk, without a request,
while it is younger than this, even when the provider is up; an older copy is fetched again
(and shown, with its age and the reason, only when the provider cannot be reached). Model
objects change rarely (a price or a description, a few times a year), while opening these
screens should be instant and should not spend a request each time; an hour keeps a long
session from showing day-old prices, and ``r`` (``refresh=True``) always asks the provider.
The CLI always asks first, since a script wants current data. The source line of a reused
copy says all this: "Copy saved 26 min ago (reused for up to an hour) — press r to
refresh"."""

METADATA_READ_TIMEOUT = 20.0
"""Seconds to wait for a model object. Much shorter than a chat reply's read timeout: a hung
server should not keep the info screen loading for two minutes before the cached copy shows."""

METADATA_RETRIES = 1
"""Retries for a model request. One absorbs a blip; more would only delay the cached copy,
which is a good answer when the provider is down (three retries back off for ~4 s)."""

CACHE_FORMAT = 1
"""Version of the cache files' layout; files with another version are ignored (refetched)."""


@dataclass(frozen=True, slots=True)
class CardResult:
    """One model's card and where it came from."""

    model_id: str
    card: ModelCard | None
    """None when there is no card at all: the model does not exist (``error`` is a
    :class:`NotFoundError`), or the provider is unreachable and nothing is cached."""
    source: Source
    fetched_at: datetime | None = None
    """When the card was fetched from the provider (UTC); None for the built-in card."""
    error: ApiError | None = None
    """Why live data was not used (offline, no key, key rejected …), or why there is no card."""

    @property
    def not_found(self) -> bool:
        """True when the provider said the model does not exist."""
        return isinstance(self.error, NotFoundError)


@dataclass(frozen=True, slots=True)
class CatalogueResult:
    """Every model the provider offers, and where the list came from."""

    cards: tuple[ModelCard, ...]
    source: Source
    fetched_at: datetime | None = None
    error: ApiError | None = None


def describe_source(
    source: Source,
    fetched_at: datetime | None,
    error: ApiError | None,
    *,
    now: datetime,
    where: str = "",
    fresh_for: timedelta = FRESH_FOR,
    refresh_key: str = "r",
) -> str:
    """One line saying where data came from, for a status line or stderr.

    Examples: "Live from hub.oxen.ai · fetched 14:30"; "Copy saved 26 min ago (reused for
    up to an hour) — press r to refresh" (a young copy reused without a request, see
    :data:`FRESH_FOR`); "Cached copy, fetched 2 h ago — offline: Could not connect to …";
    "Built-in card shipped with glmtui — no API key: …".

    Args:
        fresh_for: How long a copy is reused (said in the line of a reused copy).
        refresh_key: The key that refreshes, named in the line of a reused copy.
    """
    reason = f" — {_reason(error)}" if error is not None else ""
    if source == "live":
        when = fetched_at.astimezone().strftime("%H:%M") if fetched_at else ""
        origin = f"Live from {where}" if where else "Live"
        return f"{origin} · fetched {when}" if when else origin
    if source == "cache" and error is None:
        ago = age(fetched_at, now) if fetched_at else "at an unknown time"
        press = f" — press {refresh_key} to refresh" if refresh_key else ""
        return f"Copy saved {ago} (reused for up to {_span(fresh_for)}){press}"
    if source == "cache":
        ago = age(fetched_at, now) if fetched_at else "at an unknown time"
        return f"Cached copy, fetched {ago}{reason}"
    if source == "builtin":
        return f"Built-in card shipped with glmtui{reason}"
    return _reason(error) if error is not None else "No data."


def _span(duration: timedelta) -> str:
    """``1 h`` → "an hour", ``2 h`` → "2 hours", ``30 min`` → "30 minutes"."""
    minutes = max(1, round(duration.total_seconds() / 60))
    if minutes % 60:
        return "a minute" if minutes == 1 else f"{minutes} minutes"
    hours = minutes // 60
    return "an hour" if hours == 1 else f"{hours} hours"


def _reason(error: ApiError | None) -> str:
    if error is None:
        return ""
    kind = {
        "network": "offline",
        "timeout": "offline",
        "no_key": "no API key",
        "auth": "key rejected",
    }.get(error.kind, "provider unavailable")
    if error.message.lower().startswith(kind.lower()):
        return error.message  # "No API key found.", not "no API key: No API key found."
    return f"{kind}: {error.message}"


def safe_name(model_id: str) -> str:
    """A file name for any model id: readable, short, and distinct even where the file system
    ignores case (``GLM-5`` and ``glm-5`` differ by their hash)."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._-")[:60] or "model"
    digest = hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:12]
    return f"{readable}-{digest}"


def scope_for(base_url: str) -> str:
    """The cache folder name for one API root, so two providers' cards never mix.

    Host and path are kept readable; credentials in the URL never reach the name (only the
    hash sees the whole URL).
    """
    parts = urlsplit(base_url.strip().rstrip("/"))
    host = parts.hostname or "local"
    if parts.port:
        host = f"{host}_{parts.port}"
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{host}{parts.path}").strip("-.")[:60]
    digest = hashlib.sha256(base_url.strip().rstrip("/").encode("utf-8")).hexdigest()[:8]
    return f"{readable or 'provider'}-{digest}"


class ModelCatalog:
    """Model cards and the catalogue, live first, then cached, then built in.

    Args:
        client_factory: Gives a fresh :class:`ChatClient` per request (closed after it). It
            may raise an :class:`ApiError` (e.g. :class:`MissingKeyError` when no key is
            configured); that counts as "cannot reach the provider".
        cache_dir: glmtui's cache folder; files go under ``cache_dir/models/<scope>/``.
        scope: Sub-folder for this provider (see :func:`scope_for`), so a cache filled from
            one server is never shown for another.
        label: How to name the provider in source lines ("hub.oxen.ai"); "" to leave it out.
        fresh_for: How long a cached copy is used without asking (see :data:`FRESH_FOR`).
        clock: The current UTC time (tests pin it).
        context_length: The provider profile's ``context_length`` setting: when set, every
            card this catalogue gives has it as its context length, labelled as set in the
            config (``context_source == "config"``), whatever the server says or glmtui
            assumes.
    """

    def __init__(
        self,
        client_factory: Callable[[], ChatClient],
        cache_dir: Path,
        *,
        scope: str = "default",
        label: str = "",
        fresh_for: timedelta = FRESH_FOR,
        clock: Callable[[], datetime] | None = None,
        context_length: int | None = None,
    ) -> None:
        self._client_factory = client_factory
        self.folder = cache_dir / "models" / scope
        self.label = label
        self.fresh_for = fresh_for
        self._clock = clock
        usable = (
            isinstance(context_length, int)
            and not isinstance(context_length, bool)
            and context_length > 0
        )
        self.context_length = context_length if usable else None
        """The configured context length, which wins over every other (None: not set)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelCatalog:
        """The catalogue for the active provider (or the demo), caching in the data dir.

        A missing key is reported as :class:`MissingKeyError` from the factory, so the
        cached or built-in card is shown with "no API key" instead of a request that can only
        fail with 401.
        """
        from dataclasses import replace

        from glmtui.chat.endpoints import make_client
        from glmtui.paths import cache_dir

        quick = replace(
            settings,
            timeout=min(settings.timeout, METADATA_READ_TIMEOUT),
            max_retries=min(settings.max_retries, METADATA_RETRIES),
        )

        def factory() -> ChatClient:
            if settings.key_required:
                raise missing_key_error(settings.provider.api_key_env or "OXEN_API_KEY")
            return make_client(quick)

        if settings.demo:
            scope, label = "demo", "the offline demo"
        else:
            scope, label = scope_for(settings.base_url), urlsplit(settings.base_url).hostname or ""
        return cls(
            factory,
            cache_dir(settings.data_dir),
            scope=scope,
            label=label,
            context_length=getattr(settings.provider, "context_length", None),
        )

    def now(self) -> datetime:
        """The current time in UTC (the same clock the results are stamped with)."""
        return self._clock() if self._clock is not None else domain.utc_now()

    def describe(self, result: CardResult | CatalogueResult, *, refresh_key: str = "r") -> str:
        """Where ``result`` came from, in one line (see :func:`describe_source`).

        Args:
            refresh_key: The key that refreshes, for the line of a reused copy ("" to name
                none, e.g. where nothing can refresh).
        """
        return describe_source(
            result.source,
            result.fetched_at,
            result.error,
            now=self.now(),
            where=self.label,
            fresh_for=self.fresh_for,
            refresh_key=refresh_key,
        )

    def _configured(self, card: ModelCard) -> ModelCard:
        """``card`` with the configured context length, when there is one."""
        if self.context_length is None:
            return card
        return replace(card, context_length=self.context_length, context_source="config")

    def _card_result(self, result: CardResult) -> CardResult:
        if result.card is None or self.context_length is None:
            return result
        return replace(result, card=self._configured(result.card))

    # --- one model --------------------------------------------------------------------------

    async def card(self, model_id: str, *, refresh: bool = False) -> CardResult:
        """The card for ``model_id``.

        A cached copy younger than :attr:`fresh_for` is returned without a request unless
        ``refresh``. Otherwise the provider is asked; on success the card is cached. When the
        provider cannot be reached, or the key is missing or rejected, the newest cached copy
        (this model's own file, or its entry in a cached catalogue) is returned with the
        error, else the built-in card, else no card. A 404 returns no card and a
        :class:`NotFoundError` (unless the model is in the provider's list: servers such as
        vLLM have no ``/models/{id}`` route). A configured context length is applied to the
        card, whatever its source.
        """
        return self._card_result(await self._card(model_id, refresh=refresh))

    async def _card(self, model_id: str, *, refresh: bool = False) -> CardResult:
        """:meth:`card` before the configured context length is applied."""
        now = self.now()
        if not refresh:
            # Only the model's own file counts as fresh: a catalogue entry may be thinner than
            # the object /models/{id} returns (some servers list ids and little else).
            cached = self._read_card(model_id, own_only=True)
            if cached is not None and self._fresh(cached[1], now):
                return CardResult(model_id, cached[0], "cache", cached[1])
        try:
            async with self._client_factory() as client:
                try:
                    card = await client.get_model(model_id)
                except NotFoundError as not_found:
                    listed = await self._listed(client, model_id)
                    if listed is None:
                        return CardResult(model_id, None, "none", None, not_found)
                    card = listed
        except ApiError as error:
            return self._card_fallback(model_id, error)
        self._write(self._card_path(model_id), {"model_id": model_id, "object": card.raw}, now)
        return CardResult(model_id, card, "live", now)

    def cached_card(self, model_id: str) -> CardResult | None:
        """The newest cached copy of a card, without any request (None when there is none)."""
        cached = self._read_card(model_id)
        if cached is None:
            return None
        return self._card_result(CardResult(model_id, cached[0], "cache", cached[1]))

    @staticmethod
    async def _listed(client: ChatClient, model_id: str) -> ModelCard | None:
        with suppress(ApiError):
            for card in await client.list_models():
                if card.id == model_id:
                    return card
        return None

    def _card_fallback(self, model_id: str, error: ApiError) -> CardResult:
        cached = self._read_card(model_id)
        if cached is not None:
            return CardResult(model_id, cached[0], "cache", cached[1], error)
        shipped = builtin_card(model_id)
        if shipped is not None:
            return CardResult(model_id, shipped, "builtin", None, error)
        return CardResult(model_id, None, "none", None, error)

    def _read_card(
        self, model_id: str, *, own_only: bool = False
    ) -> tuple[ModelCard, datetime] | None:
        """This model's own cached file, or its entry in the cached catalogue: the newer."""
        found: list[tuple[ModelCard, datetime]] = []
        data = self._read(self._card_path(model_id))
        if data is not None and data.get("model_id") == model_id:
            obj = data.get("object")
            if isinstance(obj, dict):
                found.append((parse_model(obj), data["fetched_at"]))
        listing = None if own_only else self._read(self._catalogue_path())
        if listing is not None:
            for obj in listing.get("objects") or []:
                if isinstance(obj, dict) and obj.get("id") == model_id:
                    found.append((parse_model(obj), listing["fetched_at"]))
                    break
        return max(found, key=lambda item: item[1]) if found else None

    # --- the catalogue ----------------------------------------------------------------------

    async def catalogue(self, *, refresh: bool = False) -> CatalogueResult:
        """Every model the provider offers.

        Like :meth:`card`: a fresh cached list unless ``refresh``, else the provider; on
        failure the cached list (any age), else the built-in GLM-5 card alone. A
        configured context length is applied to every card.
        """
        result = await self._catalogue(refresh=refresh)
        if self.context_length is None:
            return result
        return replace(result, cards=tuple(self._configured(card) for card in result.cards))

    async def _catalogue(self, *, refresh: bool = False) -> CatalogueResult:
        """:meth:`catalogue` before the configured context length is applied."""
        now = self.now()
        if not refresh:
            cached = self._read_catalogue()
            if cached is not None and self._fresh(cached[1], now):
                return CatalogueResult(cached[0], "cache", cached[1])
        try:
            async with self._client_factory() as client:
                cards = tuple(await client.list_models())
        except ApiError as error:
            cached = self._read_catalogue()
            if cached is not None:
                return CatalogueResult(cached[0], "cache", cached[1], error)
            shipped = builtin_card(GLM5_ID)
            assert shipped is not None
            return CatalogueResult((shipped,), "builtin", None, error)
        self._write(self._catalogue_path(), {"objects": [card.raw for card in cards]}, now)
        return CatalogueResult(cards, "live", now)

    def _read_catalogue(self) -> tuple[tuple[ModelCard, ...], datetime] | None:
        data = self._read(self._catalogue_path())
        if data is None or not isinstance(data.get("objects"), list):
            return None
        cards = tuple(
            parse_model(obj) for obj in data["objects"] if isinstance(obj, dict) and obj.get("id")
        )
        return cards, data["fetched_at"]

    # --- files ------------------------------------------------------------------------------

    def _card_path(self, model_id: str) -> Path:
        return self.folder / f"card-{safe_name(model_id)}.json"

    def _catalogue_path(self) -> Path:
        return self.folder / "catalogue.json"

    def _fresh(self, fetched_at: datetime, now: datetime) -> bool:
        # A copy stamped in the future (the clock moved back) is not trusted as fresh.
        return timedelta(0) <= now - fetched_at < self.fresh_for

    def _write(self, path: Path, payload: dict[str, Any], now: datetime) -> None:
        """Store what the server sent plus the time, atomically.

        Only the model objects are written (never a header, a URL or the key). A cache that
        cannot be written (read-only disk, full disk) only costs the offline copy, so the
        error is swallowed rather than failing a request that worked.
        """
        document = {"format": CACHE_FORMAT, "fetched_at": now.isoformat(), **payload}
        with suppress(OSError, TypeError, ValueError):
            atomic_write_text(path, json.dumps(document, ensure_ascii=False, indent=1) + "\n")

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        """A cache file's contents with ``fetched_at`` as a datetime; None if unusable."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
            return None
        try:
            fetched_at = datetime.fromisoformat(str(data.get("fetched_at")))
        except ValueError:
            return None
        if fetched_at.tzinfo is None:
            return None
        data["fetched_at"] = fetched_at
        return data


def matches(card: ModelCard, text: str) -> bool:
    """Whether every word of ``text`` appears (any case) in the card's id, name, developer,
    summary or modalities. Blank text matches everything."""
    haystack = " ".join(
        (
            card.id,
            card.display_name,
            card.developer,
            card.owned_by,
            card.summary,
            *card.input_modalities,
        )
    ).casefold()
    return all(word in haystack for word in text.casefold().split())


def filter_cards(
    cards: tuple[ModelCard, ...] | list[ModelCard],
    text: str = "",
    *,
    developer: str | None = None,
    input_modality: str | None = None,
    chat_only: bool = False,
) -> list[ModelCard]:
    """The cards that match a search and the catalogue's filters, in their original order.

    Args:
        text: Words that must all appear (see :func:`matches`).
        developer: Only this developer (the card's ``developer``, else ``owned_by``).
        input_modality: Only models that take this input ("text", "image" …).
        chat_only: Only models that answer chat completions (see ``is_chat_model``).
    """
    from glmtui.api.models import is_chat_model

    return [
        card
        for card in cards
        if matches(card, text)
        and (developer is None or developer_of(card) == developer)
        and (input_modality is None or input_modality in card.input_modalities)
        and (not chat_only or is_chat_model(card))
    ]


def developer_of(card: ModelCard) -> str:
    """Who made the model, as the catalogue's developer filter names it."""
    return card.developer or card.owned_by or "unknown"
