"""Choose a file or folder to attach: the working folder as a tree (F9, or "attach a
file…" in the palette).

Hidden files and folders are not listed (type ``@.`` in the composer to reach them); the tree
starts at the working folder and Backspace climbs to its parent.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Static

from glmtui.domain.text import visible_controls

HELP = "Enter attaches a file · a attaches a folder · Backspace: parent folder · Esc cancels"


class VisibleTree(DirectoryTree):
    """A directory tree without hidden entries, and with the app's marks for folders (the
    emoji Textual draws by default are two cells wide in some terminals, missing in others)."""

    ICON_NODE = "▸ "
    ICON_NODE_EXPANDED = "▾ "
    ICON_FILE = "  "

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if not path.name.startswith(".")]


class FilePicker(ModalScreen[Path | None]):
    """Pick a file or folder to attach; answers its path, or None.

    | Key | Action |
    |---|---|
    | Up / Down | Move |
    | Enter | On a file: attach it; on a folder: open or close it |
    | a | Attach the highlighted file or folder |
    | Backspace | Show the parent folder |
    | Esc | Cancel |
    """

    DEFAULT_CSS = """
    FilePicker { align: center middle; }
    FilePicker > Vertical {
        width: 90; max-width: 95%; height: 80%;
        background: $panel; border: round $primary; padding: 0 1;
    }
    FilePicker .picker-title { text-style: bold; padding: 1 0 0 0; }
    FilePicker .picker-help { color: $text-muted; padding: 0 0 1 0; }
    FilePicker DirectoryTree { height: 1fr; background: $panel; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("a", "attach", "Attach", id="picker.attach"),
        Binding("backspace", "up", "Parent folder", id="picker.up"),
    ]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        """The folder the tree shows."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title(), classes="picker-title", markup=False)
            yield Static(HELP, classes="picker-help", markup=False)
            yield VisibleTree(self.folder)

    @property
    def folders(self) -> VisibleTree:
        """The folder's tree."""
        return self.query_one(VisibleTree)

    def on_mount(self) -> None:
        self.folders.focus()

    def _title(self) -> str:
        return visible_controls(f"Attach a file or folder from {self.folder}")

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(event.path)

    def action_attach(self) -> None:
        """Attach the highlighted entry, file or folder."""
        node = self.folders.cursor_node
        if node is not None and node.data is not None:
            self.dismiss(node.data.path)

    def action_up(self) -> None:
        """Show the parent of the folder shown."""
        parent = self.folder.parent
        if parent != self.folder:
            self.folder = parent
            self.folders.path = parent
            self.query_one(".picker-title", Static).update(self._title())

    def action_cancel(self) -> None:
        """Close without attaching anything."""
        self.dismiss(None)
