"""Parse model objects from ``GET {base}/models`` into :class:`~glmtui.domain.ModelCard`.

Providers fill the model object unevenly: Oxen puts the context length in a structured field
*and* in a Markdown table inside ``description``; OpenRouter nests limits under
``top_provider``; vLLM sends ``max_model_len``; other servers send only ``id``. Parsing is
tolerant (every field optional, nulls allowed) and takes each fact from the best place that
has it: a structured field first, else the description's metric table (whatever its rows are
called), else a known default. So the rest of the app can rely on a card.

The request schema (``request_schema`` or ``json_request_schema``, a dict or a JSON string,
JSON-schema or OpenAPI shaped) is normalised to one object schema with ``properties``;
:func:`schema_rows` turns it into table rows and :func:`schema_ranges` into numeric bounds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from glmtui.domain import ModelCard, Pricing
from glmtui.domain.thinking import ON_OFF, ThinkingSupport, glm_thinking

GLM5_ID = "zai-org-glm-5"

KNOWN_CONTEXT_LENGTHS: dict[str, int] = {
    GLM5_ID: 200_000,
    "zai-org/GLM-5": 200_000,
    "zai-org/GLM-5-FP8": 200_000,
    "glm-5": 200_000,
}
"""Context lengths to assume when a server does not say (self-hosted GLM-5 ids included).

