"""Parameter rules shared by the sidebar and ``glmtui ask``: ranges, parsing, validation.

Ranges come from the model's request schema when it has one, else OpenAI's documented ranges
(temperature 0–2, top_p 0–1, penalties −2–2, max_tokens ≥ 1 and at most the model's output
limit), narrowed by the provider's limits (:class:`ParameterLimits`: z.ai takes temperature
0–1, one stop sequence and no penalties). A value outside them is never sent: the sidebar keeps
the last good value and shows the reason, ``ask`` refuses, and the request builder leaves out
what the provider does not take. No I/O, no UI.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
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
    limited_by: str = ""
    """The provider whose limits narrowed this range (named in the reason a value is refused)."""

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


MAX_STOP = 4
"""Stop sequences OpenAI's API takes (a provider may take fewer: ``ParameterLimits.max_stop``)."""

LIMITABLE = (*NUMERIC, "stop")
"""Parameters a provider's limits may name as unsupported."""


class ParameterError(ValueError):
    """A value is not allowed; ``str()`` is the reason, for the field or the command line."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


@dataclass(frozen=True, slots=True)
class ParameterLimits:
    """What a provider takes beyond what the model publishes: narrower numeric ranges, fewer
    stop sequences, parameters it does not take at all.

    Built in for the profiles whose documentation states limits (z.ai) and set with a
    profile's ``limits`` table in the config (see :func:`parse_limits`).
    """

    ranges: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """``name → (minimum, maximum)`` for numeric parameters (None: no bound on that side)."""
    max_stop: int | None = None
    """The most stop sequences the provider takes (None: OpenAI's :data:`MAX_STOP`)."""
    unsupported: frozenset[str] = frozenset()
    """Parameters the provider does not take: never sent, disabled in the sidebar."""
    provider: str = ""
    """The profile these are the limits of, for the reasons given."""

    @property
    def stop_limit(self) -> int:
        """The most stop sequences that may be sent."""
        return MAX_STOP if self.max_stop is None else min(self.max_stop, MAX_STOP)

    def describe(self) -> str:
        """The limits in words, for ``glmtui config show``: ``temperature 0–1, top_p 0.01–1, at
        most 1 stop sequence; not taken: frequency_penalty, seed`` or ``none``."""
        parts = []
        for name, (low, high) in self.ranges.items():
            parts.append(f"{name} {Range(low, high).describe()}")
        if self.max_stop is not None and self.max_stop < MAX_STOP:
            parts.append(
                f"at most {self.max_stop} stop sequence{'s' if self.max_stop != 1 else ''}"
            )
        text = ", ".join(parts)
        if self.unsupported:
            taken = "not taken: " + ", ".join(n for n in LIMITABLE if n in self.unsupported)
            text = f"{text}; {taken}" if text else taken
        return text or "none"

    def why_unsupported(self, name: str) -> str | None:
        """Why ``name`` cannot be sent (None: it can)."""
        if name in self.unsupported:
            return f"{self.provider or 'this provider'} does not take {name}"
        return None

    def admitted(self, parameters: Parameters) -> Parameters:
        """``parameters`` without what the provider would refuse: unsupported parameters,
        numbers outside its ranges, and stop sequences beyond its count (all of them: a cut
        list would stop elsewhere than asked). The sidebar has already marked each of these
        "not sent"; this makes it so whatever the session holds."""
        changes: dict[str, Any] = {}
        for name in NUMERIC:
            value = getattr(parameters, name)
            if value is None:
                continue
            low, high = self.ranges.get(name, (None, None))
            outside = (low is not None and value < low) or (high is not None and value > high)
            if name in self.unsupported or outside:
                changes[name] = None
        if parameters.stop is not None and (
            "stop" in self.unsupported or len(parameters.stop) > self.stop_limit
        ):
            changes["stop"] = None
        return replace(parameters, **changes) if changes else parameters


NO_LIMITS = ParameterLimits()
"""A provider that takes what OpenAI's API takes."""


def parse_limits(value: Any, provider: str = "") -> ParameterLimits:
    """A profile's ``limits`` table from the config file.

    ``{temperature = [0, 1], top_p = [0.01, 1], max_stop = 1, unsupported = ["seed"]}``:
    a numeric parameter's ``[minimum, maximum]`` (``"none"`` for a side without a bound),
    ``max_stop`` (0–4) and ``unsupported`` (parameters the server does not take).

    Raises:
        ValueError: the table is malformed; the message says which key and what is allowed.
    """
    if not isinstance(value, Mapping):
        raise ValueError(
            "must be a table, e.g. {temperature = [0, 1], max_stop = 1, unsupported = [...]}"
        )
    ranges: dict[str, tuple[float | None, float | None]] = {}
    max_stop: int | None = None
    unsupported: set[str] = set()
    for key, item in value.items():
        if key in NUMERIC:
            ranges[key] = _bounds(key, item)
        elif key == "max_stop":
            if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= MAX_STOP:
                raise ValueError(f"max_stop must be a whole number from 0 to {MAX_STOP}")
            max_stop = item
        elif key == "unsupported":
            if not isinstance(item, list) or not all(isinstance(n, str) for n in item):
                raise ValueError("unsupported must be a list of parameter names")
            unknown = [n for n in item if n not in LIMITABLE]
            if unknown:
                raise ValueError(
                    f"unsupported: unknown parameter {unknown[0]!r} (one of {', '.join(LIMITABLE)})"
                )
            unsupported.update(item)
        else:
            shown = key if key.isprintable() else repr(key)
            raise ValueError(
                f"unknown limit {shown!r} (allowed: {', '.join(NUMERIC)}, max_stop, unsupported)"
            )
    return ParameterLimits(ranges, max_stop, frozenset(unsupported), provider)


def _bounds(name: str, item: Any) -> tuple[float | None, float | None]:
    """``[minimum, maximum]`` from the config (``"none"`` for an open side)."""

    def bound(part: Any) -> float | None:
        if isinstance(part, str) and part.lower() == "none":
            return None
        if isinstance(part, bool) or not isinstance(part, int | float):
            raise ValueError(f"{name} must be [minimum, maximum], two numbers")
        if not math.isfinite(part):
            raise ValueError(f"{name}: bounds must be finite numbers")
        return float(part)

    if not isinstance(item, list) or len(item) != 2:
        raise ValueError(f"{name} must be [minimum, maximum], two numbers")
    low, high = bound(item[0]), bound(item[1])
    if low is not None and high is not None and low > high:
        raise ValueError(f"{name}: the minimum is above the maximum")
    return low, high


def ranges_for(card: ModelCard | None, limits: ParameterLimits | None = None) -> dict[str, Range]:
    """The allowed ranges for a model: its request schema first, then OpenAI's, with
    ``max_tokens`` capped by the model's output limit (or its context length, when that is
    known rather than assumed), narrowed by the provider's ``limits``."""
    ranges = _model_ranges(card)
    return apply_limits(ranges, limits) if limits is not None else ranges


def apply_limits(ranges: dict[str, Range], limits: ParameterLimits) -> dict[str, Range]:
    """``ranges`` narrowed by a provider's limits (each bound the stricter of the two)."""
    out = dict(ranges)
    for name, (low, high) in limits.ranges.items():
        base = out.get(name, OPENAI_RANGES.get(name, Range(None, None)))
        minimum = _stricter(base.minimum, low, max)
        maximum = _stricter(base.maximum, high, min)
        if (minimum, maximum) != (base.minimum, base.maximum):
            who = limits.provider or "the provider"
            out[name] = replace(base, minimum=minimum, maximum=maximum, limited_by=who)
    return out


def _stricter(
    ours: float | None, theirs: float | None, pick: Callable[[float, float], float]
) -> float | None:
    """The stricter of two bounds (``pick`` is max for minimums, min for maximums)."""
    if ours is None or theirs is None:
        return theirs if ours is None else ours
    return pick(ours, theirs)


def _model_ranges(card: ModelCard | None) -> dict[str, Range]:
    """The model's own ranges (see :func:`ranges_for`)."""
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
    below = allowed.minimum is not None and value < allowed.minimum
    above = allowed.maximum is not None and value > allowed.maximum
    if below or above:
        where = f" for {allowed.limited_by}" if allowed.limited_by else ""
        raise ParameterError(name, f"must be {allowed.describe()}{where} (got {value:g})")
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


def parse_stop(text: str, limits: ParameterLimits = NO_LIMITS) -> tuple[str, ...] | None:
    """Stop sequences, one per line (blank lines ignored); None when there are none.

    Raises:
        ParameterError: more sequences than the provider takes.
    """
    sequences = tuple(line for line in text.split("\n") if line.strip())
    if sequences:
        problem = stop_problem(len(sequences), limits)
        if problem is not None:
            raise problem
    return sequences or None


def stop_problem(count: int, limits: ParameterLimits = NO_LIMITS) -> ParameterError | None:
    """Why ``count`` stop sequences cannot be sent (None: they can)."""
    unsupported = limits.why_unsupported("stop")
    if unsupported is not None:
        return ParameterError("stop", unsupported)
    most = limits.stop_limit
    if count > most:
        where = f" for {limits.provider}" if most < MAX_STOP and limits.provider else ""
        noun = "sequence" if most == 1 else "sequences"
        return ParameterError("stop", f"at most {most} stop {noun}{where}")
    return None


def validate(
    parameters: Parameters, ranges: dict[str, Range], limits: ParameterLimits = NO_LIMITS
) -> list[ParameterError]:
    """Every problem with a set of parameters (empty when all are allowed): values out of
    range, and, with a provider's ``limits``, parameters it does not take and more stop
    sequences than it takes (``ranges`` should already be narrowed by the same limits, see
    :func:`ranges_for`)."""
    problems: list[ParameterError] = []
    for name in NUMERIC:
        value = getattr(parameters, name)
        if value is None:
            continue
        unsupported = limits.why_unsupported(name)
        if unsupported is not None:
            problems.append(ParameterError(name, unsupported))
            continue
        try:
            check(name, value, ranges)
        except ParameterError as error:
            problems.append(error)
    if parameters.stop is not None:
        problem = stop_problem(len(parameters.stop), limits)
        if problem is not None:
            problems.append(problem)
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
