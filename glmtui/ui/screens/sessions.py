"""The session browser: every saved conversation, searchable, with open/rename/fork/delete/export.

Listing and search go through the store's index, so they stay fast with thousands of sessions;
the first index build (or a rebuild after files changed outside glmtui) runs in a worker thread
with progress, and the table shows what is indexed so far meanwhile. Files that cannot be read
are listed with their reason and are never changed.

Every action works on the *file* of the row chosen, never on its id: two files can hold the
same id (a copied file, a sync tool's conflict copy, a backup). Such rows are listed side by
side and marked "same id as …"; opening one gives that file an id of its own (the store writes
it and the browser says so), so the chat that continues it can never save into the other file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, Input, Static
from textual.worker import get_current_worker

from glmtui.ui.widgets.footer import KeyFooter
from glmtui.ui.widgets.session_table import SessionTable

if TYPE_CHECKING:
    from glmtui.store import DeletedSession, SearchHit, SessionStore, SessionSummary

SORTS: tuple[tuple[str, str], ...] = (
    ("updated", "last updated"),
    ("created", "created"),
    ("title", "title"),
    ("messages", "messages"),
    ("tokens", "tokens"),
)
"""Sort orders, cycled with ``s``: (key, label)."""

SEARCH_DELAY = 0.12
"""Seconds of typing pause before a search runs (each keystroke does not search)."""


@dataclass(frozen=True)
class BrowserResult:
    """What the user chose in the browser: open a session, or start a new chat."""

    action: str
    """``open`` or ``new``."""
    session_id: str = ""
    """The session's id (unique in the folder: a shared one was replaced when it was opened)."""
    path: Path | None = None
    """The file of the row chosen (``store.load(path)`` opens exactly it)."""


def _now() -> datetime:
    return datetime.now(UTC)


