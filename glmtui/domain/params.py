"""Parameter rules shared by the sidebar and ``glmtui ask``: ranges, parsing, validation.

Ranges come from the model's request schema when it has one, else OpenAI's documented ranges
(temperature 0–2, top_p 0–1, penalties −2–2, max_tokens ≥ 1 and at most the model's output
limit). A value outside them is never sent: the caller keeps the last good value and shows the
reason. No I/O, no UI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from glmtui.domain import ModelCard, Parameters


@dataclass(frozen=True, slots=True)
class Range:
    """Allowed values of one numeric parameter."""

    minimum: float | None
    maximum: float | None
    integer: bool = False
    default: float | None = None
    """The model's default, when its request schema states one."""

    def describe(self) -> str:
        """``0–2``, ``≥ 1``, ``1–131,072``, ``any whole number`` …"""

        def number(value: float) -> str:
            return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"

        if self.minimum is not None and self.maximum is not None:
            return f"{number(self.minimum)}–{number(self.maximum)}"
        if self.minimum is not None:
            return f"≥ {number(self.minimum)}"
        if self.maximum is not None:
            return f"≤ {number(self.maximum)}"
        return "any whole number" if self.integer else "any number"


NUMERIC = ("temperature", "top_p", "max_tokens", "frequency_penalty", "presence_penalty", "seed")
"""The numeric fields of :class:`Parameters`, in sidebar order."""

OPENAI_RANGES: dict[str, Range] = {
    "temperature": Range(0, 2),
    "top_p": Range(0, 1),
    "max_tokens": Range(1, None, integer=True),
    "frequency_penalty": Range(-2, 2),
    "presence_penalty": Range(-2, 2),
    "seed": Range(None, None, integer=True),
}
"""OpenAI's documented ranges: the fallback when a model publishes no request schema."""


class ParameterError(ValueError):
    """A value is not allowed; ``str()`` is the reason, for the field or the command line."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


def ranges_for(card: ModelCard | None) -> dict[str, Range]:
    """The allowed ranges for a model: its request schema first, then OpenAI's, with
    ``max_tokens`` capped by the model's output limit (or its context length, when that is
    known rather than assumed)."""
    ranges = dict(OPENAI_RANGES)
    if card is None:
        return ranges
    schema = card.request_schema or {}
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    assert isinstance(properties, dict)
    for name in NUMERIC:
        spec = properties.get(name)
        if not isinstance(spec, dict):
            continue
        base = ranges[name]
        minimum = _number(spec.get("minimum"), base.minimum)
        maximum = _number(spec.get("maximum"), base.maximum)
        integer = spec.get("type") == "integer" or base.integer
        ranges[name] = Range(minimum, maximum, integer, _number(spec.get("default"), None))
    # An assumed context length (glmtui's guess, not the server's word) caps nothing: a
    # llama.cpp server of 4,096 tokens was once credited with 200,000.
    context = None if card.context_assumed else card.context_length
    limit = card.max_output_tokens or context
    if limit:
        current = ranges["max_tokens"]
        top = min(limit, current.maximum) if current.maximum is not None else limit
        ranges["max_tokens"] = replace(current, maximum=top)
    return ranges


def _number(value: Any, fallback: float | None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return fallback
    return float(value) if math.isfinite(value) else fallback


def check(name: str, value: float | int, ranges: dict[str, Range]) -> float | int:
    """``value`` if allowed for ``name``, else :class:`ParameterError` with the reason."""
    allowed = ranges.get(name, OPENAI_RANGES.get(name, Range(None, None)))
    if isinstance(value, bool) or not math.isfinite(float(value)):
        raise ParameterError(name, f"must be a number ({allowed.describe()})")
    if allowed.integer:
        if not float(value).is_integer():
            raise ParameterError(name, f"must be a whole number ({allowed.describe()})")
        value = int(value)
    if allowed.minimum is not None and value < allowed.minimum:
        raise ParameterError(name, f"must be {allowed.describe()} (got {value:g})")
    if allowed.maximum is not None and value > allowed.maximum:
        raise ParameterError(name, f"must be {allowed.describe()} (got {value:g})")
    return value


def parse(name: str, text: str, ranges: dict[str, Range]) -> float | int | None:
    """A field's text as a value: blank means "default" (None, not sent).

    Raises:
        ParameterError: not a number, or out of range.
    """
    text = text.strip().replace("_", "")
    if not text or text.lower() == "default":
        return None
    try:
        value: float | int = (
            int(text) if ranges.get(name, Range(None, None)).integer else float(text)
        )
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise ParameterError(name, f"“{text}” is not a number") from None
    return check(name, value, ranges)


def parse_stop(text: str) -> tuple[str, ...] | None:
    """Stop sequences, one per line (blank lines ignored); None when there are none."""
    sequences = tuple(line for line in text.split("\n") if line.strip())
    if len(sequences) > 4:
        raise ParameterError("stop", "at most 4 stop sequences")
    return sequences or None


def validate(parameters: Parameters, ranges: dict[str, Range]) -> list[ParameterError]:
    """Every problem with a set of parameters (empty when all are allowed)."""
    problems: list[ParameterError] = []
    for name in NUMERIC:
        value = getattr(parameters, name)
        if value is None:
            continue
        try:
            check(name, value, ranges)
        except ParameterError as error:
            problems.append(error)
    if parameters.stop is not None and len(parameters.stop) > 4:
        problems.append(ParameterError("stop", "at most 4 stop sequences"))
    return problems


def describe_set(parameters: Parameters) -> str:
    """A compact summary of the set parameters (``temperature 0.7 · max_tokens 512``)."""
    parts = []
    for f in fields(parameters):
        value = getattr(parameters, f.name)
        if value is None:
            continue
        if isinstance(value, tuple):
            value = ", ".join(repr(v) for v in value)
        parts.append(f"{f.name} {value}")
    return " · ".join(parts) or "all defaults"