An assumption, not a fact about the server: any server may serve a model under one of these
ids with a smaller window (llama.cpp's default is 4,096). A card that uses one says so
(``context_source == "assumed"``), and so does everything that shows it."""

ContextSource = Literal["model", "description", "config", "assumed"]
"""Where a card's context length came from (:attr:`ModelCard.context_source`):

- ``model``: a field of the model object the server sent (see :data:`CONTEXT_FIELDS`);
- ``description``: the metric table in the model's description;
- ``config``: the provider profile's ``context_length`` setting (it wins over the others);
- ``assumed``: glmtui's built-in knowledge (:data:`KNOWN_CONTEXT_LENGTHS`, the built-in card).
"""

CONTEXT_FIELDS: tuple[tuple[str, ...], ...] = (
    ("context_length",),  # Oxen, OpenRouter, Together, Fireworks
    ("context_window",),  # Groq
    ("max_context_length",),  # Mistral, LM Studio
    ("max_model_len",),  # vLLM, SGLang
    ("top_provider", "context_length"),  # OpenRouter
    ("metadata", "context_length"),  # DeepInfra
    ("meta", "n_ctx"),  # llama.cpp: the window the server runs with
    ("n_ctx",),
    ("meta", "n_ctx_train"),  # llama.cpp: the window the model was trained with
    ("n_ctx_train",),
)
"""Where OpenAI-compatible servers put a model's context length in its object, in the order
they are read (a nested name is a path)."""

BUILTIN_GLM5: dict[str, Any] = {
    "id": GLM5_ID,
    "object": "model",
    "created": 1770768000,
    "owned_by": "zai-org",
    "display_name": "GLM-5",
    "summary": (
        "Z.ai's flagship open-weight model: a 744B-parameter Mixture-of-Experts with 40B active "
        "parameters, built for reasoning, coding and long-horizon agentic work."
    ),
    "description": (
        "GLM-5 is Z.ai's open-weight flagship for complex reasoning, coding and agentic tasks. "
        "It thinks before it answers (its reasoning streams separately from the reply), "
        "handles a 200,000-token context and works across many languages. Oxen.ai serves it "
        "in NVFP4 precision.\n\n"
        "| Metric | Value |\n"
        "|---|---|\n"
        "| Parameter Count | 744 Billion |\n"
        "| Mixture of Experts | Yes |\n"
        "| Active Parameter Count | 40 Billion |\n"
        "| Context Length | 200,000 |\n"
        "| Multilingual | Yes |\n"
        "| Precision | NVFP4 |\n"
    ),
    "model_type": "text_generation",
    "endpoint": "/chat/completions",
    "capabilities": {"input": ["text"], "output": ["text"]},
    "pricing": {"method": "per_token"},
    "developer": {"name": "Z.ai"},
    "released_at": "2026-02-11T00:00:00Z",
    "request_schema": {},
    "context_length": 200_000,
    "max_output_tokens": None,
}
"""The card shipped with glmtui, shown when neither the server nor the cache has one.

It carries no prices on purpose: a price that was right when glmtui was released may be wrong
today, and "unknown" is better than a wrong number next to a running cost."""

CACHED_PRICE_FIELDS: tuple[str, ...] = (
    "cached_input_cost_per_token",  # Oxen.ai's *_cost_per_token naming, should it publish one
    "input_cache_read",  # OpenRouter (a string, USD per token)
    "cache_read_input_token_cost",  # LiteLLM's model map
)
"""Where a model object's ``pricing`` may give the price of a cached prompt token, in the
order read. Oxen.ai documents none (its pricing object has ``method``,
``input_cost_per_token``, ``output_cost_per_token``, ``cost_per_second``, ``cost_per_image``
…), so its cached tokens are priced at the input rate and the cost is shown as an upper bound.
"""

CHAT_MODEL_TYPES = frozenset({"text_generation", "chat", "chat_completion", "llm", "text"})
"""``model_type`` values of models that answer ``/chat/completions``."""

# --- the description's metric table ------------------------------------------------------------

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_NUMBER = re.compile(
    r"(?<![\d.,])(\d[\d,_]*(?:\.\d+)?)(?![\d.])\s*"
    r"(?:(thousand|million|billion|trillion|[kmbt])(?![a-z]))?",
    re.IGNORECASE,
)
_HEADER_NAMES = ("metric", "property", "parameter", "name", "key", "spec", "specification")


def _cells(line: str) -> list[str] | None:
    """The cells of a Markdown table row, or None when the line is not one."""
    stripped = line.strip()
    if not stripped.startswith("|") or stripped.count("|") < 2:
        return None
    inner = stripped[1:-1] if stripped.endswith("|") else stripped[1:]
    return [cell.strip().strip("*_` ").strip() for cell in inner.split("|")]


def _tables(description: str) -> list[tuple[list[str] | None, list[list[str]]]]:
    """Each Markdown table as (header or None, data rows)."""
    tables: list[tuple[list[str] | None, list[list[str]]]] = []
    lines = description.splitlines()
    index = 0
    while index < len(lines):
        if _cells(lines[index]) is None:
            index += 1
            continue
        block: list[str] = []
        while index < len(lines) and _cells(lines[index]) is not None:
            block.append(lines[index])
            index += 1
        header: list[str] | None = None
        rows = block
        if len(block) >= 2 and _SEPARATOR.match(block[1]):
            header, rows = _cells(block[0]), block[2:]
        cells = [c for c in (_cells(line) for line in rows if not _SEPARATOR.match(line)) if c]
        tables.append((header, cells))
    return tables


def description_facts(description: str) -> tuple[tuple[str, str], ...]:
    """Rows of the metric table(s) in a Markdown description, as (name, value), in order.

    Understands the usual two-column "| Metric | Value |" table (header rows skipped whatever
    they are called) and the transposed form: a header of metric names over a single row of
    values ("| Parameters | Context | Precision |"). Bold and code marks are dropped.
    """
    facts: list[tuple[str, str]] = []
    for header, rows in _tables(description):
        if header is not None and len(header) > 2 and len(rows) == 1:
            facts.extend((k, v) for k, v in zip(header, rows[0], strict=False) if k and v)
            continue
        for row in rows:
            if len(row) < 2 or not row[0]:
                continue
            key, value = row[0], row[1]
            if header is None and key.lower() in _HEADER_NAMES and value.lower() in ("value", ""):
                continue
            facts.append((key, value))
    return tuple(facts)


def _scaled(text: str) -> tuple[float, str] | None:
    match = _NUMBER.search(text)
    if not match:
        return None
    try:
        value = float(match.group(1).replace(",", "").replace("_", ""))
    except ValueError:
        return None
    return value, (match.group(2) or "").lower()


_SCALE = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "million": 1e6,
    "b": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "trillion": 1e12,
}


def parse_token_count(text: str) -> int | None:
    """``"200,000"``, ``"200K"``, ``"128k tokens"``, ``"1M"``, ``"1 million"`` → tokens."""
    found = _scaled(text)
    if found is None:
        return None
    value, unit = found
    if unit in ("b", "billion", "t", "trillion"):
        return None  # a parameter count, not a token count
    value *= _SCALE.get(unit, 1.0)
    return int(value) if value >= 1 else None


def parse_parameter_count(text: str) -> int | None:
    """``"744 Billion"``, ``"744B"``, ``"1.2T"``, ``"7,000,000,000"`` → a number of parameters.

    A bare small number ("744") is ambiguous (billions? millions?) and gives None; the text is
    still shown as written.
    """
    found = _scaled(text)
    if found is None:
        return None
    value, unit = found
    if unit:
        value *= _SCALE.get(unit, 1.0)
    elif value < 1e6:
        return None
    return int(value) if value >= 1 else None


_FOOTNOTE = re.compile(
    r"(?:\s*(?:\*+|[†‡§¶]+|[\u00b9\u00b2\u00b3\u2070-\u2079]+|\[\^?\w{1,4}\]|\^\w{1,4}|\(\d{1,2}\)))+$"
)
"""Footnote marks after a table label: ``*``, ``†``, ``¹``, ``[1]``, ``[^a]``, ``^1``, ``(2)``."""


def table_label(key: str) -> str:
    """A description-table label reduced to its words, for exact matching: lower case, the
    Markdown emphasis, a trailing colon and footnote marks dropped, ``-``/``_`` as spaces.

    ``"**Precision**¹"`` → ``"precision"``; ``"Quantized*"`` → ``"quantized"``;
    ``"Mixture-of-Experts"`` → ``"mixture of experts"``.
    """
    text = key
    for _ in range(3):  # marks and emphasis may nest: "**Precision**¹", "Precision*:"
        text = _FOOTNOTE.sub("", text.strip().strip("*_`").strip().rstrip(":"))
    return " ".join(re.sub(r"[-_]+", " ", text.lower()).split())


def _labels(*patterns: str) -> re.Pattern[str]:
    """One pattern that must match a whole (normalised) label: a row counts for a fact only
    when its label *is* one of that fact's names, never when it merely contains one (Oxen's
    "Quantized* | Yes" row is not the precision, which its "Precision* | NVFP4" row gives)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_TOKENS_UNIT = r"(?: \((?:in )?tokens\))?"
