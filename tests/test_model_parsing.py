"""Parsing real-shaped model objects: Oxen's GLM-5, other description tables, both schema keys,
OpenAPI schemas, null fields, bare vLLM/OpenRouter objects, and the display rows built from
them."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from glmtui.api.models import (
    BUILTIN_GLM5,
    CONTEXT_FIELDS,
    builtin_card,
    description_facts,
    is_chat_model,
    is_spec_fact,
    model_specs,
    normalise_schema,
    parse_model,
    parse_parameter_count,
    parse_token_count,
    schema_ranges,
    schema_rows,
    table_label,
)
from glmtui.chat.formatting import (
    context_cell,
    context_text,
    model_fact_rows,
    parameter_count,
)
from glmtui.domain import ModelCard
from tests.server import GLM5_MODEL, IMAGE_MODEL, LLAMA_MODEL, VISION_MODEL


def rows(card_data: dict[str, Any]) -> dict[str, str]:
    return dict(model_fact_rows(parse_model(card_data)))


def test_oxen_glm5_object() -> None:
    card = parse_model(GLM5_MODEL)
    assert (card.name, card.developer, card.released_at[:10]) == ("GLM-5", "Z.ai", "2026-02-11")
    assert card.context_length == 200_000
    assert card.max_output_tokens is None
    assert card.pricing.input_per_token == pytest.approx(1e-6)
    specs = model_specs(card)
    assert specs.parameters == 744_000_000_000
    assert specs.active_parameters == 40_000_000_000
    assert specs.mixture_of_experts is True
    assert specs.precision == "NVFP4"
    assert specs.multilingual is True
    assert rows(GLM5_MODEL) == {
        "Developer": "Z.ai",
        "Released": "2026-02-11",
        "Input": "text",
        "Output": "text",
        "Context length": "200,000 tokens",
        "Max output": "not stated",
        "Input price": "$1.00 / 1M tokens",
        "Output price": "$3.20 / 1M tokens",
        "Parameters": "744 billion",
        "Mixture of Experts": "yes",
        "Active parameters": "40 billion",
        "Precision": "NVFP4",
        "Multilingual": "yes",
    }
    assert schema_rows(card.request_schema) == []
    assert schema_ranges(card) == {}


def test_json_request_schema_as_a_string_and_other_table_row_names() -> None:
    """Qwen-style object: limits only in a table called Specification/Details, with other
    row names; the schema is a JSON string under json_request_schema; nulls elsewhere."""
    card = parse_model(VISION_MODEL)
    assert card.context_length == 128_000  # "Context Window | 128K tokens"
    assert card.max_output_tokens == 32_768  # "Max Output Tokens | 32,768"
    assert card.summary == ""
    assert card.released_at == ""
    assert card.pricing.output_per_token == pytest.approx(6e-7)  # prices as strings
    specs = model_specs(card)
    assert (specs.parameters, specs.active_parameters) == (33e9, 33e9)
    assert specs.mixture_of_experts is False  # every parameter active: dense
    assert specs.precision == "FP8"  # "Quantization"
    shown = rows(VISION_MODEL)
    assert shown["Input"] == "text, image"
    assert shown["License"] == "Apache 2.0"  # rows it does not know are still listed
    assert "Context Window" not in shown  # …but not those it already shows as facts
    assert [
        (r.name, r.type, r.range, r.default, r.required) for r in schema_rows(card.request_schema)
    ] == [
        ("messages", "array of object", "", "", True),
        ("temperature", "number", "0–2", "0.7", False),
        ("max_tokens", "integer or null", "1–32,768", "", False),
        ("response_format", "enum", "one of: text, json_object", "text", False),
    ]
    assert schema_ranges(card) == {"temperature": (0, 2), "max_tokens": (1, 32768)}


def test_openapi_request_schema_with_refs() -> None:
    card = parse_model(IMAGE_MODEL)
    table = {r.name: r for r in schema_rows(card.request_schema)}
    assert table["prompt"].required
    assert table["prompt"].description == "What to draw."
    assert table["num_images"].range == "1–4"
    assert table["guidance"].range == "> 0, ≤ 20"  # $ref resolved, exclusiveMinimum kept
    assert schema_ranges(card)["guidance"] == (0, 20)
    assert not is_chat_model(card)
    shown = rows(IMAGE_MODEL)
    assert shown["Price"] == "$0.025 per image"
    assert "Context length" not in shown  # token facts are noise for an image model


@pytest.mark.parametrize("key", ["request_schema", "json_request_schema"])
@pytest.mark.parametrize("as_string", [False, True])
def test_both_schema_keys_as_dict_or_string(key: str, as_string: bool) -> None:
    schema = {"type": "object", "properties": {"top_p": {"type": "number", "maximum": 1}}}
    value: Any = json.dumps(schema) if as_string else schema
    other = "json_request_schema" if key == "request_schema" else "request_schema"
    card = parse_model({"id": "m", key: value, other: {}})
    assert schema_ranges(card) == {"top_p": (None, 1)}
    assert schema_rows(card.request_schema)[0].range == "≤ 1"


def test_unreadable_schema_is_empty() -> None:
    assert normalise_schema("{not json") == {}
    assert normalise_schema(None) == {}
    assert normalise_schema(["a"]) == {}
    bare = normalise_schema({"seed": {"type": "integer"}})  # a bare {name: spec} map
    assert bare["properties"] == {"seed": {"type": "integer"}}


def test_null_fields_everywhere() -> None:
    data = {
        key: None
        for key in [
            "object",
            "created",
            "owned_by",
            "display_name",
            "description",
            "summary",
            "model_type",
            "endpoint",
            "capabilities",
            "pricing",
            "developer",
            "released_at",
            "request_schema",
            "json_request_schema",
            "context_length",
            "max_output_tokens",
        ]
    }
    card = parse_model({"id": "m", **data})
    assert (card.name, card.context_length, card.facts, card.request_schema) == ("m", None, (), {})
    assert rows({"id": "m", **data})["Input price"] == "not published"
    nested = parse_model(
        {"id": "m", "capabilities": {"input": None}, "pricing": {"input_cost_per_token": None}}
    )
    assert nested.input_modalities == ()
    assert nested.pricing.input_per_token is None
    assert parse_model({"id": "m", "developer": {"name": None}}).developer == ""


def test_bare_vllm_and_openrouter_shapes() -> None:
    vllm = parse_model({"id": "zai-org/GLM-5-FP8", "object": "model", "max_model_len": 202752})
    assert vllm.context_length == 202_752
    assert is_chat_model(vllm)  # says nothing: assume chat
    router = parse_model(
        {
            "id": "z-ai/glm-5",
            "name": "Z.ai: GLM 5",
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
            "pricing": {"prompt": "0.000001", "completion": "0.0000032"},
            "top_provider": {"context_length": 202752, "max_completion_tokens": 131072},
        }
    )
    assert router.name == "Z.ai: GLM 5"
    assert (router.context_length, router.max_output_tokens) == (202_752, 131_072)
    assert router.pricing.output_per_token == pytest.approx(3.2e-6)
    assert router.input_modalities == ("text",)


def test_known_default_context_when_nothing_says() -> None:
    assumed = parse_model({"id": "glm-5"})
    assert (assumed.context_length, assumed.context_source) == (200_000, "assumed")
    unknown = parse_model({"id": "unknown-model"})
    assert (unknown.context_length, unknown.context_source) == (None, None)


def test_structured_fields_win_over_the_table() -> None:
    data = {
        **LLAMA_MODEL,
        "context_length": 64_000,
        "parameter_count": 3_210_000_000,
        "precision": "INT8",
    }
    card = parse_model(data)
    assert card.context_length == 64_000  # the table says 128,000
    specs = model_specs(card)
    assert (specs.parameters, specs.precision) == (3_210_000_000, "INT8")
    assert parameter_count(specs.parameters) == "3.21 billion"


def test_transposed_table_and_header_names() -> None:
    description = (
        "Intro.\n\n| Parameters | Context | Precision |\n|---|---|---|\n| 355B | 128K | FP8 |\n\n"
        "| Property | Description |\n|---|---|\n| Mixture of Experts | Yes |\n"
    )
    assert description_facts(description) == (
        ("Parameters", "355B"),
        ("Context", "128K"),
        ("Precision", "FP8"),
        ("Mixture of Experts", "Yes"),
    )
    card = parse_model({"id": "m", "description": description})
    assert card.context_length == 128_000
    assert model_specs(card).mixture_of_experts is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("200,000", 200_000),
        ("200K", 200_000),
        ("128k tokens", 128_000),
        ("1M", 1_000_000),
        ("1 million tokens", 1_000_000),
        ("32,768", 32_768),
        ("744 Billion", None),  # a parameter count, not a token count
        ("n/a", None),
    ],
)
def test_token_counts(text: str, expected: int | None) -> None:
    assert parse_token_count(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("744 Billion", 744_000_000_000),
        ("744B", 744_000_000_000),
        ("40B active", 40_000_000_000),
        ("1.2T", 1_200_000_000_000),
        ("7,000,000,000", 7_000_000_000),
        ("355B-A32B", 355_000_000_000),
        ("744", None),  # ambiguous without a unit
    ],
)
def test_parameter_counts(text: str, expected: int | None) -> None:
    assert parse_parameter_count(text) == expected


def test_builtin_card_has_every_fact_the_issue_names() -> None:
    card = builtin_card()
    assert card is not None
    assert card.builtin
    assert builtin_card("other") is None
    shown = dict(model_fact_rows(card))
    assert shown["Parameters"] == "744 billion"
    assert shown["Active parameters"] == "40 billion"
    assert shown["Mixture of Experts"] == "yes"
    assert shown["Context length"] == "~200,000 tokens (assumed)"  # glmtui's word, not a server's
    assert card.context_assumed
    assert shown["Multilingual"] == "yes"
    assert shown["Precision"] == "NVFP4"
    assert "Oxen" in BUILTIN_GLM5["description"]
    assert card.pricing.input_per_token is None  # never a stale price


# --- description tables: a label is a fact's name, never merely contains one --------------------

OXEN_ROWS: list[tuple[str, str]] = [
    ("Quantized*", "Yes"),
    ("Precision*", "NVFP4"),
    ("Context Caching*", "5 min"),
    ("Context Length*", "200,000"),
    ("Max Output Tokens*", "131,072"),
    ("Parameter Count", "744 Billion"),
    ("Parameter-Efficient Fine-Tuning", "Supported"),
    ("Active Parameter Count", "40 Billion"),
    ("Mixture of Experts", "Yes"),
    ("Multilingual", "Yes"),
]
"""Rows of an Oxen description table (footnote-starred labels), with neighbours whose labels
contain a fact's word without being that fact (Quantized, Context Caching, Parameter-Efficient
Fine-Tuning)."""


def _orders() -> list[list[tuple[str, str]]]:
    shuffled = []
    for seed in range(8):
        rows = list(OXEN_ROWS)
        random.Random(seed).shuffle(rows)
        shuffled.append(rows)
    return [OXEN_ROWS, OXEN_ROWS[::-1], *shuffled]


def _table(rows: list[tuple[str, str]]) -> str:
    lines = "".join(f"| {key} | {value} |\n" for key, value in rows)
    return f"GLM-5 on Oxen.\n\n| Metric | Value |\n|---|---|\n{lines}\n* As served by Oxen.ai.\n"


@pytest.mark.parametrize("rows", _orders(), ids=lambda rows: ",".join(k[:4] for k, _ in rows))
def test_oxen_table_facts_in_any_order(rows: list[tuple[str, str]]) -> None:
    card = parse_model({"id": "zai-org-glm-5", "description": _table(rows)})
    assert (card.context_length, card.context_source) == (200_000, "description")
    assert card.max_output_tokens == 131_072
    specs = model_specs(card)
    assert specs.precision == "NVFP4"  # not "Yes", the Quantized row's value
    assert (specs.parameters, specs.parameters_text) == (744_000_000_000, "744 Billion")
    assert specs.active_parameters == 40_000_000_000
    assert specs.mixture_of_experts is True
    assert specs.multilingual is True
    shown = dict(model_fact_rows(card))
    assert shown["Precision"] == "NVFP4"
    assert shown["Context length"] == "200,000 tokens"
    assert shown["Parameters"] == "744 billion"
    # The neighbours are rows of their own, shown as the provider wrote them.
    assert shown["Quantized"] == "Yes"
    assert shown["Context Caching"] == "5 min"
    assert shown["Parameter-Efficient Fine-Tuning"] == "Supported"


@pytest.mark.parametrize(
    "mark",
    ["{}*", "**{}**", "{}†", "{}¹", "{} [1]", "{}[^note]", "*{}*:", "{} (2)", "`{}`", "{}**"],
)
def test_footnote_and_emphasis_marks_do_not_change_a_label(mark: str) -> None:
    rows = [(mark.format("Quantized"), "Yes"), (mark.format("Precision"), "BF16")]
    rows += [(mark.format("Context Window"), "32K tokens")]
    card = parse_model({"id": "m", "description": _table(rows)})
    assert model_specs(card).precision == "BF16"
    assert card.context_length == 32_000
    assert table_label(mark.format("Mixture-of-Experts")) == "mixture of experts"


@pytest.mark.parametrize(
    ("rows", "precision"),
    [
        ([("Quantized", "Yes")], ""),  # says that it is quantized, not how
        ([("Quantization", "Yes")], ""),  # a yes is never a precision
        ([("Quantization", "FP8")], "FP8"),
        ([("Weight Precision", "INT4"), ("Quantized", "Yes")], "INT4"),
        ([("Tensor type", "BF16")], "BF16"),
        ([("Precision Recall", "0.93")], ""),  # a score, not a number format
    ],
)
def test_precision_comes_only_from_a_precision_row(
    rows: list[tuple[str, str]], precision: str
) -> None:
    card = parse_model({"id": "m", "description": _table(rows)})
    assert model_specs(card).precision == precision
    assert dict(model_fact_rows(card)).get("Precision", "") == precision


@pytest.mark.parametrize(
    ("label", "fact"),
    [
        ("Context Length", True),
        ("Max Context Length (tokens)", True),
        ("Context Caching", False),
        ("Parameters", True),
        ("Total Parameters", True),
        ("Parameter-Efficient Fine-Tuning", False),
        ("Quantization", True),
        ("Quantized", False),
        ("Supported Languages", True),
        ("Language Model Type", False),
        ("License", False),
    ],
)
def test_only_exact_fact_labels_are_hidden_from_the_other_rows(label: str, fact: bool) -> None:
    assert is_spec_fact(label) is fact


# --- where a context length comes from ---------------------------------------------------------


def _nested(path: tuple[str, ...], value: object) -> dict[str, Any]:
    out: dict[str, Any] = {"id": "zai-org-glm-5", "object": "model"}
    node = out
    for name in path[:-1]:
        node = node.setdefault(name, {})
    node[path[-1]] = value
    return out


SERVER_CONTEXT_FIELDS: list[tuple[str, ...]] = [
    ("context_length",),  # Oxen, OpenRouter, Together, Fireworks
    ("context_window",),  # Groq
    ("max_context_length",),  # Mistral, LM Studio
    ("max_model_len",),  # vLLM, SGLang
    ("top_provider", "context_length"),  # OpenRouter
    ("metadata", "context_length"),  # DeepInfra
    ("meta", "n_ctx"),  # llama.cpp, the window it runs with
    ("n_ctx",),
    ("meta", "n_ctx_train"),  # llama.cpp, the window the model was trained with
    ("n_ctx_train",),
]
"""Where OpenAI-compatible servers put a context length (written out here, not taken from
the code under test, so a place the parser forgets fails a case)."""


def test_every_known_place_is_read() -> None:
    assert set(SERVER_CONTEXT_FIELDS) <= set(CONTEXT_FIELDS)


@pytest.mark.parametrize(
    "path", SERVER_CONTEXT_FIELDS, ids=[".".join(p) for p in SERVER_CONTEXT_FIELDS]
)
def test_a_context_length_wherever_the_server_puts_it_beats_the_assumption(
    path: tuple[str, ...],
) -> None:
    """A GLM-5 id on a server that says 4,096 (llama.cpp's default) is a 4,096-token model."""
    card = parse_model(_nested(path, 4096))
    assert (card.context_length, card.context_source) == (4096, "model")
    assert not card.context_assumed
    assert dict(model_fact_rows(card))["Context length"] == "4,096 tokens"


def test_llama_cpp_model_object() -> None:
    """llama.cpp's /v1/models entry: the window it runs with beats the one it was trained
    with; the trained one beats an assumption."""
    meta = {"vocab_type": 2, "n_vocab": 151936, "n_ctx_train": 40960, "n_params": 4022468096}
    trained = parse_model({"id": "zai-org-glm-5", "owned_by": "llamacpp", "meta": meta})
    assert (trained.context_length, trained.context_source) == (40_960, "model")
    running = parse_model({"id": "zai-org-glm-5", "meta": {**meta, "n_ctx": 4096}})
    assert running.context_length == 4096


@pytest.mark.parametrize("said", [None, 0, -1, "n/a", True, {"value": 4096}])
def test_nothing_usable_said_means_assumed_and_labelled(said: object) -> None:
    """llama-cpp-python's object says nothing: glmtui's 200,000 is shown as an assumption."""
    card = parse_model({"id": "zai-org-glm-5", "owned_by": "me", "context_length": said})
    assert (card.context_length, card.context_source) == (200_000, "assumed")
    assert card.context_assumed
    assert dict(model_fact_rows(card))["Context length"] == "~200,000 tokens (assumed)"
    assert context_cell(card) == "~200,000 (assumed)"


def test_context_text_for_each_source() -> None:
    assert context_text(ModelCard("m")) == "unknown"
    assert context_cell(ModelCard("m")) == "unknown"
    cases = {
        "model": ("131,072 tokens", "131,072"),
        "description": ("131,072 tokens", "131,072"),
        None: ("131,072 tokens", "131,072"),  # a card built by hand
        "config": ("131,072 tokens (set in config)", "131,072 (config)"),
        "assumed": ("~131,072 tokens (assumed)", "~131,072 (assumed)"),
    }
    for source, (text, cell) in cases.items():
        card = ModelCard("m", context_length=131_072, context_source=source)  # type: ignore[arg-type]
        assert (context_text(card), context_cell(card)) == (text, cell)
        assert card.context_assumed is (source == "assumed")
        assert dict(model_fact_rows(card))["Context length"] == text
