"""Smoke test for the on-demand benchmark suite (``tests/benchmarks``, not run by default).

Proves the harness still works end to end on the tiniest configuration: the loopback server in
its own process, one 50-token flat-out reply streamed into glmtui's chat screen and into the
naive screen, each in a fresh process, and the table built from the results. The figure
functions are checked on made-up records.
"""

from __future__ import annotations

import httpx
import pytest

from tests.benchmarks import bench_streaming, figures, probe
from tests.server import END_MARKER, LoopbackServer, build_tokens


def test_latency_counts_a_delta_visible_at_the_first_frame_that_shows_it() -> None:
    arrivals = [(1.0, 5), (1.1, 10), (1.2, 15)]
    frames = [(0.9, 0.0, 0), (1.05, 0.0, 5), (1.3, 0.0, 10), (1.4, 0.0, 15)]
    latencies = figures.visible_latencies(arrivals, frames)
    assert latencies == pytest.approx([0.05, 0.2, 0.2])
    # A capped run: the last delta never reached the screen.
    assert len(figures.visible_latencies(arrivals, frames[:3])) == 2
    assert figures.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95) == 10
    assert figures.percentile([3, 1, 2], 0.5) == 2


def test_server_timeline_retimes_arrivals() -> None:
    recorder = probe.Recorder()
    recorder.stamp = (2.0, 0.5)  # the client read both deltas in one go at t=2.0
    recorder.note_delta("abc")
    recorder.note_delta("de")
    assert recorder.arrivals == [(2.0, 3), (2.0, 5)]
    assert recorder.use_timeline([(1.0, 3), (1.5, 5)]) == 2
    assert recorder.arrivals == [(1.0, 3), (1.5, 5)]
    assert recorder.start == (1.0, 0.5)


def test_growth_compares_cpu_per_token_of_last_and_first_tenth() -> None:
    arrivals = [(float(i), i + 1) for i in range(100)]  # one character per delta
    # 1 ms of CPU per token for the first half, then 3 ms per token.
    frames = [
        (float(k), 0.001 * k if k <= 50 else 0.05 + 0.003 * (k - 50), k) for k in range(5, 101, 5)
    ]
    result = figures.growth(arrivals, frames, start_cpu=0.0)
    assert result is not None
    assert result.first_ms == pytest.approx(1.0)
    assert result.last_ms == pytest.approx(3.0)
    assert result.ratio == pytest.approx(3.0)
    assert not result.coarse
    assert figures.growth(arrivals, frames[-1:], 0.0) is None
    coarse = figures.growth(arrivals, [frames[9], frames[-1]], 0.0)
    assert coarse is not None
    assert coarse.coarse


def test_code_document_is_one_long_fence(server: LoopbackServer) -> None:
    tokens = build_tokens(400, "code")
    text = "".join(tokens)
    assert len(tokens) == 400
    assert text.count("```") == 2
    assert text.rstrip("\n").endswith("\n" + END_MARKER)
    assert build_tokens(400) != tokens  # prose stays the default
    body = {"x_tokens": 400, "x_doc": "code"}
    reply = httpx.post(server.url("/chat/completions"), json=body, timeout=5).json()
    assert reply["choices"][0]["message"]["content"] == text
    bad = httpx.post(server.url("/chat/completions"), json={"x_doc": "poetry"}, timeout=5)
    assert bad.status_code == 400


def test_tiniest_configuration_runs_for_both_screens() -> None:
    scenario = bench_streaming._flat(50, "prose", cap=20)
    results = bench_streaming.measure([scenario], 1, 1, 1, log=lambda _: None)
    for app in bench_streaming.APPS:
        (result,) = results[scenario.key][app]
        assert "error" not in result, result
        assert result["complete"], result
        assert result["tokens_shown"] == 50
        assert result["cpu_s"] > 0
        assert result["frames"] >= 1
        assert result["arrivals_retimed"] == 50  # the server's timeline was used
    lines = bench_streaming.table([scenario], results)
    assert lines[0].startswith("| scenario | figure |")
    assert any("tokens/s absorbed" in line and "| 1/1 |" in line for line in lines)
