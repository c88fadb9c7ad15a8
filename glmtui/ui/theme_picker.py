"""The theme picker's commands: every theme, with where it comes from and what it looks like.

Textual's own theme command lists bare names and only applies a theme once it is chosen. This
provider shows each theme's description and origin (bundled, yours, Textual's) and, instead of
setting the theme itself, posts :class:`ThemePicked` so the app can apply *and save* it. The
live preview while moving through the list is the app's job (it sees the palette's
``OptionHighlighted`` messages); the current theme is listed first so opening the picker
previews nothing new.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape
from textual.message import Message
from textual.theme import Theme

from glmtui.ui.themes import BUNDLED, FileTheme


class ThemePicked(Message):
    """A theme was chosen in the picker: apply it and save it to the config."""

    def __init__(self, name: str) -> None:
        """
        Args:
            name: The chosen theme's name.
        """
        super().__init__()
        self.name = name


def describe(theme: Theme) -> str:
    """One line for the picker: what the theme is, light or dark, and where it comes from."""
    mode = "dark" if theme.dark else "light"
    if isinstance(theme, FileTheme):
        origin = "bundled" if theme.origin == BUNDLED else "yours"
        if theme.path is not None and theme.origin != BUNDLED:
            origin += f", {theme.path.name}"
        parts = [" ".join(theme.description.split()), mode, origin]
    else:
        parts = ["Textual theme", mode]
    return " · ".join(part for part in parts if part)


class ThemeCommands(Provider):
    """Every registered theme, the current one first, then by name."""

    def _themes(self) -> Iterator[tuple[str, str]]:
        themes = self.app.available_themes
        current = self.app.theme
        names = sorted(themes, key=lambda name: (name != current, name))
        for name in names:
            yield name, escape(describe(themes[name]))

    def _pick(self, name: str) -> None:
        self.app.post_message(ThemePicked(name))

    async def discover(self) -> Hits:
        for name, help_text in self._themes():
            yield DiscoveryHit(name, partial(self._pick, name), text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text in self._themes():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(self._pick, name),
                    text=name,
                    help=help_text,
                )
