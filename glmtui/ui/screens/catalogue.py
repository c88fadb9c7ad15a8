"""The model catalogue: every model the provider offers, searchable and filterable.

Each row shows the id, name, developer, input modalities, context length and the prices per
1M input/output tokens. Enter opens the model's info screen; "use this model" (here or there)
closes the catalogue with the model's id, for the chat to switch to. Offline, or without a
key, the cached list (or the built-in GLM-5 card) is shown and the status line says so.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Header, Input, Select, Static

from glmtui.chat.catalog import CatalogueResult, ModelCatalog, developer_of, filter_cards
from glmtui.chat.formatting import context_cell, per_million, visible
from glmtui.domain import ModelCard
from glmtui.ui.screens.model_info import SOURCE_ICONS, ModelInfoScreen
from glmtui.ui.widgets.footer import KeyFooter

COLUMNS: tuple[tuple[str, str], ...] = (
    ("current", " "),
    ("id", "Id"),
    ("name", "Name"),
    ("developer", "Developer"),
    ("input", "Input"),
    ("context", "Context"),
    ("price_in", "$/1M in"),
    ("price_out", "$/1M out"),
)
"""(key, label) of the table's columns, in order."""

WIDE_ONLY = frozenset({"name", "developer"})
"""Columns left out below :data:`NARROW` columns, so limits and prices fit without scrolling
sideways (the developer filter and the info screen still show them)."""

NARROW = 110
"""Terminal width below which the table drops :data:`WIDE_ONLY` columns."""


def _price(per_token: float | None) -> Text:
    """``$1.00`` (the column header says "per 1M tokens"), right-aligned; "–" when unknown."""
    if per_token is None:
        return Text("–", justify="right")
    return Text(per_million(per_token).removesuffix(" / 1M"), justify="right")


def model_row(card: ModelCard, current_model: str, keys: list[str]) -> list[Text]:
    """One table row with the cells for ``keys`` (see :data:`COLUMNS`); every cell is plain
    text, so model names are never read as markup."""
    cells = {
        "current": Text("●" if card.id == current_model else " ", style="bold"),
        "id": Text(visible(card.id)),
        "name": Text(visible(card.display_name)),
        "developer": Text(visible(developer_of(card))),
        "input": Text(visible(", ".join(card.input_modalities)) or "–"),
        "context": Text(context_cell(card) if card.context_length else "–", justify="right"),
        "price_in": (
            Text("by time", justify="right")  # per second: no per-token price to compare
            if card.pricing.by_time
            else _price(card.pricing.input_per_token)
        ),
        "price_out": _price(card.pricing.output_per_token),
    }
    return [cells[key] for key in keys]


