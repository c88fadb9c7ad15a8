"""The user's ``[keymap]``: every binding's id, its default keys, and the config's overrides.

Every :class:`~textual.binding.Binding` in glmtui has an id (``area.action``). The config's
``[keymap]`` table maps ids to keys (``"chat.send" = "ctrl+s"``, several keys comma-separated
as Textual writes them), and the app hands the checked map to :meth:`App.set_keymap`, so the
footer, the help panel and the command palette show the keys in force.

A keymap problem never stops glmtui: an unknown id, a key that does not parse, or a key that
another binding active in the same place already has, is left out (that binding keeps its
default) and told once, with the config file's line.

Where a binding is active is told by :data:`PLACES`: a widget's bindings work together with
its screen's and the app's, so a key may be taken twice only in different places.
"""

from __future__ import annotations

import importlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from textual.binding import Binding, BindingType
from textual.keys import KEY_NAME_REPLACEMENTS, Keys, format_key

from glmtui.config import config_line

PLACES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("app", "glmtui.ui.app:GlmApp", ()),
    ("chat", "glmtui.ui.screens.chat:ChatScreen", ("app",)),
    ("composer", "glmtui.ui.widgets.composer:Composer", ("chat", "app")),
    ("conversation", "glmtui.ui.widgets.conversation:ConversationView", ("chat", "app")),
    ("text_selection", "glmtui.ui.widgets.conversation:ConversationView", ("chat", "app")),
    ("chips", "glmtui.ui.widgets.attachment_chips:AttachmentChips", ("chat", "app")),
    ("find_bar", "glmtui.ui.widgets.find_bar:FindBar", ("chat", "app")),
    ("sessions", "glmtui.ui.screens.sessions:SessionsScreen", ("app",)),
    ("session_table", "glmtui.ui.widgets.session_table:SessionTable", ("sessions", "app")),
    ("first_run", "glmtui.ui.screens.first_run:FirstRunScreen", ("app",)),
    ("code_picker", "glmtui.ui.screens.code_picker:CodeBlockPicker", ("app",)),
    ("compare", "glmtui.ui.screens.compare:CompareScreen", ("app",)),
    ("parameters", "glmtui.ui.screens.parameters:ParametersScreen", ("app",)),
    ("model_info", "glmtui.ui.screens.model_info:ModelInfoScreen", ("app",)),
    ("request_preview", "glmtui.ui.screens.request_preview:RequestPreviewScreen", ("app",)),
    ("picker", "glmtui.ui.screens.file_picker:FilePicker", ("app",)),
    ("prompt", "glmtui.ui.screens.prompt:PromptScreen", ("app",)),
    ("choice", "glmtui.ui.screens.prompt:ChoiceScreen", ("app",)),
    ("help", "glmtui.ui.screens.help:HelpScreen", ("app",)),
    ("approval", "glmtui.ui.screens.approval:ApprovalScreen", ("app",)),
    ("tools", "glmtui.ui.screens.tools:ToolsScreen", ("app",)),
    ("catalogue", "glmtui.ui.screens.catalogue:CatalogueScreen", ("app",)),
)
"""Each place that has bindings: its name, the class (``module:Name``, imported when asked:
the app imports this module) and the places whose bindings are active along with it. A test
checks that every class with ``BINDINGS`` in glmtui is here."""

MODES = frozenset({"text_selection"})
"""Places that are a mode of a widget listed twice (the conversation's keyboard selection):
only the bindings whose id starts with the mode's name are there, and only there. While the
mode is on, the widget's other bindings are off, so the keys may be the same."""

RESERVED_KEY = "ctrl+p"
"""The command palette's key (``App.COMMAND_PALETTE_BINDING``): every screen has it."""

MODIFIERS = ("ctrl", "alt", "shift", "meta", "super", "hyper")
"""Modifiers a key may carry (``ctrl+shift+x``)."""

_NAMED_KEYS = frozenset(
    key.value for key in Keys if "+" not in key.value and len(key.value) > 1
) | {"space", "enter", "tab", "escape", "backspace"}
_LABELS = {"escape": "Esc", "pageup": "PageUp", "pagedown": "PageDown", "backspace": "Backspace"}