_CONTEXT_LABELS = _labels(
    rf"(?:max(?:imum)? )?context(?: length| window| size| limit| tokens)?{_TOKENS_UNIT}",
    rf"(?:max(?:imum)? )?(?:sequence|input) length{_TOKENS_UNIT}",
)
_OUTPUT_LABELS = _labels(
    r"max(?:imum)?\.? (?:output|completion|generation|new)(?: tokens| length| limit)?"
    + _TOKENS_UNIT,
    rf"output (?:tokens|length|limit){_TOKENS_UNIT}",
    rf"max(?:imum)?\.? tokens{_TOKENS_UNIT}",
)
_PARAMETER_LABELS = _labels(
    r"(?:total )?(?:number of )?param(?:eter)?s?(?: count| size)?(?: \(total\))?",
    r"(?:model )?size",
)
_ACTIVE_LABELS = _labels(
    r"activ(?:e|ated)(?: param(?:eter)?s?)?(?: count)?",
    r"param(?:eter)?s?(?: count)? \(activ(?:e|ated)\)",
)
_MOE_LABELS = _labels(r"mixture of experts(?: \(moe\))?", r"moe")
_ARCHITECTURE_LABELS = _labels(r"(?:model )?architecture", r"model type")
_PRECISION_LABELS = _labels(
    r"(?:weights? |inference |serving |model |numerical )?precision",
    r"quanti[sz]ation(?: method| type| format| level)?",
    r"dtype",
    r"(?:weights? )?data type",
    r"weights? format",
    r"tensor type",
)
_MULTILINGUAL_LABELS = _labels(r"multi ?lingual", r"(?:supported )?languages?")

_SPEC_LABELS = (
    _CONTEXT_LABELS,
    _OUTPUT_LABELS,
    _PARAMETER_LABELS,
    _ACTIVE_LABELS,
    _MOE_LABELS,
    _PRECISION_LABELS,
    _MULTILINGUAL_LABELS,
)


