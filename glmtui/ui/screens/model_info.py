"""The model-info screen: everything the provider says about one model.

Name, id, developer, summary, release date, modalities, prices per 1M tokens, context and
output limits, size and precision (from the description's table), the description as Markdown,
the request schema as a table, and the whole object as JSON. The line under the header says
where the data came from: live, a cached copy and its age (offline or no key), or the card
shipped with glmtui. Text from the server is never read as markup.

The screen dismisses with the model id when the user chooses "use this model", else None.
"""

from __future__ import annotations

import json
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.highlight import highlight
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Header, Markdown, Static

from glmtui.api.errors import ApiError
from glmtui.api.models import SchemaRow, schema_rows
from glmtui.chat.catalog import CardResult, ModelCatalog
from glmtui.chat.formatting import model_fact_rows, visible
from glmtui.ui.widgets.footer import KeyFooter

NARROW = 100
"""Below this many columns the facts and the description stack instead of sitting side by
side (side by side, each would be too narrow to read)."""

NO_SCHEMA = (
    "This model publishes no request schema. It takes the chat-completions parameters: "
    "temperature (0–2), top_p (0–1), max_tokens, frequency_penalty and presence_penalty "
    "(−2–2), stop, seed, tools, tool_choice and response_format."
)

_REQUIRED = Text("* required", style="dim")

SOURCE_ICONS = {"live": "●", "cache": "◐", "builtin": "○", "none": "✕"}
"""The mark before the source line, by where the data came from."""


