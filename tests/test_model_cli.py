"""`glmtui models` and `glmtui models show` through the model catalogue: live against the
loopback server, then from the cache when it is gone, the built-in card with no cache or no
key, and exit status 1 when there is nothing to show."""

from __future__ import annotations

import io
import json
import sys

import pytest

from glmtui.cli import main
from tests.conftest import FAKE_KEY
from tests.server import (
    GLM5_MODEL,
    VISION_MODEL,
    WIDE_CATALOGUE,
    JsonReply,
    LoopbackServer,
)


@pytest.fixture(autouse=True)
def quiet_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    return FAKE_KEY


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep retries, drop the waiting (a refused connection is retried once)."""
    import functools

    from glmtui.api.client import RetryPolicy

    fast = functools.partial(RetryPolicy, base_delay=0.001, max_delay=0.002)
    monkeypatch.setattr("glmtui.api.client.RetryPolicy", fast)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_glm5_prints_the_facts_and_prices(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's check: 744 billion / 40 billion / 200,000 / NVFP4 and prices per 1M."""
    code, out, err = run(capsys, "models", "show", "zai-org-glm-5", "--base-url", server.base_url)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:2] == ["Name                GLM-5", "Id                  zai-org-glm-5"]
    for line in (
        "Context length      200,000 tokens",
        "Input price         $1.00 / 1M tokens",
        "Output price        $3.20 / 1M tokens",
        "Parameters          744 billion",
        "Mixture of Experts  yes",
        "Active parameters   40 billion",
        "Precision           NVFP4",
    ):
        assert line in lines
    assert "Request parameters: none published" in out
    assert "| Parameter Count | 744 Billion |" in out  # the description follows


def test_show_prints_the_request_schema(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(JsonReply(200, VISION_MODEL), path=f"/models/{VISION_MODEL['id']}")
    code, out, _ = run(capsys, "models", "show", VISION_MODEL["id"], "--base-url", server.base_url)
    assert code == 0
    assert "Context length      128,000 tokens" in out
    assert "Max output          32,768 tokens" in out
    assert "Precision           FP8" in out
    table = out[out.index("Request parameters:") :].splitlines()
    assert table[1].split() == ["NAME", "TYPE", "RANGE", "DEFAULT", "DESCRIPTION"]
    assert table[3].split() == ["temperature", "number", "0–2", "0.7", "Sampling", "temperature."]
    assert "(* required)" in out


def test_show_works_offline_from_the_cache(keyed: str, capsys: pytest.CaptureFixture[str]) -> None:
    with LoopbackServer() as server:
        url = server.base_url
        code, live, _ = run(capsys, "models", "show", "zai-org-glm-5", "--base-url", url)
        assert code == 0
    code, out, err = run(capsys, "models", "show", "zai-org-glm-5", "--base-url", url)
    assert code == 0
    assert out == live
    assert err.startswith("glmtui: note: Cached copy, fetched just now — offline: Could not")
    code, out, _ = run(capsys, "models", "show", "zai-org-glm-5", "--json", "--base-url", url)
    assert json.loads(out) == GLM5_MODEL


def test_list_works_offline_from_the_cache(keyed: str, capsys: pytest.CaptureFixture[str]) -> None:
    with LoopbackServer() as server:
        server.set_default(JsonReply(200, WIDE_CATALOGUE), path="/models")
        url = server.base_url
        assert run(capsys, "models", "--base-url", url)[0] == 0
    code, out, err = run(capsys, "models", "--search", "qwen", "--base-url", url)
    assert code == 0
    assert out.splitlines() == [
        "ID                          NAME                   CONTEXT  PRICE IN    PRICE OUT",
        "qwen-qwen3-vl-32b-instruct  Qwen3 VL 32B Instruct  128,000  $0.20 / 1M  $0.60 / 1M",
    ]
    assert "Cached copy" in err


def test_no_key_and_no_cache_shows_the_builtin_card(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "models", "show", "zai-org-glm-5")  # hub.oxen.ai, no key
    assert code == 0
    assert "Parameters          744 billion" in out
    assert "Input price         unknown (built-in card)" in out
    assert err.startswith("glmtui: note: Built-in card shipped with glmtui — No API key found.")
    assert "Set OXEN_API_KEY" in err
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert out.splitlines()[1].split()[0] == "zai-org-glm-5"


def test_unknown_model_exits_1(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "models", "show", "nope", "--base-url", server.base_url)
    assert (code, out) == (1, "")
    assert "Model 'nope' does not exist on this provider (404 Not Found)" in err


def test_rejected_key_with_nothing_cached_exits_1(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(JsonReply(401, {"error": {"message": "bad key"}}), path="/models/other")
    code, _, err = run(capsys, "models", "show", "other", "--base-url", server.base_url)
    assert code == 1
    assert "The API key was rejected (401 Unauthorized): bad key." in err


def test_rejected_key_falls_back_for_glm5(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(JsonReply(401, {"error": {"message": "bad key"}}), path="/models/zai-org-glm-5")
    code, out, err = run(capsys, "models", "show", "zai-org-glm-5", "--base-url", server.base_url)
    assert code == 0
    assert "NVFP4" in out
    assert "key rejected: The API key was rejected" in err


def test_models_in_demo_mode_need_no_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "models", "show", "zai-org-glm-5", "--demo")
    assert (code, err) == (0, "")
    assert "GLM-5" in out
    code, out, err = run(capsys, "models", "--demo", "--json")
    assert code == 0
    assert "zai-org-glm-5" in [m["id"] for m in json.loads(out)]


def test_search_needs_every_word(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "models", "--search", "meta 3B", "--base-url", server.base_url)
    assert code == 0
    assert "meta-llama-3.2-3b-instruct" in out
    assert "zai-org-glm-5" not in out
    code, out, err = run(capsys, "models", "--search", "meta glm", "--base-url", server.base_url)
    assert (code, out, err) == (0, "", "No models found.\n")


def test_server_text_cannot_drive_the_terminal(
    server: LoopbackServer, keyed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sneaky = {**GLM5_MODEL, "display_name": "GLM\x1b[2J-5"}
    server.enqueue(JsonReply(200, sneaky), path="/models/zai-org-glm-5")
    _, out, _ = run(capsys, "models", "show", "zai-org-glm-5", "--base-url", server.base_url)
    assert "\x1b" not in out
    assert "GLM\\x1b[2J-5" in out
