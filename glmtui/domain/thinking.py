"""What a model's thinking takes: on/off, effort levels, or neither (it always thinks).

Servers switch GLM's thinking in different ways (the provider profile's ``thinking`` style, see
:data:`glmtui.api.request.THINKING_STYLES`), and models differ in what they accept within that
switch: GLM-4.5 to GLM-5.1 think or not; GLM-5.2 also takes an effort level; GLM-5.3 always
thinks and takes only a level. A switch the model does not take is at best ignored and at worst
refused (a disable sent to a model that always thinks), so the sidebar offers, and the request
builder sends, only what the model takes.

What a model takes comes from its model object when the provider publishes it (see
:func:`glmtui.api.models.model_traits`), else from :data:`GLM_THINKING`, a small table of the
GLM family by model id, else the plain on/off of the profile's style. No I/O, no UI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ThinkingSource = Literal["model", "table", "default"]
"""Where a :class:`ThinkingSupport` came from: the model object, :data:`GLM_THINKING`, or
nothing known (plain on/off)."""


@dataclass(frozen=True, slots=True)
class ThinkingSupport:
    """What one model takes to control its thinking."""

    levels: tuple[str, ...] = ()
    """Effort levels it takes (sent as ``reasoning_effort``), weakest first; empty: on/off only."""
    can_disable: bool = True
    """False for a model that always thinks: no "off" is offered and a disable is never sent
    (some servers refuse one; others think anyway, and the switch would lie)."""
    default_level: str | None = None
    """The level it uses when none is sent, when known."""
    source: ThinkingSource = "default"
    """Where this came from, said in the sidebar's hint."""

    def describe(self) -> str:
        """A short phrase for the sidebar's hint: ``levels high, max (default max)`` …"""
        parts = []
        if self.levels:
            default = f" (default {self.default_level})" if self.default_level else ""
            parts.append(f"levels {', '.join(self.levels)}{default}")
        if not self.can_disable:
            parts.append("always thinks")
        return "; ".join(parts)


ON_OFF = ThinkingSupport()
"""A model that thinks or not as the switch says, with no levels (all that is known of most)."""

GLM_THINKING: dict[tuple[int, int], ThinkingSupport] = {
    (4, 5): ThinkingSupport(source="table"),
    (4, 6): ThinkingSupport(source="table"),
    (4, 7): ThinkingSupport(source="table"),
    (5, 0): ThinkingSupport(source="table"),
    (5, 1): ThinkingSupport(source="table"),
    (5, 2): ThinkingSupport(levels=("high", "max"), default_level="max", source="table"),
    (5, 3): ThinkingSupport(
        levels=("low", "high", "max"), can_disable=False, default_level="max", source="table"
    ),
}
"""The GLM family by (major, minor) version, from Z.ai's and Oxen.ai's documentation:
GLM-4.5 to GLM-5.1 take thinking on or off; GLM-5.2 adds ``reasoning_effort`` ``high`` or
``max`` (the default); GLM-5.3 (and GLM-5.3 Flash) always think and take ``low``, ``high`` or
``max`` (the default). Variants (``-air``, ``-flash``, ``-turbo``, ``-FP8``) share their
version's entry. Later versions are not guessed: they get plain on/off until listed."""

_GLM_ID = re.compile(r"^glm-(\d+)(?:[-.](\d)(?!\d))?(?=$|-)")
"""``glm-5``, ``glm-5.2``, ``glm-5-3-flash``, ``glm-4.7-flash``, ``glm-5-fp8`` (after
:func:`_normalised`); not ``glm-4-32b`` (a size, not a version) nor ``glm-5v`` (a vision model)."""


def _normalised(model_id: str) -> str:
    """A model id without its vendor prefix, lower case: ``zai-org/GLM-5-FP8`` → ``glm-5-fp8``,
    ``zai-org-glm-5`` (Oxen.ai) → ``glm-5``, ``z-ai/glm-4.6`` (OpenRouter) → ``glm-4.6``."""
    name = model_id.strip().lower().rsplit("/", 1)[-1]
    for prefix in ("zai-org-", "z-ai-", "zai-", "thudm-"):
        name = name.removeprefix(prefix)
    return name


def glm_version(model_id: str) -> tuple[int, int] | None:
    """The (major, minor) GLM version a model id names, or None when it names none."""
    match = _GLM_ID.match(_normalised(model_id))
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def glm_thinking(model_id: str) -> ThinkingSupport | None:
    """What :data:`GLM_THINKING` says about ``model_id``; None for a model it does not list."""
    version = glm_version(model_id)
    return GLM_THINKING.get(version) if version is not None else None


LEVEL_STYLES = frozenset({"thinking_type", "reasoning_effort", "none"})
"""Thinking styles whose requests can carry an effort level (as ``reasoning_effort``, the
name z.ai, Oxen.ai and OpenAI use). Not ``chat_template_kwargs``: vLLM checks
``reasoning_effort`` against OpenAI's ``low``/``medium``/``high`` and refuses ``max``, and
GLM's chat template reads only ``enable_thinking``."""

SWITCH_STYLES = frozenset({"thinking_type", "reasoning_effort", "chat_template_kwargs"})
"""Thinking styles with an on/off switch."""


@dataclass(frozen=True, slots=True)
class ThinkingChoice:
    """One option of the sidebar's reasoning control: its value and label."""

    value: str
    """``default``, ``on``, ``off`` or an effort level."""
    label: str


def thinking_choices(style: str, support: ThinkingSupport) -> list[ThinkingChoice]:
    """What the reasoning control offers for a provider's ``style`` and a model's ``support``.

    Always "provider default" (nothing sent); "on" when the style has a switch and the model
    has no levels (a level says "on" and how hard); "off" when the style has a switch and the
    model can stop thinking; each level when the style can carry one. A single entry means
    there is nothing to choose: the control is hidden.
    """
    choices = [ThinkingChoice("default", "provider default")]
    if style in SWITCH_STYLES and not (support.levels and style in LEVEL_STYLES):
        choices.append(ThinkingChoice("on", "on"))
    if style in SWITCH_STYLES and support.can_disable:
        choices.append(ThinkingChoice("off", "off"))
    if style in LEVEL_STYLES:
        choices.extend(ThinkingChoice(level, f"effort {level}") for level in support.levels)
    return choices


def chosen_value(reasoning: bool | None, effort: str | None, choices: list[ThinkingChoice]) -> str:
    """The option that shows ``reasoning``/``effort`` among ``choices``; "default" when what
    is saved is not on offer (a level another model took, "off" for a model that always
    thinks): that is what goes out, as the request builder sends only what is offered."""
    offered = {choice.value for choice in choices}
    if effort is not None and effort in offered and reasoning is not False:
        return effort
    if reasoning is True and "on" in offered:
        return "on"
    if reasoning is False and "off" in offered:
        return "off"
    return "default"


def choice_parameters(value: str) -> tuple[bool | None, str | None]:
    """``(reasoning, reasoning_effort)`` for an option's value: a level is thinking on at that
    level (saved as ``reasoning = true`` too, so a glmtui without levels still reads "on")."""
    if value == "default":
        return None, None
    if value in ("on", "off"):
        return value == "on", None
    return True, value