class CatalogueScreen(Screen[str | None]):
    """Every model the provider offers.

    | Key | Action |
    |---|---|
    | Enter | Open the highlighted model's details |
    | u | Use the highlighted model in the chat |
    | / , Ctrl+F | Search ids, names, developers and summaries |
    | c | Chat models only: on or off |
    | r | Refresh: ask the provider again |
    | Esc | Clear the search, else back |
    """

    CSS_PATH = "catalogue.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="catalogue.back"),
        Binding("u", "use", "Use this model", id="catalogue.use"),
        Binding("slash,ctrl+f", "search", "Search", id="catalogue.search"),
        Binding("c", "toggle_chat_only", "Chat only", id="catalogue.chat_only"),
        Binding("r", "refresh", "Refresh", id="catalogue.refresh"),
    ]

    def __init__(self, catalog: ModelCatalog, current_model: str) -> None:
        """
        Args:
            catalog: Where the list comes from (live, cached or built in).
            current_model: The chat's model: marked with ● and highlighted first.
        """
        super().__init__()
        self.catalog = catalog
        self.current_model = current_model
        self.result: CatalogueResult | None = None
        """The last answer from the catalogue (None while the first one loads)."""
        self.shown: list[ModelCard] = []
        """The rows on screen, after search and filters, in order."""
        self._columns: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Input(placeholder="Search models…  (/ to focus, Esc to clear)", id="catalogue-search")
        with Horizontal(id="catalogue-filters"):
            yield Select[str]([], prompt="Any developer", id="filter-developer")
            yield Select[str]([], prompt="Any input", id="filter-input")
            yield Checkbox("Chat models only", value=True, id="filter-chat")
        yield Static(id="catalogue-status", markup=False)
        yield DataTable[Text](id="catalogue-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW
        keys = [key for key, _ in COLUMNS if not (narrow and key in WIDE_ONLY)]
        if keys != self._columns:
            self._columns = keys
            table: DataTable[Text] = self.query_one("#catalogue-table", DataTable)
            table.clear(columns=True)
            for key, label in COLUMNS:
                if key in keys:
                    table.add_column(label, key=key)
            self._apply()

    def on_mount(self) -> None:
        self.title = "glmtui"
        self.sub_title = "Models"
        self.query_one("#catalogue-table").focus()
        self._status("Loading the model list…")
        self.query_one("#catalogue-table").loading = True
        self._load(refresh=False)

    # --- loading ---------------------------------------------------------------------------

    @work(exclusive=True, group="catalogue")
    async def _load(self, refresh: bool) -> None:
        """Ask the catalogue (live, else cache, else built in) and show the list."""
        try:
            result = await self.catalog.catalogue(refresh=refresh)
        except Exception as bug:  # provider failures come back as results; this is not one
            self.query_one("#catalogue-table").loading = False
            self._status(f"Could not read the model list: {bug!r}")
            return
        self.query_one("#catalogue-table").loading = False
        self.show(result)

    def show(self, result: CatalogueResult) -> None:
        """Fill the filters and the table from ``result``."""
        self.result = result
        developers = sorted({developer_of(card) for card in result.cards}, key=str.casefold)
        modalities = sorted({m for card in result.cards for m in card.input_modalities})
        self._set_options("#filter-developer", developers)
        self._set_options("#filter-input", modalities)
        self._apply()
        search = self.query_one("#catalogue-search", Input)
        if self.focused is None or (self.focused is search and not search.value):
            # The table could not take focus while it was loading; give it now, unless the
            # user has started typing a search meanwhile.
            self.query_one("#catalogue-table").focus()

    def _set_options(self, selector: str, values: list[str]) -> None:
        select: Select[str] = self.query_one(selector, Select)
        chosen = select.value
        select.set_options((visible(value), value) for value in values)
        if isinstance(chosen, str) and chosen in values:
            select.value = chosen

    # --- search and filters -----------------------------------------------------------------

    @on(Input.Changed, "#catalogue-search")
    @on(Select.Changed)
    @on(Checkbox.Changed, "#filter-chat")
    def _filters_changed(self) -> None:
        self._apply()

    @on(Input.Submitted, "#catalogue-search")
    def _search_done(self) -> None:
        self.query_one("#catalogue-table").focus()

    def _apply(self) -> None:
        """Show the models that pass the search and filters, keeping the highlight."""
        if self.result is None:
            return
        table: DataTable[Text] = self.query_one("#catalogue-table", DataTable)
        keep = self.highlighted.id if self.highlighted is not None else self.current_model
        developer = self.query_one("#filter-developer", Select).value
        modality = self.query_one("#filter-input", Select).value
        text = self.query_one("#catalogue-search", Input).value
        self.shown = filter_cards(
            self.result.cards,
            text,
            developer=developer if isinstance(developer, str) else None,
            input_modality=modality if isinstance(modality, str) else None,
            chat_only=self.query_one("#filter-chat", Checkbox).value,
        )
        table.clear()
        for card in self.shown:
            table.add_row(*model_row(card, self.current_model, self._columns), key=card.id)
        ids = [card.id for card in self.shown]
        if keep in ids:
            table.move_cursor(row=ids.index(keep), animate=False)
        total = len(self.result.cards)
        count = (
            f"{len(self.shown)} of {total} models"
            if len(self.shown) != total
            else (f"{total} model{'s' if total != 1 else ''}")
        )
        icon = SOURCE_ICONS.get(self.result.source, "…")
        self._status(f"{icon} {count} · {self.catalog.describe(self.result)}")
        status = self.query_one("#catalogue-status", Static)
        for name in ("live", "cache", "builtin"):
            status.set_class(self.result.source == name, f"-{name}")

    def _status(self, text: str) -> None:
        self.query_one("#catalogue-status", Static).update(visible(text))

    @property
    def highlighted(self) -> ModelCard | None:
        """The model under the table's cursor, if any."""
        table = self.query_one("#catalogue-table", DataTable)
        if not self.shown or not 0 <= table.cursor_row < len(self.shown):
            return None
        return self.shown[table.cursor_row]

    # --- actions ---------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#catalogue-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        event.stop()
        card = self.highlighted
        if card is None:
            return
        screen = ModelInfoScreen(self.catalog, card.id, current_model=self.current_model)
        self.app.push_screen(screen, self._info_closed)

    def _info_closed(self, model_id: str | None) -> None:
        if model_id is not None:
            self.dismiss(model_id)

    def action_use(self) -> None:
        """Close the catalogue with the highlighted model, for the chat to switch to."""
        card = self.highlighted
        if card is None:
            self.notify("No model selected.", timeout=2, markup=False)
            return
        self.dismiss(card.id)

    def action_search(self) -> None:
        """Focus the search box."""
        self.query_one("#catalogue-search", Input).focus()

    def action_toggle_chat_only(self) -> None:
        """Show only chat models, or every model."""
        self.query_one("#filter-chat", Checkbox).toggle()

    def action_refresh(self) -> None:
        """Ask the provider again (the list stays on screen meanwhile)."""
        if self.result is not None:
            self._status(f"Refreshing… (showing: {self.catalog.describe(self.result)})")
        self._load(refresh=True)

    def action_back(self) -> None:
        """Clear the search, or close the catalogue."""
        search = self.query_one("#catalogue-search", Input)
        if search.value:
            search.value = ""
            self.query_one("#catalogue-table").focus()
            return
        self.dismiss(None)
