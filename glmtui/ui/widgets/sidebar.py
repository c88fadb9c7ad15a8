"""The parameter sidebar: every knob of the next request, visible, validated and saved.

A field left blank means "provider default": it is not sent at all. A bad value is marked on
its field with the reason and never sent; the last good value stays in force. Every valid
change is announced with :class:`ParameterSidebar.Changed`, and the chat screen stores it in
the session (so reopening the session restores it).
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

from glmtui.domain import Parameters
from glmtui.domain.params import NUMERIC, ParameterError, Range, parse, parse_stop

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
        deferred: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """
        Args:
            settings: The values to start from (the session's).
            providers: Provider profile names to choose from.
            thinking: Each provider's thinking-switch style (``none`` hides the switch).
            ranges: Allowed ranges (from the model's request schema, else OpenAI's).
            models: Model ids to suggest while typing (the catalogue, when reachable).
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
        yield Label("Reasoning (thinking)", classes="label reasoning")
        yield Select(
            [("provider default", "default"), ("on", "on"), ("off", "off")],
            value=_reasoning_choice(parameters.reasoning),
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
            self._show_reasoning_switch()

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
            self._show_reasoning_switch()
            self.set_ranges(self.ranges)  # mark values outside limits that came meanwhile
        finally:
            self.call_after_refresh(self._done_loading)

    @property
    def ready(self) -> bool:
        """True once the fields are mounted."""
        return not self._fields_pending

    def _hint(self, name: str) -> str:
        allowed = self.ranges.get(name)
        if allowed is None:
            return ""
        default = (
            f" · model default {_format(allowed.default)}" if allowed.default is not None else ""
        )
        return f"{allowed.describe()}{default} · blank = default"

    def _show_reasoning_switch(self) -> None:
        if self._fields_pending:
            return
        style = self.thinking.get(self.settings.provider, "none")
        for widget in self.query(".reasoning"):
            widget.display = style != "none"
        hint = self.query_one("#reasoning-hint", Static)
        hint.update(f"sent as {style}" if style != "none" else "")

    # --- loading ---------------------------------------------------------------------------

    def load(self, settings: RequestSettings, ranges: dict[str, Range] | None = None) -> None:
        """Show other values (another session was opened, or defaults were restored)."""
        if self._fields_pending:  # the fields will show them when mounted
            self.settings = settings
            self.ranges = self.ranges if ranges is None else ranges
            return
        self._loading = True
        try:
            self.settings = settings
            if ranges is not None:
                self.ranges = ranges
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
            self.query_one("#reasoning", Select).value = _reasoning_choice(
                settings.parameters.reasoning
            )
            self._show_reasoning_switch()
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

    # --- editing ---------------------------------------------------------------------------

    def _set_hint(self, name: str, text: str, *, error: bool) -> None:
        hint = self.query_one(f"#{name}-hint", Static)
        hint.update(text)
        hint.set_class(error, "-error")
        hint.set_class(not text, "-blank")

    def _validate(self, name: str, text: str, *, commit: bool) -> bool:
        """Mark the field valid or invalid; with ``commit``, a valid value takes effect.

        Values take effect when the field is left (or Enter is pressed), so the half-typed
        states of an edit ("0." on the way to "0.25") never reach a request.
        """
        field = self.query_one(f"#{name}", Input)
        try:
            value = parse(name, text, self.ranges)
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
            try:
                stop = parse_stop(event.text_area.text)
            except ParameterError as error:
                self._set_hint("stop", f"✗ {error.reason} — not sent", error=True)
                return
            self._set_hint("stop", "", error=False)
            self._apply(parameters=replace(self.settings.parameters, stop=stop))

    @on(Switch.Changed, "#stream")
    def _stream_changed(self, event: Switch.Changed) -> None:
        event.stop()
        if not self._loading:
            value = None if event.value else False
            self._apply(parameters=replace(self.settings.parameters, stream=value))

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if self._loading:
            return
        if event.select.id == "provider" and isinstance(event.value, str):
            self._apply(provider=event.value)
            self._show_reasoning_switch()
        elif event.select.id == "reasoning":
            choice = {"on": True, "off": False}.get(str(event.value))
            self._apply(parameters=replace(self.settings.parameters, reasoning=choice))

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
        """Put the cursor in the first field."""
        if self._fields_pending:
            self.call_after_refresh(self.focus_first)
            return
        self.query_one("#temperature", Input).focus()


def _reasoning_choice(value: bool | None) -> str:
    return "default" if value is None else "on" if value else "off"
