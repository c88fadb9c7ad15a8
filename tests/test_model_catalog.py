"""ModelCatalog: live first, the on-disk cache when offline or without a working key, the
built-in GLM-5 card when nothing is cached, and 404 as an answer rather than an outage."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from glmtui.api.client import ChatClient, RetryPolicy
from glmtui.api.errors import AuthError, MissingKeyError, NetworkError, NotFoundError
from glmtui.chat.catalog import ModelCatalog, filter_cards, safe_name, scope_for
from glmtui.chat.formatting import context_cell, model_fact_rows
from glmtui.config import Overrides, load_settings
from tests.conftest import FAKE_KEY
from tests.server import (
    GLM5_MODEL,
    LLAMA_MODEL,
    WIDE_CATALOGUE,
    JsonReply,
    LoopbackServer,
    oxen_error,
)

NO_RETRY = RetryPolicy(max_retries=0)
T0 = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def catalog_for(base_url: str, cache: Path, clock: Clock) -> ModelCatalog:
    def factory() -> ChatClient:
        return ChatClient(base_url, FAKE_KEY, retry=NO_RETRY)

    return ModelCatalog(factory, cache, scope="test", label="loopback", clock=clock)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def make(cache: Path, clock: Clock) -> Callable[[str], ModelCatalog]:
    return lambda url: catalog_for(url, cache, clock)


async def test_live_card_is_cached_then_served_offline(
    server: LoopbackServer, make: Callable[[str], ModelCatalog], clock: Clock, cache: Path
) -> None:
    catalog = make(server.base_url)
    live = await catalog.card("zai-org-glm-5")
    assert (live.source, live.fetched_at, live.error) == ("live", T0, None)
    assert live.card is not None
    assert live.card.raw == GLM5_MODEL
    assert catalog.describe(live) == "Live from loopback · fetched 14:00"

    server.stop()
    clock.advance(minutes=12)
    offline = await catalog.card("zai-org-glm-5", refresh=True)
    assert offline.source == "cache"
    assert offline.fetched_at == T0
    assert isinstance(offline.error, NetworkError)
    assert offline.card is not None
    assert offline.card.context_length == 200_000
    assert catalog.describe(offline).startswith(
        "Cached copy, fetched 12 min ago — offline: Could not connect to 127.0.0.1"
    )
    files = list((cache / "models" / "test").iterdir())
    assert [f.name for f in files] == [f"card-{safe_name('zai-org-glm-5')}.json"]
    stored = json.loads(files[0].read_text())
    assert stored["object"] == GLM5_MODEL
    assert stored["fetched_at"] == T0.isoformat()


async def test_fresh_cache_is_used_without_a_request_until_an_hour_passes(
    server: LoopbackServer, make: Callable[[str], ModelCatalog], clock: Clock
) -> None:
    catalog = make(server.base_url)
    await catalog.card("zai-org-glm-5")
    clock.advance(minutes=59)
    again = await catalog.card("zai-org-glm-5")
    assert (again.source, again.error) == ("cache", None)
    assert len(server.requests) == 1
    assert catalog.describe(again) == (
        "Copy saved 59 min ago (reused for up to an hour) — press r to refresh"
    )
    clock.advance(minutes=2)  # stale now: asks again
    assert (await catalog.card("zai-org-glm-5")).source == "live"
    assert len(server.requests) == 2


async def test_refresh_always_asks(
    server: LoopbackServer, make: Callable[[str], ModelCatalog], clock: Clock
) -> None:
    catalog = make(server.base_url)
    await catalog.card("zai-org-glm-5")
    changed = {**GLM5_MODEL, "context_length": 250_000}
    server.enqueue(JsonReply(200, changed), path="/models/zai-org-glm-5")
    clock.advance(minutes=1)
    result = await catalog.card("zai-org-glm-5", refresh=True)
    assert result.source == "live"
    assert result.fetched_at == clock.now
    assert result.card is not None
    assert result.card.context_length == 250_000


async def test_stale_cache_with_refresh_when_offline_says_how_old(
    make: Callable[[str], ModelCatalog], clock: Clock, unused_port: int, server: LoopbackServer
) -> None:
    await make(server.base_url).card("zai-org-glm-5")
    clock.advance(days=3)
    offline = make(f"http://127.0.0.1:{unused_port}/v1")
    result = await offline.card("zai-org-glm-5", refresh=True)
    assert result.source == "cache"
    assert "fetched 3 days ago — offline" in offline.describe(result)


async def test_no_cache_gives_the_builtin_card(
    make: Callable[[str], ModelCatalog], unused_port: int
) -> None:
    catalog = make(f"http://127.0.0.1:{unused_port}/v1")
    result = await catalog.card("zai-org-glm-5")
    assert result.source == "builtin"
    assert result.fetched_at is None
    assert result.card is not None
    assert result.card.builtin
    assert result.card.context_length == 200_000
    assert isinstance(result.error, NetworkError)
    assert catalog.describe(result).startswith("Built-in card shipped with glmtui — offline:")
    other = await catalog.card("meta-llama-3.2-3b-instruct")
    assert (other.card, other.source) == (None, "none")
    assert isinstance(other.error, NetworkError)


async def test_404_is_an_answer_not_a_fallback(
    server: LoopbackServer, make: Callable[[str], ModelCatalog], clock: Clock
) -> None:
    catalog = make(server.base_url)
    gone = {**LLAMA_MODEL, "id": "retired-model"}
    server.enqueue(JsonReply(200, gone), path="/models/retired-model")
    await catalog.card("retired-model")  # cached once…
    clock.advance(hours=2)
    result = await catalog.card("retired-model")  # …then the provider drops it
    assert (result.card, result.source) == (None, "none")
    assert result.not_found
    assert isinstance(result.error, NotFoundError)
    assert "Model 'retired-model' does not exist on this provider (404" in result.error.message
    builtin = await catalog.card("zai-org-glm-5")
    assert builtin.source == "live"  # (GLM-5 exists, of course)


async def test_404_on_the_model_route_but_listed(
    server: LoopbackServer, make: Callable[[str], ModelCatalog]
) -> None:
    """vLLM and SGLang have no /models/{id}: the list answers instead."""
    vllm_list = {"object": "list", "data": [{"id": "zai-org/GLM-5-FP8", "max_model_len": 202752}]}
    server.set_default(JsonReply(200, vllm_list), path="/models")
    result = await make(server.base_url).card("zai-org/GLM-5-FP8")
    assert result.source == "live"
    assert result.card is not None
    assert result.card.context_length == 202_752


async def test_401_falls_back_and_says_the_key_is_wrong(
    server: LoopbackServer, make: Callable[[str], ModelCatalog]
) -> None:
    server.enqueue(
        JsonReply(401, oxen_error("Unauthorized", "Invalid API key")), path="/models/zai-org-glm-5"
    )
    catalog = make(server.base_url)
    result = await catalog.card("zai-org-glm-5")
    assert result.source == "builtin"
    assert isinstance(result.error, AuthError)
    assert catalog.describe(result) == (
        "Built-in card shipped with glmtui — key rejected: The API key was rejected "
        "(401 Unauthorized): Unauthorized: Invalid API key."
    )
    server.enqueue(JsonReply(401, {"error": {"message": "bad key"}}), path="/models/x-model")
    other = await catalog.card("x-model")
    assert other.card is None
    assert "rejected" in str(other.error)


async def test_missing_key_never_makes_a_request(
    server: LoopbackServer, cache: Path, clock: Clock
) -> None:
    def factory() -> ChatClient:
        raise MissingKeyError("No API key found.")

    catalog = ModelCatalog(factory, cache, clock=clock)
    result = await catalog.card("zai-org-glm-5")
    assert result.source == "builtin"
    assert isinstance(result.error, MissingKeyError)
    assert "— No API key found." in catalog.describe(result)
    listing = await catalog.catalogue()
    assert listing.source == "builtin"
    assert [c.id for c in listing.cards] == ["zai-org-glm-5"]
    assert server.requests == []


async def test_catalogue_live_cache_and_filters(
    server: LoopbackServer, make: Callable[[str], ModelCatalog], clock: Clock
) -> None:
    server.set_default(JsonReply(200, WIDE_CATALOGUE), path="/models")
    catalog = make(server.base_url)
    live = await catalog.catalogue()
    assert live.source == "live"
    assert len(live.cards) == 4
    server.stop()
    clock.advance(hours=5)
    cached = await catalog.catalogue()
    assert cached.source == "cache"
    assert isinstance(cached.error, NetworkError)
    assert [c.id for c in cached.cards] == [c.id for c in live.cards]
    # A model's card falls back to its catalogue entry when it has no file of its own.
    card = await catalog.card("qwen-qwen3-vl-32b-instruct")
    assert card.source == "cache"
    assert card.card is not None
    assert card.card.context_length == 128_000

    cards = cached.cards
    assert [c.id for c in filter_cards(cards, chat_only=True)] == [
        "zai-org-glm-5",
        "meta-llama-3.2-3b-instruct",
        "qwen-qwen3-vl-32b-instruct",
    ]
    assert [c.id for c in filter_cards(cards, input_modality="image")] == [
        "qwen-qwen3-vl-32b-instruct"
    ]
    assert [c.id for c in filter_cards(cards, developer="Meta")] == ["meta-llama-3.2-3b-instruct"]
    assert [c.id for c in filter_cards(cards, "z.ai GLM")] == ["zai-org-glm-5"]
    assert filter_cards(cards, "glm llama") == []


async def test_catalogue_without_cache_is_the_builtin_card(
    make: Callable[[str], ModelCatalog], unused_port: int
) -> None:
    result = await make(f"http://127.0.0.1:{unused_port}/v1").catalogue()
    assert result.source == "builtin"
    assert [c.id for c in result.cards] == ["zai-org-glm-5"]


async def test_cache_files_never_hold_the_key(
    server: LoopbackServer, make: Callable[[str], ModelCatalog], cache: Path
) -> None:
    catalog = make(server.base_url)
    await catalog.card("zai-org-glm-5")
    await catalog.catalogue()
    texts = cached_texts(cache)
    assert len(texts) == 2
    for text in texts:
        assert FAKE_KEY not in text
        assert "authorization" not in text.lower()


def cached_texts(cache: Path) -> list[str]:
    """The contents of every file in the cache folder."""
    return [path.read_text() for path in cache.rglob("*") if path.is_file()]


@pytest.mark.parametrize(
    "model_id",
    ["../../etc/passwd", "zai-org/GLM-5-FP8", "a b?c*d:e", "模型", "x" * 300, ".", ""],
)
def test_cache_file_names_are_safe_for_any_id(model_id: str, tmp_path: Path) -> None:
    name = safe_name(model_id)
    assert "/" not in name
    assert "\\" not in name
    assert not name.startswith(".")
    assert len(name) <= 80
    path = tmp_path / f"card-{name}.json"
    path.write_text("{}")  # a valid file name on this file system
    assert path.parent == tmp_path


def test_ids_that_differ_only_in_case_get_different_files() -> None:
    assert safe_name("GLM-5").lower() != safe_name("glm-5").lower()


def test_corrupt_or_foreign_cache_files_are_ignored(
    cache: Path, clock: Clock, unused_port: int
) -> None:
    catalog = catalog_for(f"http://127.0.0.1:{unused_port}/v1", cache, clock)
    folder = cache / "models" / "test"
    folder.mkdir(parents=True)
    (folder / f"card-{safe_name('zai-org-glm-5')}.json").write_text("{half a file")
    (folder / "catalogue.json").write_text(json.dumps({"format": 99, "objects": []}))
    assert catalog.cached_card("zai-org-glm-5") is None


async def test_an_unwritable_cache_only_costs_the_offline_copy(
    server: LoopbackServer, tmp_path: Path, clock: Clock
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = await catalog_for(server.base_url, blocker, clock).card("zai-org-glm-5")
    assert result.source == "live"


def test_scopes_keep_providers_apart_and_credentials_out() -> None:
    a = scope_for("https://hub.oxen.ai/api/ai")
    b = scope_for("http://gpu-box:8000/v1")
    assert a.startswith("hub.oxen.ai-api-ai-")
    assert b.startswith("gpu-box_8000-v1-")
    assert scope_for("https://hub.oxen.ai/api/ai/") == a
    secret = scope_for("https://user:hunter2@example.com/v1")
    assert "hunter2" not in secret
    assert "user" not in secret


def test_from_settings(isolated_env: Path) -> None:
    demo = ModelCatalog.from_settings(load_settings(Overrides(demo=True)))
    assert demo.folder == isolated_env / "data" / "cache" / "models" / "demo"
    oxen = ModelCatalog.from_settings(load_settings())
    assert oxen.label == "hub.oxen.ai"
    assert oxen.folder.name == scope_for("https://hub.oxen.ai/api/ai")


async def test_from_settings_without_key_reports_missing_key(isolated_env: Path) -> None:
    catalog = ModelCatalog.from_settings(load_settings())  # hub.oxen.ai, no key anywhere
    result = await catalog.card("zai-org-glm-5")
    assert result.source == "builtin"
    assert isinstance(result.error, MissingKeyError)


async def test_demo_catalogue(isolated_env: Path) -> None:
    catalog = ModelCatalog.from_settings(load_settings(Overrides(demo=True)))
    result = await catalog.catalogue()
    assert result.source == "live"
    assert "zai-org-glm-5" in [c.id for c in result.cards]


# --- saying what a reused copy is ---------------------------------------------------------------


async def test_a_reused_copy_says_it_was_saved_reused_and_how_to_refresh(
    server: LoopbackServer, cache: Path, clock: Clock
) -> None:
    """While the provider is up, a young saved copy is shown without a request: the line says
    that (when it was saved, how long copies are reused, the key that refreshes), never a bare
    "Cached copy" that reads like an outage."""

    def factory() -> ChatClient:
        return ChatClient(server.base_url, FAKE_KEY, retry=NO_RETRY)

    for fresh_for, span in (
        (timedelta(hours=1), "an hour"),
        (timedelta(minutes=30), "30 minutes"),
        (timedelta(hours=2), "2 hours"),
    ):
        catalog = ModelCatalog(factory, cache, scope=span, clock=clock, fresh_for=fresh_for)
        await catalog.card("zai-org-glm-5")
        await catalog.catalogue()
        clock.advance(minutes=26)
        for result in (await catalog.card("zai-org-glm-5"), await catalog.catalogue()):
            assert (result.source, result.error) == ("cache", None)
            assert catalog.describe(result) == (
                f"Copy saved 26 min ago (reused for up to {span}) — press r to refresh"
            )
            assert catalog.describe(result, refresh_key="ctrl+r").endswith(
                "press ctrl+r to refresh"
            )
            assert catalog.describe(result, refresh_key="") == (
                f"Copy saved 26 min ago (reused for up to {span})"
            )
        clock.advance(minutes=-26)
    assert len(server.requests) == 6  # two per catalogue, none for the reused copies


async def test_an_old_copy_shown_because_offline_still_says_why(
    server: LoopbackServer, make: Callable[[str], ModelCatalog], clock: Clock
) -> None:
    catalog = make(server.base_url)
    await catalog.card("zai-org-glm-5")
    server.stop()
    clock.advance(hours=2)
    result = await catalog.card("zai-org-glm-5")
    assert catalog.describe(result).startswith("Cached copy, fetched 2 h ago — offline: ")
    assert "reused" not in catalog.describe(result)


# --- context lengths: the server's, the config's, or an assumption said as one ------------------

LLAMA_CPP_PYTHON_OBJECT = {"id": "zai-org-glm-5", "object": "model", "owned_by": "me"}
"""What llama-cpp-python's server says about a model served under GLM-5's id: nothing."""


async def test_a_live_card_that_says_no_context_is_labelled_assumed(
    server: LoopbackServer, make: Callable[[str], ModelCatalog]
) -> None:
    server.enqueue(JsonReply(200, LLAMA_CPP_PYTHON_OBJECT), path="/models/zai-org-glm-5")
    result = await make(server.base_url).card("zai-org-glm-5")
    assert result.source == "live"
    assert result.card is not None
    assert (result.card.context_length, result.card.context_source) == (200_000, "assumed")
    assert dict(model_fact_rows(result.card))["Context length"] == "~200,000 tokens (assumed)"


async def test_a_live_llama_cpp_card_has_the_servers_window(
    server: LoopbackServer, make: Callable[[str], ModelCatalog]
) -> None:
    llama_cpp = {**LLAMA_CPP_PYTHON_OBJECT, "meta": {"n_ctx_train": 4096, "n_vocab": 32000}}
    server.set_default(JsonReply(200, {"object": "list", "data": [llama_cpp]}), path="/models")
    catalog = make(server.base_url)
    listing = await catalog.catalogue()
    assert [(c.context_length, c.context_source) for c in listing.cards] == [(4096, "model")]
    assert [context_cell(c) for c in listing.cards] == ["4,096"]


async def test_a_configured_context_length_wins_everywhere_and_says_so(
    server: LoopbackServer, cache: Path, clock: Clock, unused_port: int
) -> None:
    def factory_for(url: str) -> Callable[[], ChatClient]:
        return lambda: ChatClient(url, FAKE_KEY, retry=NO_RETRY)

    up = ModelCatalog(factory_for(server.base_url), cache, clock=clock, context_length=32_768)
    down = ModelCatalog(
        factory_for(f"http://127.0.0.1:{unused_port}/v1"), cache, clock=clock, context_length=8192
    )
    results = [
        await up.card("zai-org-glm-5"),  # live, the server says 200,000
        await up.card("zai-org-glm-5"),  # the reused copy
        up.cached_card("zai-org-glm-5"),
        await down.card("zai-org-glm-5", refresh=True),  # offline: the saved copy
    ]
    listing = await up.catalogue()
    fallback = await ModelCatalog(
        factory_for(f"http://127.0.0.1:{unused_port}/v1"),
        cache / "elsewhere",
        clock=clock,
        context_length=8192,
    ).card("zai-org-glm-5")  # nothing saved: the built-in card
    cards = [r.card for r in (*results, fallback) if r is not None] + list(listing.cards)
    assert [r.source for r in (*results, fallback) if r is not None] == [
        "live",
        "cache",
        "cache",
        "cache",
        "builtin",
    ]
    assert len(cards) == 7
    expected = [32_768, 32_768, 32_768, 8192, 8192, 32_768, 32_768]
    assert [c.context_length for c in cards if c is not None] == expected
    assert {c.context_source for c in cards if c is not None} == {"config"}
    first = cards[0]
    assert first is not None
    assert dict(model_fact_rows(first))["Context length"] == "32,768 tokens (set in config)"
    assert first.raw["context_length"] == 200_000  # the server's words are kept as they were


@pytest.mark.parametrize("value", [None, 0, -5, True, "4096", 4.5])
async def test_an_unusable_configured_length_is_ignored(
    server: LoopbackServer, cache: Path, clock: Clock, value: object
) -> None:
    catalog = ModelCatalog(
        lambda: ChatClient(server.base_url, FAKE_KEY, retry=NO_RETRY),
        cache,
        clock=clock,
        context_length=value,  # type: ignore[arg-type]
    )
    result = await catalog.card("zai-org-glm-5")
    assert result.card is not None
    assert (result.card.context_length, result.card.context_source) == (200_000, "model")


def test_from_settings_takes_the_providers_context_length(isolated_env: Path) -> None:
    settings = load_settings()
    assert ModelCatalog.from_settings(settings).context_length is None
    profile = dataclasses.replace(settings.provider, context_length=65_536)
    configured = dataclasses.replace(settings, provider=profile)
    assert ModelCatalog.from_settings(configured).context_length == 65_536
