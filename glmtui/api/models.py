"""Parse model objects from ``GET {base}/models`` into :class:`~glmtui.domain.ModelCard`.

Providers fill the model object unevenly: Oxen puts the context length in a structured field
*and* in a Markdown table inside ``description``; other servers send only ``id``. Parsing is
tolerant (every field optional, nulls allowed) and falls back to known defaults, so the rest of
the app can rely on a card.
"""

from __future__ import annotations

import re
from typing import Any

from glmtui.domain import ModelCard, Pricing

GLM5_ID = "zai-org-glm-5"

KNOWN_CONTEXT_LENGTHS: dict[str, int] = {
    GLM5_ID: 200_000,
    "zai-org/GLM-5": 200_000,
    "zai-org/GLM-5-FP8": 200_000,
    "glm-5": 200_000,
}
"""Context lengths to assume when a server does not say (self-hosted GLM-5 ids included)."""

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
        "handles a 200,000-token context and works across many languages.\n\n"
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
"""The card shipped with glmtui, shown when neither the server nor the cache has one."""

_TABLE_ROW = re.compile(r"^\s*\|\s*([^|]+?)\s*\|\s*([^|]*?)\s*\|")
_SEPARATOR = re.compile(r"^[\s|:-]+$")
_NUMBER = re.compile(r"(\d[\d,_.]*)\s*([kKmM])?\b")


def description_facts(description: str) -> tuple[tuple[str, str], ...]:
    """Rows of the two-column metric table(s) in a Markdown description, header rows skipped."""
    rows: list[tuple[str, str]] = []
    for line in description.splitlines():
        if _SEPARATOR.match(line):
            continue
        match = _TABLE_ROW.match(line)
        if not match:
            continue
        key, value = match.group(1).strip(), match.group(2).strip()
        if key.lower() in ("metric", "property", "parameter", "name", "key") and value.lower() in (
            "value",
            "details",
            "",
        ):
            continue
        rows.append((key.strip("* "), value.strip("* ")))
    return tuple(rows)


def parse_token_count(text: str) -> int | None:
    """``"200,000"``, ``"200K"``, ``"128k tokens"``, ``"1M"`` → an integer number of tokens."""
    match = _NUMBER.search(text)
    if not match:
        return None
    number = match.group(1).replace(",", "").replace("_", "")
    try:
        value = float(number)
    except ValueError:
        return None
    suffix = (match.group(2) or "").lower()
    if suffix == "k":
        value *= 1_000
    elif suffix == "m":
        value *= 1_000_000
    return int(value) if value > 0 else None


def _fact(facts: tuple[tuple[str, str], ...], *patterns: str) -> str | None:
    for key, value in facts:
        lowered = key.lower()
        if any(re.search(p, lowered) for p in patterns):
            return value
    return None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value > 0:
        return int(value)
    if isinstance(value, str):
        return parse_token_count(value)
    return None


def _price(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, str | int))
    return ()


def parse_model(data: dict[str, Any], *, builtin: bool = False) -> ModelCard:
    """A :class:`ModelCard` from one model object; any field may be missing or null."""
    model_id = str(data.get("id") or "")
    description = data.get("description") if isinstance(data.get("description"), str) else ""
    assert isinstance(description, str)
    facts = description_facts(description)

    context = _positive_int(data.get("context_length")) or _positive_int(data.get("context_window"))
    if context is None:
        text = _fact(facts, r"context")
        context = parse_token_count(text) if text else None
    if context is None:
        context = KNOWN_CONTEXT_LENGTHS.get(model_id)

    max_output = _positive_int(data.get("max_output_tokens")) or _positive_int(
        data.get("max_completion_tokens")
    )
    if max_output is None:
        text = _fact(facts, r"max(imum)?\s*output", r"output\s*(tokens|length)")
        max_output = parse_token_count(text) if text else None

    pricing_obj = data.get("pricing") if isinstance(data.get("pricing"), dict) else {}
    assert isinstance(pricing_obj, dict)
    developer = data.get("developer")
    developer_name = (developer.get("name") if isinstance(developer, dict) else developer) or ""
    capabilities = data.get("capabilities") if isinstance(data.get("capabilities"), dict) else {}
    assert isinstance(capabilities, dict)
    schema = data.get("request_schema") or data.get("json_request_schema") or {}
    return ModelCard(
        id=model_id,
        display_name=str(data.get("display_name") or data.get("name") or ""),
        developer=str(developer_name),
        owned_by=str(data.get("owned_by") or ""),
        summary=str(data.get("summary") or ""),
        description=description,
        model_type=str(data.get("model_type") or ""),
        released_at=str(data.get("released_at") or ""),
        input_modalities=_strings(capabilities.get("input")),
        output_modalities=_strings(capabilities.get("output")),
        pricing=Pricing(
            input_per_token=_price(pricing_obj.get("input_cost_per_token")),
            output_per_token=_price(pricing_obj.get("output_cost_per_token")),
        ),
        context_length=context,
        max_output_tokens=max_output,
        facts=facts,
        request_schema=schema if isinstance(schema, dict) else {},
        raw=data,
        builtin=builtin,
    )


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
