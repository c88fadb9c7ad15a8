"""The parameter sidebar: every knob of the next request, visible, validated and saved.

A field left blank means "provider default": it is not sent at all. A bad value is marked on
its field with the reason and never sent; the last good value stays in force. Every valid
change is announced with :class:`ParameterSidebar.Changed`, and the chat screen stores it in
the session (so reopening the session restores it).

What is offered follows the provider and the model: each numeric field's range is the model's
narrowed by the provider's limits (z.ai: temperature 0–1, one stop sequence), a parameter the
provider does not take is disabled with the reason, the reasoning control offers what the
model takes (on/off, effort levels, no "off" for a model that always thinks), and the JSON
mode switch is disabled where JSON mode is not taken.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.compose import compose
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, Static, Switch, TextArea

from glmtui.api.models import ModelTraits
from glmtui.domain import Parameters
from glmtui.domain.params import (
    MAX_STOP,
    NO_LIMITS,
    NUMERIC,
    ParameterError,
    ParameterLimits,
    Range,
    apply_limits,
    parse,
    parse_stop,
)
from glmtui.domain.thinking import (
    ThinkingChoice,
    choice_parameters,
    chosen_value,
    thinking_choices,
)

LABELS = {
    "temperature": "Temperature",
    "top_p": "Top p",
    "max_tokens": "Max tokens",
    "frequency_penalty": "Frequency penalty",
    "presence_penalty": "Presence penalty",
    "seed": "Seed",
}


@dataclass(frozen=True)
class RequestSettings:
    """What the sidebar edits: the provider, model, system prompt and parameters."""

    provider: str
    model: str
    system_prompt: str
    parameters: Parameters


def _format(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:g}"
    return str(value)


class ParameterSidebar(VerticalScroll):
    """Provider, model, system prompt and sampling parameters of the next request.

    | Key | Action |
    |---|---|
    | Tab / Shift+Tab | Next / previous field |
    | Ctrl+B | Hide the sidebar |
    """

    DEFAULT_CSS = """
    ParameterSidebar {
        width: 38;
        height: 1fr;
        padding: 0 1;
        background: $panel;
        border-left: vkey $panel-lighten-2;
        scrollbar-size-vertical: 1;
    }
    ParameterSidebar .title { text-style: bold; color: $text-primary; margin: 0 0 1 0; }
    ParameterSidebar .label { color: $text; margin: 1 0 0 0; }
    ParameterSidebar .hint { color: $text-muted; height: auto; }
    ParameterSidebar .hint.-error { color: $text-error; }
    ParameterSidebar .hint.-blank { display: none; }
    ParameterSidebar .row { height: 1; }
    ParameterSidebar .row > Label { width: 18; color: $text; }
    ParameterSidebar .row > Input { width: 1fr; }
    ParameterSidebar Input.-invalid { background: $error 30%; color: $text-error; }
    ParameterSidebar .switch-row Switch:disabled { opacity: 0.5; }
    ParameterSidebar TextArea { height: 4; margin: 0; }
    ParameterSidebar TextArea#stop { height: 2; }
    ParameterSidebar .switch-row { height: 1; margin: 1 0 0 0; }
    ParameterSidebar .switch-row Label { width: 18; }
    ParameterSidebar .switch-row Switch { border: none; padding: 0; height: 1; }
    ParameterSidebar .buttons { height: auto; margin: 1 0 0 0; }
    ParameterSidebar Button { margin: 0 1 0 0; min-width: 0; width: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = []

    @dataclass
    class Changed(Message):
        """A field changed to a valid value: ``settings`` is what the next request uses."""

        sidebar: ParameterSidebar
        settings: RequestSettings

        @property
        def control(self) -> ParameterSidebar:
            return self.sidebar

    @dataclass
    class ResetRequested(Message):
        """The user asked to go back to the config's defaults."""

        sidebar: ParameterSidebar

    @dataclass
    class PreviewRequested(Message):
        """The user asked to see the next request (cURL, Python, JSON)."""

        sidebar: ParameterSidebar

    @dataclass
    class CompareRequested(Message):
        """The user asked to compare the last reply with another model or parameter set."""

        sidebar: ParameterSidebar

    def __init__(
        self,
        settings: RequestSettings,
        *,
        providers: list[str],
        thinking: dict[str, str],
        ranges: dict[str, Range],
        models: list[str] | None = None,
        limits: dict[str, ParameterLimits] | None = None,
        json_mode: dict[str, bool] | None = None,
        traits: ModelTraits | None = None,
        deferred: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """
        Args:
            settings: The values to start from (the session's).
            providers: Provider profile names to choose from.
            thinking: Each provider's thinking-switch style (``none`` hides the on/off).
            ranges: The model's allowed ranges (its request schema, else OpenAI's).
            models: Model ids to suggest while typing (the catalogue, when reachable).
            limits: Each provider's limits (none given: OpenAI's API).
            json_mode: Whether each provider takes JSON mode (not given: it does).
            traits: What the model takes (thinking control, JSON mode); None: on/off.
            deferred: Mount the fields only after the screen's first frame. They are most of
                the chat screen's widgets, and styling them took ~0.2 s of startup; until
                then the sidebar shows its title, and what it is given is kept for them.
        """
        super().__init__(id=id, classes=classes)
        self.settings = settings
        self.providers = providers
        self.thinking = thinking
        self.ranges = ranges
        self.models = models or []
        self.limits = limits or {}
        self.json_mode = json_mode or {}
        self.traits = traits or ModelTraits()
        self._reasoning_options: list[tuple[str, str]] = [
            (choice.label, choice.value) for choice in self._reasoning_choices()
        ]
        """The reasoning control's options as last set."""
        self._loading = False
        self._fields_pending = deferred
        """True until the fields are mounted (see ``deferred``)."""

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("Parameters", classes="title")
        if not self._fields_pending:
            yield from self._fields()

    def _fields(self) -> ComposeResult:
        settings = self.settings
        parameters = settings.parameters
        yield Label("Provider", classes="label")
        from rich.text import Text

        from glmtui.domain.text import visible_controls

        # Profile names come from the config file: shown as text, control characters visible.
        options = [(Text(visible_controls(name)), name) for name in self.providers]
        yield Select(
            options, value=settings.provider, allow_blank=False, id="provider", compact=True
        )
        yield Label("Model", classes="label")
        yield Input(
            settings.model,
            id="model",
            compact=True,
            suggester=SuggestFromList(self.models, case_sensitive=False) if self.models else None,
        )
        yield Label("System prompt", classes="label")
        yield TextArea(settings.system_prompt, id="system", soft_wrap=True, compact=True)
        yield Label("Sampling", classes="label")
        for name in NUMERIC:
            with Horizontal(classes="row"):
                yield Label(LABELS[name])
                yield Input(
                    _format(getattr(parameters, name)),
                    placeholder="default",
                    id=name,
                    restrict=r"[0-9eE.+\-_]*",
                    compact=True,
                )
            yield Static(self._hint(name), id=f"{name}-hint", classes="hint", markup=False)
        yield Label("Stop sequences (one per line)", classes="label")
        yield TextArea("\n".join(parameters.stop or ()), id="stop", compact=True)
        yield Static("", id="stop-hint", classes="hint -blank", markup=False)
        with Horizontal(classes="switch-row"):
            yield Label("Stream")
            yield Switch(parameters.stream is not False, id="stream")
        with Horizontal(classes="switch-row"):
            yield Label("JSON mode")
            yield Switch(
                bool(parameters.json_mode),
                id="json_mode",
                tooltip='Ask for one JSON object (response_format {"type": "json_object"})',
            )
        yield Static("", id="json_mode-hint", classes="hint -blank", markup=False)
        choices = self._reasoning_choices()
        yield Label("Reasoning (thinking)", classes="label reasoning")
        yield Select(
            [(choice.label, choice.value) for choice in choices],
            value=chosen_value(parameters.reasoning, parameters.reasoning_effort, choices),
            allow_blank=False,
            id="reasoning",
            classes="reasoning",
            compact=True,
        )
        yield Static("", id="reasoning-hint", classes="hint reasoning", markup=False)
        with Horizontal(classes="buttons"):
            yield Button(
                "Reset", id="reset", compact=True, tooltip="Back to the config file's defaults"
            )
            yield Button(
                "Request…",
                id="preview",
                compact=True,
                tooltip="The next request as cURL/Python/JSON",
            )
            yield Button(
                "Compare…", id="compare", compact=True, tooltip="Answer the last prompt another way"
            )

    def on_mount(self) -> None:
        if self._fields_pending:
            self.call_after_refresh(self._mount_fields)
        else:
            self._show_provider()

    async def _mount_fields(self) -> None:
        """Mount the fields of a deferred sidebar, with the values it holds by now."""
        if not self._fields_pending or not self.is_attached:
            return
        self._loading = True  # the new fields' first events are not edits
        try:
            fields = compose(self, self._fields())
            await self.mount_all(fields)
            if not all(field.is_attached for field in fields):
                return  # the app closed meanwhile (Ctrl+Q in the first moments)
            self._fields_pending = False
            self._show_provider()
            self.set_ranges(self.ranges)  # mark values outside limits that came meanwhile
        finally:
            self.call_after_refresh(self._done_loading)

    @property
    def ready(self) -> bool:
        """True once the fields are mounted."""
        return not self._fields_pending

    @property
    def provider_limits(self) -> ParameterLimits:
        """The limits of the provider chosen now."""
        return self.limits.get(self.settings.provider, NO_LIMITS)

    @property
    def allowed(self) -> dict[str, Range]:
        """The ranges in force: the model's, narrowed by the provider's limits."""
        return apply_limits(self.ranges, self.provider_limits)

    def _hint(self, name: str) -> str:
        limits = self.provider_limits
        if limits.why_unsupported(name) is not None:
            return f"not taken by {limits.provider or 'this provider'}"
        allowed = self.allowed.get(name)
        if allowed is None:
            return ""
        default = (
            f" · model default {_format(allowed.default)}" if allowed.default is not None else ""
        )
        where = f" for {allowed.limited_by}" if allowed.limited_by else ""
        return f"{allowed.describe()}{where}{default} · blank = default"

    def _reasoning_choices(self) -> list[ThinkingChoice]:
        style = self.thinking.get(self.settings.provider, "none")
        return thinking_choices(style, self.traits.thinking)

    def _show_provider(self) -> None:
        """Show what the chosen provider and model take: limits, reasoning, JSON mode."""
        if self._fields_pending:
            return
        self._show_limits()
        self._show_reasoning()
        self._show_json_mode()

    def _show_limits(self) -> None:
        """Disable what the provider does not take; re-check every field against its ranges."""
        limits = self.provider_limits
        for name in NUMERIC:
            field = self.query_one(f"#{name}", Input)
            field.disabled = limits.why_unsupported(name) is not None
            field.tooltip = limits.why_unsupported(name)
            self._validate(name, field.value, commit=False)
        stop = self.query_one("#stop", TextArea)
        stop.disabled = limits.why_unsupported("stop") is not None
        self._check_stop(stop.text, commit=False)

    def _show_reasoning(self) -> None:
        """Offer what the model takes through the provider's switch (hidden when nothing)."""
        style = self.thinking.get(self.settings.provider, "none")
        choices = self._reasoning_choices()
        for widget in self.query(".reasoning"):
            widget.display = len(choices) > 1
        select = self.query_one("#reasoning", Select)
        options = [(choice.label, choice.value) for choice in choices]
        parameters = self.settings.parameters
        value = chosen_value(parameters.reasoning, parameters.reasoning_effort, choices)
        if options != self._reasoning_options:
            self._reasoning_options = options
            select.set_options(options)
        if select.value != value:
            select.value = value  # what is sent; the handler sees no change in it
        support = self.traits.thinking
        sent_as = style if style != "none" else "reasoning_effort"
        parts = [f"sent as {sent_as}"]
        if support.describe():
            parts.append(support.describe())
            origin = {"model": "as the model says", "table": "glmtui's GLM table"}
            parts.append(origin.get(support.source, ""))
        self.query_one("#reasoning-hint", Static).update(" · ".join(p for p in parts if p))

    def _json_mode_refused(self) -> str | None:
        """Why JSON mode cannot be sent now (None: it can)."""
        provider = self.settings.provider
        if not self.json_mode.get(provider, True):
            return f"{provider} does not take JSON mode (json_mode = false in its profile)"
        if self.traits.json_mode is False:
            return self.traits.json_reason or "the model does not take JSON mode"
        return None

    def _show_json_mode(self) -> None:
        switch = self.query_one("#json_mode", Switch)
        refused = self._json_mode_refused()
        switch.disabled = refused is not None
        if refused is None:
            self._set_hint("json_mode", "", error=False)
        else:
            sent = " — not sent" if self.settings.parameters.json_mode else ""
            self._set_hint("json_mode", f"{refused}{sent}", error=bool(sent))

    # --- loading ---------------------------------------------------------------------------

    def load(
        self,
        settings: RequestSettings,
        ranges: dict[str, Range] | None = None,
        traits: ModelTraits | None = None,
    ) -> None:
        """Show other values (another session was opened, or defaults were restored), and
        the model's ranges and traits when they changed too."""
        if ranges is not None:
            self.ranges = ranges
        if traits is not None:
            self.traits = traits
        if self._fields_pending:  # the fields will show them when mounted
            self.settings = settings
            return
        self._loading = True
        try:
            self.settings = settings
            self.query_one("#provider", Select).value = settings.provider
            self.query_one("#model", Input).value = settings.model
            self.query_one("#system", TextArea).text = settings.system_prompt
            for name in NUMERIC:
                field = self.query_one(f"#{name}", Input)
                field.value = _format(getattr(settings.parameters, name))
                field.remove_class("-invalid")
                self._set_hint(name, self._hint(name), error=False)
            self.query_one("#stop", TextArea).text = "\n".join(settings.parameters.stop or ())
            self.query_one("#stream", Switch).value = settings.parameters.stream is not False
            self.query_one("#json_mode", Switch).value = bool(settings.parameters.json_mode)
            self._show_provider()
        finally:
            self.call_after_refresh(self._done_loading)

    def _done_loading(self) -> None:
        self._loading = False

    def set_ranges(self, ranges: dict[str, Range]) -> None:
        """New limits (the model's card arrived): update the hints and re-check the fields."""
        self.ranges = ranges
        if self._fields_pending:
            return
        for name in NUMERIC:
            self._validate(name, self.query_one(f"#{name}", Input).value, commit=False)

    def set_traits(self, traits: ModelTraits) -> None:
        """What the model takes changed (its card arrived, or another model was chosen):
        offer its thinking control and say whether it takes JSON mode."""
        self.traits = traits
        if not self._fields_pending:
            self._show_reasoning()
            self._show_json_mode()

    # --- editing ---------------------------------------------------------------------------

    def _set_hint(self, name: str, text: str, *, error: bool) -> None:
        hint = self.query_one(f"#{name}-hint", Static)
        hint.update(text)
        hint.set_class(error, "-error")
        hint.set_class(not text, "-blank")

    def _validate(self, name: str, text: str, *, commit: bool) -> bool:
        """Mark the field valid or invalid; with ``commit``, a valid value takes effect.

        Values take effect when the field is left (or Enter is pressed), so the half-typed
        states of an edit ("0." on the way to "0.25") never reach a request. A value the
        provider does not take at all (its field is disabled) is marked as not sent.
        """
        field = self.query_one(f"#{name}", Input)
        limits = self.provider_limits
        if limits.why_unsupported(name) is not None and text.strip():
            field.add_class("-invalid")
            who = limits.provider or "this provider"
            self._set_hint(name, f"✗ not taken by {who} — not sent", error=True)
            return False
        try:
            value = parse(name, text, self.allowed)
        except ParameterError as error:
            field.add_class("-invalid")
            self._set_hint(name, f"✗ {error.reason} — not sent", error=True)
            return False
        field.remove_class("-invalid")
        self._set_hint(name, self._hint(name), error=False)
        if commit:
            changes: dict[str, object] = {name: value}
            self._apply(parameters=replace(self.settings.parameters, **changes))  # type: ignore[arg-type]
        return True

    def _check_stop(self, text: str, *, commit: bool) -> None:
        """Mark the stop sequences valid or not (the provider's count, shown when it takes
        fewer than OpenAI's four); with ``commit``, valid ones take effect."""
        limits = self.provider_limits
        try:
            stop = parse_stop(text, limits)
        except ParameterError as error:
            self._set_hint("stop", f"✗ {error.reason} — not sent", error=True)
            return
        note = limits.why_unsupported("stop") or ""
        if not note and limits.stop_limit < MAX_STOP:
            noun = "sequence" if limits.stop_limit == 1 else "sequences"
            note = f"at most {limits.stop_limit} {noun} for {limits.provider or 'this provider'}"
        self._set_hint("stop", note, error=False)
        if commit:
            self._apply(parameters=replace(self.settings.parameters, stop=stop))

    def _apply(self, **changes: object) -> None:
        settings = replace(self.settings, **changes)  # type: ignore[arg-type]
        if settings == self.settings:
            return
        self.settings = settings
        if not self._loading:
            self.post_message(self.Changed(self, settings))

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        name = event.input.id or ""
        if not self._loading and name in NUMERIC:
            self._validate(name, event.value, commit=False)

    @on(Input.Submitted)
    @on(Input.Blurred)
    def _input_done(self, event: Input.Submitted | Input.Blurred) -> None:
        event.stop()
        name = event.input.id or ""
        if self._loading:
            return
        if name == "model":
            model = event.value.strip()
            if model:
                self._apply(model=model)
        elif name in NUMERIC:
            self._validate(name, event.value, commit=True)

    def commit(self) -> None:
        """Take in the field being edited (before a request goes out)."""
        focused = self.screen.focused
        if isinstance(focused, Input) and focused in self.query(Input):
            name = focused.id or ""
            if name in NUMERIC:
                self._validate(name, focused.value, commit=True)
            elif name == "model" and focused.value.strip():
                self._apply(model=focused.value.strip())

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._loading:
            return
        if event.text_area.id == "system":
            self._apply(system_prompt=event.text_area.text)
        elif event.text_area.id == "stop":
            self._check_stop(event.text_area.text, commit=True)

    @on(Switch.Changed, "#stream")
    def _stream_changed(self, event: Switch.Changed) -> None:
        event.stop()
        if not self._loading:
            value = None if event.value else False
            self._apply(parameters=replace(self.settings.parameters, stream=value))

    @on(Switch.Changed, "#json_mode")
    def _json_mode_changed(self, event: Switch.Changed) -> None:
        event.stop()
        if not self._loading:
            value = True if event.value else None
            self._apply(parameters=replace(self.settings.parameters, json_mode=value))
            self._show_json_mode()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if self._loading:
            return
        if event.select.id == "provider" and isinstance(event.value, str):
            if event.value != self.settings.provider:
                self._apply(provider=event.value)
                self._show_provider()
        elif event.select.id == "reasoning":
            if event.value != event.select.value:
                return  # superseded: new options were set, then the value to show
            parameters = self.settings.parameters
            shown = chosen_value(
                parameters.reasoning, parameters.reasoning_effort, self._reasoning_choices()
            )
            if event.value == shown:
                return  # set from here to what is sent; the saved choice stays as it is
            reasoning, effort = choice_parameters(str(event.value))
            changed = replace(parameters, reasoning=reasoning, reasoning_effort=effort)
            self._apply(parameters=changed)

    @on(Button.Pressed, "#reset")
    def _reset(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.ResetRequested(self))

    @on(Button.Pressed, "#preview")
    def _preview(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.PreviewRequested(self))

    @on(Button.Pressed, "#compare")
    def _compare(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.CompareRequested(self))

    def suggest_models(self, model_ids: list[str]) -> None:
        """Offer these model ids as completions in the model field (from the catalogue)."""
        from textual.suggester import SuggestFromList

        self.models = model_ids
        if self._fields_pending:
            return
        self.query_one("#model", Input).suggester = SuggestFromList(model_ids, case_sensitive=False)

    def focus_first(self) -> None:
        """Put the cursor in the first field the provider takes."""
        if self._fields_pending:
            self.call_after_refresh(self.focus_first)
            return
        fields = [self.query_one(f"#{name}", Input) for name in NUMERIC]
        next((field for field in fields if not field.disabled), fields[0]).focus()