@dataclass(frozen=True)
class BoundAction:
    """One binding id: where it works, what it does and its default keys."""

    id: str
    keys: str
    """Default keys, comma-separated, in Textual's names (``ctrl+r``, ``slash``)."""
    description: str
    places: tuple[str, ...]


@dataclass(frozen=True)
class KeymapProblem:
    """An entry of ``[keymap]`` that was not used (its binding keeps its default keys)."""

    binding_id: str
    line: int | None
    why: str

    def describe(self) -> str:
        """One line: where and what."""
        where = f"line {self.line}" if self.line else "[keymap]"
        return f"{where}: {self.why}"


@dataclass(frozen=True)
class Keymap:
    """The checked keymap: what to hand to ``set_keymap``, and what was left out."""

    overrides: dict[str, str]
    """Binding id → keys, for the entries that were usable (normalised)."""
    problems: tuple[KeymapProblem, ...] = ()

    def keys(self) -> dict[str, str]:
        """Every binding id → its keys in force (the default unless overridden)."""
        return {
            binding_id: self.overrides.get(binding_id, action.keys)
            for binding_id, action in bound_actions().items()
        }

    def notice(self, config_path: Path) -> str:
        """The one notice telling the problems (empty if none)."""
        if not self.problems:
            return ""
        lines = "\n".join(problem.describe() for problem in self.problems)
        return f"Keymap in {config_path}: these entries were ignored (defaults kept):\n{lines}"


def _owner(path: str) -> type:
    module, _, name = path.partition(":")
    owner: type = getattr(importlib.import_module(module), name)
    return owner


def _own_bindings(owner: type) -> Iterable[Binding]:
    """The bindings a glmtui class declares (its own ``BINDINGS`` and its glmtui bases')."""
    for cls in reversed(owner.__mro__):
        if cls.__module__.startswith("glmtui.") and "BINDINGS" in vars(cls):
            bindings: list[BindingType] = vars(cls)["BINDINGS"]
            yield from (b for b in bindings if isinstance(b, Binding))


@cache
def bound_actions() -> dict[str, BoundAction]:
    """Every binding id in glmtui, in the order of :data:`PLACES`."""
    found: dict[str, BoundAction] = {}
    for place, path, _parents in PLACES:
        for binding in _own_bindings(_owner(path)):
            if binding.id is None:
                continue
            area = binding.id.partition(".")[0]
            if area != place if place in MODES else area in MODES:
                continue
            keys = normalize_keys(binding.key)
            known = found.get(binding.id)
            places = (*known.places, place) if known else (place,)
            found[binding.id] = BoundAction(binding.id, keys, binding.description, places)
    return found


def normalize_keys(text: str) -> str:
    """``text`` as Textual's key names, comma-separated (``"ctrl+s, /"`` → ``ctrl+s,slash``).

    Raises:
        ValueError: a key is empty, has an unknown modifier or names no key.
    """
    out: list[str] = []
    for part in text.split(","):
        key = part.strip()
        if not key or key.endswith("+"):
            raise ValueError(f"{key!r} is not a key" if key else "an empty key")
        *modifiers, base = key.split("+") if len(key) > 1 else [key]
        for modifier in modifiers:
            if modifier.lower() not in MODIFIERS:
                raise ValueError(f"{modifier!r} in {key!r} is not a modifier")
        if len(base) == 1:
            if modifiers:
                base = base.lower()  # Textual reports ctrl+s, never ctrl+S
            if not base.isprintable() or base.isspace():
                raise ValueError(f"{key!r} is not a key")
            if not base.isalnum():
                name = unicodedata.name(base, base).lower().replace("-", "_").replace(" ", "_")
                base = KEY_NAME_REPLACEMENTS.get(name, name)
        else:
            base = base.lower()
            if base not in _NAMED_KEYS and len(format_key(base)) != 1:
                raise ValueError(f"{key!r} is not a key Textual knows")
        out.append("+".join([*(m.lower() for m in modifiers), base]))
    return ",".join(out)