class SessionsScreen(Screen[BrowserResult | None]):
    """Browse saved sessions.

    | Key | Action |
    |---|---|
    | Enter | Open the selected session |
    | / , Ctrl+F | Search titles and messages |
    | n | New chat |
    | r | Rename |
    | c | Duplicate (a copy to keep working on) |
    | d, Delete | Delete (to the trash) |
    | u | Undo the last delete |
    | e | Export as Markdown, JSON or TOML |
    | i | Import a session file |
    | s | Change the sort order |
    | Esc | Back to the chat |
    """

    CSS_PATH = "sessions.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="sessions.back"),
        Binding("slash,ctrl+f", "search", "Search", id="sessions.search"),
        Binding("n", "new", "New chat", id="sessions.new"),
        Binding("r", "rename", "Rename", id="sessions.rename"),
        Binding("c", "duplicate", "Duplicate", id="sessions.duplicate"),
        Binding("d,delete", "delete", "Delete", id="sessions.delete"),
        Binding("u", "undo", "Undo delete", id="sessions.undo"),
        Binding("e", "export", "Export", id="sessions.export"),
        Binding("i", "import_file", "Import", id="sessions.import"),
        Binding("s", "sort", "Sort", id="sessions.sort"),
    ]

    def __init__(self, store: SessionStore) -> None:
        super().__init__()
        self.store = store
        self._sort = 0
        self._rows: list[SessionSummary] = []
        self._snippets: dict[str, str] = {}
        self._undo: list[DeletedSession] = []
        self._query = ""

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Input(
            placeholder="Search titles and messages…  (/ to focus, Esc to clear)", id="search"
        )
        yield Static("", id="browser-status", markup=False)
        yield Static("", id="table-header", markup=False)
        yield SessionTable(id="sessions")
        yield KeyFooter()

    def on_resize(self) -> None:
        table = self.query_one(SessionTable)
        self.query_one("#table-header", Static).update(SessionTable.header(table.size.width))

    def on_mount(self) -> None:
        self.title = "glmtui"
        self.sub_title = "Sessions"
        self.query_one(SessionTable).focus()
        self._load()

    # --- loading ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="sessions-load")
    def _load(self) -> None:
        """List (indexing new or changed files first, with progress), off the UI thread."""
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            if total > 50 and not worker.is_cancelled:
                self.app.call_from_thread(self._status, f"Indexing sessions… {done:,} of {total:,}")

        try:
            # What the index already knows, at once; then check the folder for changes.
            rows = self.store.list_sessions(refresh=False)
            if rows and not worker.is_cancelled:
                self.app.call_from_thread(self._show, rows, {})
            report = self.store.refresh(progress)
            if report.added or report.changed or report.removed or not rows:
                rows = self.store.list_sessions(refresh=False)
            else:
                return
        except Exception as error:
            self.app.call_from_thread(self._status, f"Could not list sessions: {error}")
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, rows, {})

    def _status(self, text: str) -> None:
        self.query_one("#browser-status", Static).update(text)

    def _show(self, rows: list[SessionSummary], snippets: dict[str, str]) -> None:
        self._rows = self._sorted(rows) if not self._query else rows
        self._snippets = snippets
        table = self.query_one(SessionTable)
        table.set_rows(self._rows, snippets, _now())
        self.query_one("#table-header", Static).update(SessionTable.header(table.size.width))
        unreadable = sum(1 for row in self._rows if row.error)
        count = len(self._rows) - unreadable
        what = f"{count:,} session{'s' if count != 1 else ''}"
        if self._query:
            what += f" matching “{self._query}”"
        extra = f" · {unreadable} unreadable" if unreadable else ""
        shared = sum(1 for row in self._rows if row.same_id_as)
        if shared:
            extra += f" · {shared} share an id with another file"
        sort = "" if self._query else f" · sorted by {SORTS[self._sort][1]} (s)"
        self._status(f"{what}{extra}{sort} · {_display_path(self.store.folder)}")

    def _sorted(self, rows: list[SessionSummary]) -> list[SessionSummary]:
        key = SORTS[self._sort][0]
        readable = [r for r in rows if not r.error]
        broken = [r for r in rows if r.error]
        if key == "created":
            readable.sort(key=lambda r: r.created_at, reverse=True)
        elif key == "title":
            readable.sort(key=lambda r: (r.title or "").casefold())
        elif key == "messages":
            readable.sort(key=lambda r: r.message_count, reverse=True)
        elif key == "tokens":
            readable.sort(key=lambda r: r.tokens, reverse=True)
        else:
            readable.sort(key=lambda r: r.updated_at, reverse=True)
        return readable + broken

    # --- search ----------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._search(event.value.strip())

    @work(thread=True, exclusive=True, group="sessions-search")
    def _search(self, text: str) -> None:
        """Incremental search (debounced); the newest query wins."""
        import time

        worker = get_current_worker()
        time.sleep(SEARCH_DELAY)
        if worker.is_cancelled:
            return
        try:
            if text:
                hits: list[SearchHit] = self.store.search(text)
                rows = [hit.summary for hit in hits]
                snippets = {hit.summary.name: hit.snippet for hit in hits}
            else:
                rows, snippets = self.store.list_sessions(), {}
        except Exception as error:
            self.app.call_from_thread(self._status, f"Search failed: {error}")
            return
        if not worker.is_cancelled:
            self._query = text
            self.app.call_from_thread(self._show, rows, snippets)

    def action_search(self) -> None:
        """Focus the search box."""
        self.query_one("#search", Input).focus()

    # --- selection -------------------------------------------------------------------------

    @property
    def selected_summary(self) -> SessionSummary | None:
        """The highlighted row's session, if any."""
        return self.query_one(SessionTable).current

    def _readable_selection(self) -> SessionSummary | None:
        row = self.selected_summary
        if row is None:
            self.notify("No session selected.", timeout=2)
            return None
        if row.error:
            self.notify(
                f"{row.name} cannot be read ({row.error}); it is left untouched.",
                severity="warning",
                timeout=5,
                markup=False,
            )
            return None
        return row

    @on(SessionTable.Opened)
    def _open(self, event: SessionTable.Opened) -> None:
        """Open the row's file; one that shares its id with another file gets its own id."""
        from glmtui.store import StoreError

        event.stop()
        row = self._readable_selection()
        if row is None:
            return
        session_id = row.id
        try:
            if row.same_id_as or len(self.store.files_with_id(row.id)) > 1:
                opened = self.store.open_session(row.path)
                session_id = opened.session.id
                if opened.notice:
                    self.notify(opened.notice, severity="warning", timeout=10, markup=False)
        except StoreError as error:
            self.notify(str(error), severity="error", timeout=8, markup=False)
            return
        self.dismiss(BrowserResult("open", session_id, row.path))

    # --- actions ---------------------------------------------------------------------------

    def action_back(self) -> None:
        """Clear the search, or go back to the chat."""
        search = self.query_one("#search", Input)
        if search.value:
            search.value = ""
            self.query_one(SessionTable).focus()
            return
        self.dismiss(None)

    def action_new(self) -> None:
        """Start a new chat."""
        self.dismiss(BrowserResult("new"))

    def action_rename(self) -> None:
        """Rename the selected session."""
        from glmtui.ui.screens.prompt import PromptScreen

        row = self._readable_selection()
        if row is None:
            return

        def rename(title: str | None) -> None:
            if title:
                self._apply(lambda: self.store.rename(row.path, title), f"Renamed to “{title}”.")

        self.app.push_screen(
            PromptScreen(
                "Rename session",
                row.title,
                validate=lambda text: None if text else "A title cannot be empty.",
            ),
            rename,
        )

    def action_duplicate(self) -> None:
        """Save a copy of the selected session."""
        row = self._readable_selection()
        if row is not None:
            self._apply(lambda: self.store.duplicate(row.path), "Duplicated.")

    def action_delete(self) -> None:
        """Move the selected session's file to the trash (u undoes)."""
        row = self.selected_summary
        if row is None:
            return

        def delete() -> object:
            token = self.store.delete(row.path)
            self._undo.append(token)
            return token

        label = row.title or row.name
        self._apply(delete, f"Deleted “{label}” (moved to the trash). Press u to undo.")

    def action_undo(self) -> None:
        """Restore the most recently deleted session."""
        if not self._undo:
            self.notify("Nothing to undo.", timeout=2)
            return
        token = self._undo.pop()
        self._apply(lambda: self.store.undo_delete(token), f"Restored “{token.title}”.")

    def action_sort(self) -> None:
        """Cycle through the sort orders."""
        self._sort = (self._sort + 1) % len(SORTS)
        if not self._query:
            self._show(self._rows, {})

    def action_export(self) -> None:
        """Export the selected session to a file (Markdown, JSON or TOML)."""
        from glmtui.ui.screens.prompt import ChoiceScreen, PromptScreen

        row = self._readable_selection()
        if row is None:
            return

        def chosen(fmt: str | None) -> None:
            if not fmt:
                return
            from glmtui.store import slugify

            default = Path.cwd() / f"{slugify(row.title or 'session')}.{fmt}"

            def write(target: str | None) -> None:
                if target:
                    self._export(row.path, fmt, Path(target).expanduser())

            self.app.push_screen(
                PromptScreen(
                    f"Export “{row.title}” as {fmt.upper()} to:",
                    str(default),
                    help="The file is written atomically; an existing file is replaced.",
                    validate=_writable_target,
                ),
                write,
            )

        self.app.push_screen(
            ChoiceScreen("Export as…", [("md", "Markdown"), ("json", "JSON"), ("toml", "TOML")]),
            chosen,
        )

    def _export(self, source: Path, fmt: str, target: Path) -> None:
        from glmtui.fileio import atomic_write_text
        from glmtui.store import StoreError

        try:
            text = self.store.export(source, fmt)  # type: ignore[arg-type]
            atomic_write_text(target, text)
        except (StoreError, OSError) as error:
            self.notify(f"Export failed: {error}", severity="error", timeout=8, markup=False)
            return
        self.notify(f"Exported to {target}.", timeout=5, markup=False)

    def action_import_file(self) -> None:
        """Copy a session file from elsewhere into the store."""
        from glmtui.ui.screens.prompt import PromptScreen

        def chosen(path: str | None) -> None:
            if path:
                source = Path(path).expanduser()
                self._apply(lambda: self.store.import_file(source), f"Imported {source.name}.")

        self.app.push_screen(
            PromptScreen(
                "Import a session file (.toml or .json):",
                placeholder="/path/to/session.toml",
                validate=lambda text: (
                    None if Path(text).expanduser().is_file() else "No such file."
                ),
            ),
            chosen,
        )

    def _apply(self, change: object, done: str) -> None:
        """Run a store change, report it, and list again."""
        from glmtui.store import StoreError

        try:
            change()  # type: ignore[operator]
        except StoreError as error:
            self.notify(str(error), severity="error", timeout=8, markup=False)
            return
        self.notify(done, timeout=4, markup=False)
        self._search(self._query) if self._query else self._load()


def _display_path(path: Path) -> str:
    """A path as people write it: the home folder as ``~``."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def _writable_target(text: str) -> str | None:
    if not text:
        return "Enter a file path."
    folder = Path(text).expanduser().parent
    if not folder.is_dir():
        return f"{folder} is not a folder."
    return None