def _fact(
    facts: tuple[tuple[str, str], ...],
    labels: re.Pattern[str],
    accept: Callable[[str], bool] | None = None,
) -> str | None:
    """The value of the first row whose label is one of ``labels`` (and whose value
    ``accept`` takes, when given)."""
    for key, value in facts:
        if value and labels.fullmatch(table_label(key)) and (accept is None or accept(value)):
            return value
    return None


def _not_yes_no(value: str) -> bool:
    """A precision is a format ("NVFP4", "BF16"), never a yes or a no."""
    return _yes_no(value) is None


# --- small coercions ---------------------------------------------------------------------------


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value) and value > 0:
        return int(value)
    if isinstance(value, str):
        return parse_token_count(value)
    return None


def _price(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) and number >= 0 else None
    return None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool))
    return ()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _yes_no(text: str | None) -> bool | None:
    if not text:
        return None
    lowered = text.strip().lower()
    if lowered.startswith(("yes", "true", "✓", "✔")):
        return True
    if lowered.startswith(("no", "false", "✗", "✘")):
        return False
    return None


def _released(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
        except (OverflowError, OSError, ValueError):
            return ""
    return ""


# --- request schema ----------------------------------------------------------------------------


def _json_object(value: Any) -> dict[str, Any]:
    """A dict, or a JSON string holding one (``json_request_schema`` is often a string)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _resolve(node: Any, root: Mapping[str, Any], depth: int = 0) -> Any:
    """``node`` with local ``$ref``s (``#/components/schemas/X``, ``#/$defs/X``) and
    ``allOf`` merged in, a few levels deep (schemas may refer to themselves)."""
    if not isinstance(node, dict) or depth > 8:
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        if isinstance(target, dict):
            merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            return _resolve(merged, root, depth + 1)
        return {k: v for k, v in node.items() if k != "$ref"}
    parts = node.get("allOf")
    if isinstance(parts, list) and parts:
        merged = {k: v for k, v in node.items() if k != "allOf"}
        properties: dict[str, Any] = dict(_mapping(merged.get("properties")))
        for part in parts:
            resolved = _resolve(part, root, depth + 1)
            if isinstance(resolved, dict):
                properties.update(_mapping(resolved.get("properties")))
                merged = {**resolved, **merged}
        if properties:
            merged["properties"] = properties
        return merged
    return node


def _candidates(doc: dict[str, Any]) -> list[Any]:
    """Where a request schema may sit inside the published document, most likely first."""
    found: list[Any] = [doc, doc.get("schema"), doc.get("input"), doc.get("body")]
    bodies = [doc.get("requestBody")]
    for path_item in _mapping(doc.get("paths")).values():
        for operation in _mapping(path_item).values():
            bodies.append(_mapping(operation).get("requestBody"))
    for body in bodies:
        for media in _mapping(_mapping(body).get("content")).values():
            found.append(_mapping(media).get("schema"))
    return found


def normalise_schema(value: Any) -> dict[str, Any]:
    """A published request schema as one JSON-schema object whose ``properties`` are resolved.

    Accepts a dict or a JSON string; a plain JSON schema, an OpenAPI document (the JSON body
    of its request), or a bare ``{name: {type …}}`` map. Anything else comes back as given
    (so nothing is lost), and an empty or unreadable schema as ``{}``.
    """
    doc = _json_object(value)
    if not doc:
        return {}
    for candidate in _candidates(doc):
        schema = _resolve(candidate, doc)
        if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
            properties = {
                str(name): _resolve(spec, doc) for name, spec in schema["properties"].items()
            }
            return {**schema, "properties": properties}
    if all(isinstance(spec, dict) and ("type" in spec or "enum" in spec) for spec in doc.values()):
        return {"type": "object", "properties": {str(k): _resolve(v, doc) for k, v in doc.items()}}
    return doc


def request_schema(data: Mapping[str, Any]) -> dict[str, Any]:
    """The model's request schema from ``request_schema`` or ``json_request_schema``.

    The first that holds a usable schema wins; Oxen often sends an empty one for chat models.
    """
    fallback: dict[str, Any] = {}
    for key in ("request_schema", "json_request_schema"):
        schema = normalise_schema(data.get(key))
        if schema.get("properties"):
            return schema
        fallback = fallback or schema
    return fallback


@dataclass(frozen=True, slots=True)
class SchemaRow:
    """One request parameter, ready for a table."""

    name: str
    type: str
    """``number``, ``integer or null``, ``array of string``, ``enum`` …"""
    range: str
    """``0–2``, ``≥ 1``, ``one of: auto, none`` … or ""."""
    default: str
    """The default as JSON (strings unquoted), or ""."""
    description: str
    required: bool = False


def _type_text(spec: Mapping[str, Any]) -> str:
    kind = spec.get("type")
    names: list[str] = []
    if isinstance(kind, str):
        names = [kind]
    elif isinstance(kind, list):
        names = [str(k) for k in kind if isinstance(k, str)]
    else:
        for key in ("anyOf", "oneOf"):
            options = spec.get(key)
            if isinstance(options, list):
                names = [_type_text(o) for o in options if isinstance(o, dict)]
                names = [n for n in names if n]
                break
    if not names and "enum" in spec:
        names = ["enum"]
    if not names and isinstance(spec.get("properties"), dict):
        names = ["object"]
    optional = "null" in names and len(names) > 1
    names = [n for n in names if n != "null"] if optional else names
    out: list[str] = []
    for name in names:
        if name == "array":
            items = spec.get("items")
            inner = _type_text(items) if isinstance(items, dict) else ""
            name = f"array of {inner}" if inner else "array"
        elif name == "string" and isinstance(spec.get("format"), str):
            name = f"string ({spec['format']})"
        if name not in out:
            out.append(name)
    text = " or ".join(out)
    return f"{text} or null" if optional and text else text


def _number_text(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() and abs(value) >= 1e4 else f"{value:g}"


def _bounds(spec: Mapping[str, Any]) -> tuple[float | None, float | None, bool, bool]:
    """(minimum, maximum, exclusive minimum, exclusive maximum) from draft 4 or later forms."""

    def number(value: Any) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return value if math.isfinite(value) else None

    low, high = number(spec.get("minimum")), number(spec.get("maximum"))
    low_x = high_x = False
    ex_low, ex_high = spec.get("exclusiveMinimum"), spec.get("exclusiveMaximum")
    if number(ex_low) is not None:
        low, low_x = number(ex_low), True
    elif ex_low is True:
        low_x = low is not None
    if number(ex_high) is not None:
        high, high_x = number(ex_high), True
    elif ex_high is True:
        high_x = high is not None
    return low, high, low_x, high_x


def _range_text(spec: Mapping[str, Any]) -> str:
    enum = spec.get("enum")
    if isinstance(enum, list) and enum:
        values = ", ".join(v if isinstance(v, str) else json.dumps(v) for v in enum)
        return f"one of: {values}"
    low, high, low_x, high_x = _bounds(spec)
    if low is not None and high is not None:
        if not low_x and not high_x:
            return f"{_number_text(low)}–{_number_text(high)}"
        return f"{'>' if low_x else '≥'} {_number_text(low)}, {'<' if high_x else '≤'} " + (
            _number_text(high)
        )
    if low is not None:
        return f"{'>' if low_x else '≥'} {_number_text(low)}"
    if high is not None:
        return f"{'<' if high_x else '≤'} {_number_text(high)}"
    for key, label in (("maxLength", "characters"), ("maxItems", "items")):
        limit = spec.get(key)
        if isinstance(limit, int) and not isinstance(limit, bool):
            return f"≤ {limit} {label}"
    return ""


def schema_rows(schema: Mapping[str, Any]) -> list[SchemaRow]:
    """The parameters of a (normalised) request schema, in the order it lists them."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    required = {str(r) for r in schema.get("required") or [] if isinstance(r, str)}
    rows: list[SchemaRow] = []
    for name, raw in properties.items():
        spec = raw if isinstance(raw, dict) else {}
        default = ""
        if "default" in spec:
            value = spec["default"]
            default = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        description = _text(spec.get("description")) or _text(spec.get("title"))
        rows.append(
            SchemaRow(
                name=str(name),
                type=_type_text(spec),
                range=_range_text(spec),
                default=default,
                description=" ".join(description.split()),
                required=name in required,
            )
        )
    return rows


def schema_ranges(card: ModelCard) -> dict[str, tuple[float | None, float | None]]:
    """Numeric bounds the model's request schema states, by parameter name.

    Only parameters with a ``minimum`` or ``maximum`` (exclusive ones included, as the bound
    itself) are listed; an empty schema gives ``{}``, and the caller keeps its own defaults.
    """
    ranges: dict[str, tuple[float | None, float | None]] = {}
    properties = card.request_schema.get("properties")
    if not isinstance(properties, dict):
        return ranges
    for name, spec in properties.items():
        if not isinstance(spec, dict):
            continue
        low, high, _, _ = _bounds(spec)
        if low is not None or high is not None:
            ranges[str(name)] = (low, high)
    return ranges


# --- model specs (parameters, MoE, precision) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelSpecs:
    """The model's size and format, from structured fields or the description's table.

    The ``*_text`` fields keep the provider's own words for display when they cannot be
    parsed into a number.
    """

    parameters: int | None = None
    parameters_text: str = ""
    active_parameters: int | None = None
    active_parameters_text: str = ""
    mixture_of_experts: bool | None = None
    precision: str = ""
    multilingual: bool | None = None


def _count(value: Any) -> tuple[int | None, str]:
    if isinstance(value, bool) or value is None:
        return None, ""
    if isinstance(value, int | float):
        return (int(value), "") if math.isfinite(value) and value > 0 else (None, "")
    if isinstance(value, str):
        return parse_parameter_count(value), value.strip()
    return None, ""


def model_specs(card: ModelCard) -> ModelSpecs:
    """Parameter count, active parameters, Mixture-of-Experts, precision and languages."""
    raw, facts = card.raw, card.facts
    parameters, parameters_text = _count(
        raw.get("parameter_count") or raw.get("num_parameters") or raw.get("parameters")
    )
    if parameters is None and not parameters_text:
        parameters_text = _fact(facts, _PARAMETER_LABELS) or ""
        parameters = parse_parameter_count(parameters_text) if parameters_text else None
    active, active_text = _count(raw.get("active_parameter_count") or raw.get("active_parameters"))
    if active is None and not active_text:
        active_text = _fact(facts, _ACTIVE_LABELS) or ""
        active = parse_parameter_count(active_text) if active_text else None
    moe_field = raw.get("mixture_of_experts", raw.get("moe"))
    moe = moe_field if isinstance(moe_field, bool) else _yes_no(_fact(facts, _MOE_LABELS))
    if moe is None:
        architecture = _fact(facts, _ARCHITECTURE_LABELS) or ""
        said_moe = re.search(r"\bmoe\b|mixture", architecture, re.IGNORECASE)
        if said_moe or (parameters and active and active < parameters):
            moe = True
        elif parameters and active == parameters:
            moe = False  # every parameter is active: a dense model
    precision = _text(raw.get("precision")) or _text(raw.get("quantization"))
    precision = precision or _fact(facts, _PRECISION_LABELS, _not_yes_no) or ""
    return ModelSpecs(
        parameters=parameters,
        parameters_text=parameters_text,
        active_parameters=active,
        active_parameters_text=active_text,
        mixture_of_experts=moe,
        precision=precision,
        multilingual=_yes_no(_fact(facts, _MULTILINGUAL_LABELS)),
    )


def is_spec_fact(name: str) -> bool:
    """Whether a description-table row is one :func:`model_specs` or :func:`parse_model`
    already reads (context, output limit, parameters, MoE, precision, languages), so a display
    that shows those facts can list only the other rows."""
    label = table_label(name)
    return any(labels.fullmatch(label) for labels in _SPEC_LABELS)


def is_chat_model(card: ModelCard) -> bool:
    """Whether the model answers ``/chat/completions`` (``endpoint`` first, then
    ``model_type``). A bare object that says neither (vLLM's list) counts as chat."""
    endpoint = _text(card.raw.get("endpoint")).lower()
    if endpoint:
        return "chat" in endpoint
    kind = card.model_type.lower()
    if kind:
        return kind in CHAT_MODEL_TYPES or "chat" in kind
    return True


# --- what the model takes: thinking, JSON mode --------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelTraits:
    """What a model takes beyond sampling parameters, as far as anyone says."""

    thinking: ThinkingSupport = ON_OFF
    """Its thinking control: on/off, effort levels, always on (see
    :mod:`glmtui.domain.thinking`)."""
    json_mode: bool | None = None
    """Whether it takes ``response_format: {"type": "json_object"}``; None when its object
    does not say (the provider profile's ``json_mode`` decides)."""
    json_reason: str = ""
    """Why JSON mode is refused, when the model object says so."""


NO_EFFORT = frozenset({"none", "off", "disabled"})
"""``reasoning_effort`` values that turn thinking off rather than set a level."""


def model_traits(card: ModelCard | None, model_id: str) -> ModelTraits:
    """What ``model_id`` takes: its thinking control and JSON mode.

    Read from the model's request schema when it publishes them (a ``reasoning_effort``
    enum, a ``thinking.type`` enum, a ``response_format`` enum) and from OpenRouter's
    ``supported_parameters``; else glmtui's table of the GLM family
    (:data:`glmtui.domain.thinking.GLM_THINKING`) by id; else plain on/off.
    """
    base = glm_thinking(model_id) or ON_OFF
    if card is None or card.id != model_id:
        return ModelTraits(thinking=base)
    properties = _mapping(card.request_schema.get("properties"))
    thinking = _published_thinking(properties, base)
    json_mode, reason = _published_json_mode(properties, card.raw.get("supported_parameters"))
    return ModelTraits(thinking=thinking, json_mode=json_mode, json_reason=reason)


def _enum(spec: Any) -> list[str] | None:
    """The string values of a schema's ``enum`` (looking into ``anyOf``/``oneOf``), or None."""
    spec = _mapping(spec)
    values = spec.get("enum")
    if isinstance(values, list):
        return [v for v in values if isinstance(v, str)]
    for key in ("anyOf", "oneOf"):
        options = spec.get(key)
        if isinstance(options, list):
            found = [v for option in options for v in (_enum(option) or [])]
            if found:
                return found
    return None


def _published_thinking(properties: Mapping[str, Any], base: ThinkingSupport) -> ThinkingSupport:
    """``base`` corrected by what the request schema says: the ``reasoning_effort`` levels
    (and whether ``none`` is among them), a ``thinking.type`` that takes only ``enabled``."""
    levels, can_disable, default = base.levels, base.can_disable, base.default_level
    said = False
    effort = _enum(properties.get("reasoning_effort"))
    if effort:
        said = True
        levels = tuple(dict.fromkeys(v for v in effort if v.lower() not in NO_EFFORT))
        if any(v.lower() in NO_EFFORT for v in effort):
            can_disable = True
        value = _mapping(properties.get("reasoning_effort")).get("default")
        default = value if isinstance(value, str) and value in levels else None
    kinds = _enum(_mapping(_mapping(properties.get("thinking")).get("properties")).get("type"))
    if kinds:
        said = True
        can_disable = "disabled" in kinds
    if not said:
        return base
    return ThinkingSupport(levels, can_disable, default, source="model")


def _published_json_mode(properties: Mapping[str, Any], supported: Any) -> tuple[bool | None, str]:
    """Whether the model takes JSON mode, by its request schema's ``response_format`` or
    OpenRouter's ``supported_parameters``; (None, "") when neither says."""
    spec = properties.get("response_format")
    if isinstance(spec, dict):
        kinds = _enum(spec) or _enum(_mapping(spec.get("properties")).get("type"))
        if kinds is None:
            return True, ""
        if "json_object" in kinds:
            return True, ""
        return False, "the model's request schema does not list json_object"
    if isinstance(supported, list) and all(isinstance(name, str) for name in supported):
        if "response_format" in supported or "structured_outputs" in supported:
            return True, ""
        return False, "the model does not list response_format"
    return None, ""


# --- the card ------------------------------------------------------------------------------------


def parse_model(data: dict[str, Any], *, builtin: bool = False) -> ModelCard:
    """A :class:`ModelCard` from one model object; any field may be missing or null."""
    model_id = str(data.get("id") or "")
    description = _text(data.get("description"))
    facts = description_facts(description)
    top_provider = _mapping(data.get("top_provider"))

    context, context_source = _context_length(data, facts)
    if builtin and context is not None:
        context_source = "assumed"  # the shipped card is glmtui's knowledge, not a server's

    max_output = (
        _positive_int(data.get("max_output_tokens"))
        or _positive_int(data.get("max_completion_tokens"))
        or _positive_int(top_provider.get("max_completion_tokens"))
    )
    if max_output is None:
        text = _fact(facts, _OUTPUT_LABELS)
        max_output = parse_token_count(text) if text else None

    pricing = _mapping(data.get("pricing"))
    developer = data.get("developer")
    developer_name = _text(_mapping(developer).get("name")) or _text(developer)
    capabilities = _mapping(data.get("capabilities"))
    architecture = _mapping(data.get("architecture"))
    inputs = _strings(capabilities.get("input")) or _strings(architecture.get("input_modalities"))
    outputs = _strings(capabilities.get("output")) or _strings(
        architecture.get("output_modalities")
    )
    # Oxen: USD per token under *_cost_per_token; OpenRouter: the same unit as strings.
    input_price = _price(pricing.get("input_cost_per_token"))
    if input_price is None:
        input_price = _price(pricing.get("prompt"))
    output_price = _price(pricing.get("output_cost_per_token"))
    if output_price is None:
        output_price = _price(pricing.get("completion"))
    cached_price = next(
        (p for p in (_price(pricing.get(k)) for k in CACHED_PRICE_FIELDS) if p is not None), None
    )
    method = _text(pricing.get("method")).strip().lower() or "token"
    return ModelCard(
        id=model_id,
        display_name=_text(data.get("display_name")) or _text(data.get("name")),
        developer=developer_name,
        owned_by=_text(data.get("owned_by")),
        summary=_text(data.get("summary")),
        description=description,
        model_type=_text(data.get("model_type")),
        released_at=_released(data.get("released_at")),
        input_modalities=inputs,
        output_modalities=outputs,
        pricing=Pricing(
            input_per_token=input_price,
            output_per_token=output_price,
            cached_input_per_token=cached_price,
            method=method,
            per_second=_price(pricing.get("cost_per_second")),
        ),
        context_length=context,
        context_source=context_source,
        max_output_tokens=max_output,
        facts=facts,
        request_schema=request_schema(data),
        raw=data,
        builtin=builtin,
    )


def _context_length(
    data: Mapping[str, Any], facts: tuple[tuple[str, str], ...]
) -> tuple[int | None, ContextSource | None]:
    """The context length and where it came from: a field of the object (the first of
    :data:`CONTEXT_FIELDS`), else the description's table, else an assumption for a known id,
    else unknown."""
    for path in CONTEXT_FIELDS:
        value: Any = data
        for name in path:
            value = value.get(name) if isinstance(value, Mapping) else None
        found = _positive_int(value)
        if found is not None:
            return found, "model"
    text = _fact(facts, _CONTEXT_LABELS)
    found = parse_token_count(text) if text else None
    if found is not None:
        return found, "description"
    assumed = KNOWN_CONTEXT_LENGTHS.get(str(data.get("id") or ""))
    return (assumed, "assumed") if assumed is not None else (None, None)


def assumed_context_length(model_id: str) -> int | None:
    """The context length glmtui assumes for ``model_id`` when nothing else says (an
    assumption: show it as one), or None."""
    return KNOWN_CONTEXT_LENGTHS.get(model_id)


def builtin_card(model_id: str = GLM5_ID) -> ModelCard | None:
    """The shipped card for ``model_id``, when glmtui ships one."""
    if model_id == GLM5_ID:
        return parse_model(BUILTIN_GLM5, builtin=True)
    return None


def parse_model_list(data: Any) -> list[ModelCard]:
    """Cards from a ``{"data": [...]}`` list response (or a bare list)."""
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return []
    return [parse_model(item) for item in items if isinstance(item, dict) and item.get("id")]