def key_label(keys: str) -> str:
    """Keys as the help panel writes them: ``ctrl+r`` → ``Ctrl+R``, ``slash`` → ``/``."""
    labels: list[str] = []
    for key in keys.split(","):
        *modifiers, base = key.split("+") if len(key) > 1 else [key]
        character = format_key(base)
        if len(base) == 1:
            label = base.upper() if modifiers else base
        elif base in _LABELS:
            label = _LABELS[base]
        elif base in _NAMED_KEYS:
            label = base[:1].upper() + base[1:]
        elif len(character) == 1 and character.isprintable():
            label = character
        else:
            label = base[:1].upper() + base[1:]
        labels.append("+".join([*(m.capitalize() for m in modifiers), label]))
    return ", ".join(labels)


def _places_together() -> dict[str, set[str]]:
    """Each place → the places whose bindings work along with it (itself included)."""
    return {place: {place, *parents} for place, _path, parents in PLACES}


def _clashes(keys: Mapping[str, str], changed: set[str]) -> dict[str, str]:
    """Overridden ids whose keys another binding active in the same place has: id → why.

    Two bindings that share a key by default (Esc stops a reply, else goes to the composer)
    may keep sharing it.
    """
    actions = bound_actions()
    defaults = {i: set(a.keys.split(",")) for i, a in actions.items()}
    found: dict[str, str] = {}
    for binding_id in changed:  # the palette's key is Textual's, no binding with an id
        if RESERVED_KEY in keys[binding_id].split(","):
            found[binding_id] = f"{key_label(RESERVED_KEY)} is the command palette's"
    for group in _places_together().values():
        ids = [i for i, a in actions.items() if group & set(a.places)]
        for binding_id in ids:
            if binding_id not in changed or binding_id in found:
                continue
            mine = set(keys[binding_id].split(","))
            for other in ids:
                if other == binding_id:
                    continue
                shared = mine & set(keys[other].split(","))
                if shared and not (defaults[binding_id] & defaults[other]):
                    key = key_label(sorted(shared)[0])
                    found[binding_id] = f"{key} is already {other!r} ({actions[other].description})"
                    break
    return found


def _flat(table: Mapping[str, object]) -> dict[str, object]:
    """Unquoted ids (``chat.send = "ctrl+s"``) are dotted keys to TOML, which reads them as a
    table ``chat`` holding ``send``: they are taken as the id they spell."""
    flat: dict[str, object] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            flat.update((f"{key}.{name}", inner) for name, inner in value.items())
        else:
            flat[key] = value
    return flat


def check_keymap(table: Mapping[str, object], config_path: Path) -> Keymap:
    """Check a ``[keymap]`` table; the entries that cannot be used are left out and told.

    Args:
        table: Binding id → keys, as the config holds it.
        config_path: The config file (its lines are named in the problems).
    """
    actions = bound_actions()
    overrides: dict[str, str] = {}
    problems: dict[str, str] = {}
    for binding_id, value in _flat(table).items():
        if binding_id not in actions:
            problems[binding_id] = f"{binding_id!r} is not a binding id (glmtui config keys)"
        elif not isinstance(value, str):
            problems[binding_id] = f'{binding_id!r}: keys are a string, e.g. "ctrl+s,f6"'
        else:
            try:
                overrides[binding_id] = normalize_keys(value)
            except ValueError as error:
                problems[binding_id] = f"{binding_id!r} = {value!r}: {error}"
    while True:  # leaving out one override can make another clash with its default
        keys = {i: overrides.get(i, a.keys) for i, a in actions.items()}
        clashes = _clashes(keys, set(overrides))
        if not clashes:
            break
        for binding_id, why in clashes.items():
            del overrides[binding_id]
            problems[binding_id] = f"{binding_id!r}: {why}"
    told = tuple(
        KeymapProblem(binding_id, config_line(config_path, binding_id), why)
        for binding_id, why in problems.items()
    )
    return Keymap(overrides, tuple(sorted(told, key=lambda p: p.line or 0)))