def facts_table(result: CardResult) -> Table:
    """The model's facts as a two-column table (label, value), values as plain text."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    assert result.card is not None
    for label, value in model_fact_rows(result.card):
        table.add_row(Text(visible(label)), Text(visible(value)))
    return table


def schema_table(rows: list[SchemaRow]) -> Table:
    """Request parameters as a table: parameter, type, range, default, description."""
    table = Table(
        expand=True,
        box=None,
        padding=(0, 1),
        show_edge=False,
        pad_edge=False,
        header_style="bold",
        caption=_REQUIRED if any(row.required for row in rows) else None,
        caption_justify="left",
    )
    table.add_column("Parameter", no_wrap=True)
    table.add_column("Type", overflow="fold", max_width=22)
    table.add_column("Range", overflow="fold", max_width=30)
    table.add_column("Default", overflow="fold", max_width=16)
    table.add_column("Description", ratio=1, overflow="fold", min_width=24)
    for row in rows:
        name = Text(visible(row.name))
        if row.required:
            name.append(" *", style="bold")
        cells = (row.type, row.range, row.default, row.description)
        table.add_row(name, *(Text(visible(cell)) for cell in cells))
    return table


def schema_list(rows: list[SchemaRow]) -> Table:
    """Request parameters for widths where five columns do not fit: the name, then type ·
    range · default beside it, and the description under those."""
    table = Table.grid(padding=(0, 2))
    if any(row.required for row in rows):
        table.caption, table.caption_justify = _REQUIRED, "left"
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")
    for row in rows:
        details = [row.type, row.range, f"default {row.default}" if row.default else ""]
        name = row.name + (" *" if row.required else "")
        summary = visible(" · ".join(d for d in details if d))
        table.add_row(Text(visible(name)), Text(summary, style="dim"))
        if row.description:
            table.add_row(Text(""), Text(visible(row.description)))
    return table


class ModelInfoScreen(Screen[str | None]):
    """Details of one model.

    | Key | Action |
    |---|---|
    | u | Use this model in the chat (the screen closes with its id) |
    | r | Refresh: ask the provider again |
    | j | Show or hide the raw JSON of the model object |
    | Esc | Back (from the raw JSON: back to the details) |
    | Up / Down, PageUp / PageDown | Scroll |
    """

    CSS_PATH = "model_info.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="model_info.back"),
        Binding("u", "use", "Use this model", id="model_info.use"),
        Binding("r", "refresh", "Refresh", id="model_info.refresh"),
        Binding("j", "toggle_json", "Raw JSON", id="model_info.json"),
    ]

    def __init__(
        self, catalog: ModelCatalog, model_id: str, *, current_model: str | None = None
    ) -> None:
        """
        Args:
            catalog: Where cards come from (live, cached or built in).
            model_id: The model to show.
            current_model: The chat's model, marked as "current" when it is this one.
        """
        super().__init__()
        self.catalog = catalog
        self.model_id = model_id
        self.current_model = current_model
        self.result: CardResult | None = None
        """The last answer from the catalogue (None while the first one loads)."""

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="info-source", markup=False)
        with ContentSwitcher(initial="info-details", id="info-views"):
            with VerticalScroll(id="info-details"):
                yield Static(id="info-title")
                yield Static(id="info-summary", markup=False)
                with Horizontal(id="info-overview"):
                    with Vertical(id="info-facts-column"):
                        yield Static("Facts", classes="info-heading")
                        yield Static(id="info-facts")
                    with Vertical(id="info-about"):
                        yield Static("Description", classes="info-heading")
                        yield Markdown(id="info-description")
                yield Static("Request parameters", classes="info-heading", id="info-schema-title")
                yield Static(id="info-schema")
            with VerticalScroll(id="info-raw"):
                yield Static(id="info-json")
            with Vertical(id="info-problem"):
                yield Static(id="info-problem-text")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "glmtui"
        self.sub_title = f"Model · {visible(self.model_id)}"
        self.query_one("#info-details").focus()
        self._source(f"Loading {self.model_id}…", "loading")
        self.query_one("#info-views").loading = True
        self._load(refresh=False)

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW
        if narrow != self.has_class("-narrow"):
            self.set_class(narrow, "-narrow")
            self._show_schema()

    # --- loading ---------------------------------------------------------------------------

    @work(exclusive=True, group="model-info")
    async def _load(self, refresh: bool) -> None:
        """Ask the catalogue (live, else cache, else built in) and show the answer."""
        try:
            result = await self.catalog.card(self.model_id, refresh=refresh)
        except Exception as bug:  # provider failures come back as results; this is not one
            error = ApiError(f"Could not read the model's card: {bug!r}")
            result = CardResult(self.model_id, None, "none", None, error)
        self.query_one("#info-views").loading = False
        laid_out = self.show(result)
        if laid_out is not None:
            await laid_out
        if self.focused is None:  # the details could not take focus while loading
            self.query_one("#info-details").focus()

    def show(self, result: CardResult) -> AwaitComplete | None:
        """Fill the screen from ``result`` (a card, or the reason there is none).

        Returns:
            What completes once the description's Markdown is laid out (the loading worker
            waits for it, so whoever waits for the worker sees the whole card); None when
            there is no card.
        """
        self.result = result
        self.refresh_bindings()
        line = self.catalog.describe(result)
        if result.card is None:
            self._source(line if result.error is None else "No card for this model", "none")
            self._problem(result)
            return None
        self._source(line, result.source)
        card = result.card
        self.sub_title = f"Model · {visible(card.name)}"
        current = ("● current model", "$text-success") if self.current_model == card.id else ""
        title = Content.assemble(
            (visible(card.name), "bold $text-primary"),
            "  ",
            (visible(card.id), "$text-muted"),
            "  ",
            current,
        )
        self.query_one("#info-title", Static).update(title)
        summary = self.query_one("#info-summary", Static)
        summary.update(visible(card.summary))
        summary.display = bool(card.summary)
        self.query_one("#info-facts", Static).update(facts_table(result))
        description = visible(card.description.strip()) or "*The provider gives no description.*"
        described = self.query_one("#info-description", Markdown).update(description)
        self._show_schema()
        text = visible(json.dumps(card.raw, indent=2, ensure_ascii=False), for_json=True)
        self.query_one("#info-json", Static).update(highlight(text, language="json"))
        switcher = self.query_one("#info-views", ContentSwitcher)
        if switcher.current == "info-problem":
            switcher.current = "info-details"
        return described

    def _show_schema(self) -> None:
        """The request schema as a table, or as a list where the table would not fit."""
        card = self.result.card if self.result is not None else None
        if card is None:
            return
        rows = schema_rows(card.request_schema)
        schema = self.query_one("#info-schema", Static)
        schema.set_class(not rows, "-empty")
        if not rows:
            schema.update(Content(NO_SCHEMA))
        elif self.size.width < NARROW:
            schema.update(schema_list(rows))
        else:
            schema.update(schema_table(rows))

    def _problem(self, result: CardResult) -> None:
        error = result.error
        if result.not_found:
            title = "Model not found"
        elif error is not None and error.kind in ("auth", "no_key"):
            title = "No access"
        else:
            title = "Could not load this model"
        text = error.describe() if error is not None else f"No information about {self.model_id}."
        if not result.not_found:
            text += "\n\nNothing is cached for this model yet. Press r to try again."
        body = Content.assemble((title, "bold $text-error"), "\n\n", visible(text))
        self.query_one("#info-problem-text", Static).update(body)
        self.query_one("#info-views", ContentSwitcher).current = "info-problem"

    def _source(self, text: str, kind: str) -> None:
        line = self.query_one("#info-source", Static)
        icon = SOURCE_ICONS.get(kind, "…")
        line.update(f"{icon} {visible(text)}")
        for name in ("live", "cache", "builtin", "none", "loading"):
            line.set_class(name == kind, f"-{name}")

    # --- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim "Use this model" and "Raw JSON" until there is a card to use or show."""
        if action in ("use", "toggle_json"):
            return (self.result is not None and self.result.card is not None) or None
        return True

    def action_use(self) -> None:
        """Close the screen, asking the chat to switch to this model."""
        if self.result is not None and self.result.card is not None:
            self.dismiss(self.result.card.id)

    def action_refresh(self) -> None:
        """Ask the provider again (the details stay on screen meanwhile)."""
        if self.result is None or self.result.card is None:
            self.query_one("#info-views").loading = True
        self._source(f"Refreshing {self.model_id}…", "loading")
        self._load(refresh=True)

    def action_toggle_json(self) -> None:
        """Switch between the details and the raw JSON of the model object."""
        switcher = self.query_one("#info-views", ContentSwitcher)
        switcher.current = "info-raw" if switcher.current == "info-details" else "info-details"
        target = switcher.current or "info-details"
        self.query_one(f"#{target}").focus()

    def action_back(self) -> None:
        """Back to the details from the raw JSON, else close the screen."""
        switcher = self.query_one("#info-views", ContentSwitcher)
        if switcher.current == "info-raw":
            self.action_toggle_json()
            return
        self.dismiss(None)
