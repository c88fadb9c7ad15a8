"""WCAG contrast of a theme's text against what it is drawn on, for the bundled-theme tests.

Each check names a piece of text glmtui draws, the colour behind it (blended onto what is behind
*that*, exactly as the screen composes it) and the minimum ratio it must reach:

* **4.5** (WCAG 2.2 AA, normal text) for the body of messages, the reasoning text, the status bar
  and the message box: these are read in full, in normal-size terminal text.
* **4.5** for code tokens: code is read character by character and copied.
* **3.0** for comments in code, the reasoning title and Markdown accents (headings, links,
  bullets, inline code): each is either deliberately muted or bold/short emphasis, and 3:1 is
  WCAG's floor for text that is not body text (AA large text). Below it, text stops being
  reliably legible on a real terminal.

Run ``python -m tests.theme_contrast`` for the table of every bundled theme.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.color import Color
from textual.theme import Theme

from glmtui.ui.themes import CODE_TOKENS, parse_colour, resolved_variables

BODY = 4.5
CODE = 4.5
MUTED = 3.0


@dataclass(frozen=True, slots=True)
class Check:
    """One foreground/background pair and its contrast."""

    what: str
    ratio: float
    minimum: float

    @property
    def ok(self) -> bool:
        return self.ratio >= self.minimum


def luminance(colour: Color) -> float:
    """WCAG relative luminance of an opaque sRGB colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)


def contrast(foreground: Color, background: Color) -> float:
    """The WCAG contrast ratio of two opaque colours (1 to 21)."""
    a, b = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def style_colour(style: str) -> str | None:
    """The colour word of a ``[code]`` style (``"bold #abc"`` → ``"#abc"``), if any."""
    words = [w for w in style.split() if w not in {"bold", "italic", "underline", "strike", "dim"}]
    return words[0] if words else None


def checks(theme: Theme) -> list[Check]:
    """Every contrast check for ``theme``."""
    v = resolved_variables(theme)
    background = Color.parse(v["background"])

    def on(value: str, under: Color) -> Color:
        return parse_colour(value, over=under)

    assistant = on(v["assistant-message-background"], background)
    user = on(v["user-message-background"], background)
    focus = on(v["message-focus-background"], background)
    code = on(v["code-block-background"], assistant)
    foreground = Color.parse(v["foreground"])
    out: list[Check] = []

    def add(what: str, fg: str | Color, bg: Color, minimum: float) -> None:
        colour = fg if isinstance(fg, Color) else on(fg, bg)
        out.append(Check(what, contrast(colour, bg), minimum))

    add("text on your message", foreground, user, BODY)
    add("text on a reply", foreground, assistant, BODY)
    add("text on the selected message", foreground, focus, BODY)
    add("reasoning text", v["reasoning-foreground"], assistant, BODY)
    add("reasoning text, selected", v["reasoning-foreground"], focus, BODY)
    add("reasoning title", v["reasoning-title"], assistant, MUTED)
    add("status bar", v["status-bar-foreground"], on(v["status-bar-background"], background), BODY)
    add("message box", foreground, on(v["composer-background"], background), BODY)
    for key in CODE_TOKENS:
        colour = style_colour(v[f"code-{key}"])
        if colour is not None:
            add(f"code: {key}", colour, code, MUTED if key == "comment" else CODE)
    for name in ("markdown-h1-color", "markdown-h2-color", "markdown-h3-color"):
        add(f"heading ({name})", v[name], assistant, MUTED)
    add("links, bullets, table headers", v["text-primary"], assistant, MUTED)
    boost = on(v["boost"], assistant) if v["boost"] != "transparent" else assistant
    add("inline code", v["text-accent"], boost, MUTED)
    return out


def summary(theme: Theme) -> dict[str, float]:
    """The lowest ratio per group: body, reasoning, code (comments apart), Markdown accents."""
    groups: dict[str, float] = {}
    for check in checks(theme):
        if check.what.startswith("code: comment"):
            group = "comments"
        elif check.what.startswith("code"):
            group = "code"
        elif check.what.startswith("reasoning"):
            group = "reasoning"
        elif check.what.startswith(("heading", "links", "inline")):
            group = "markdown"
        else:
            group = "body"
        groups[group] = min(groups.get(group, 99.0), check.ratio)
    return groups


if __name__ == "__main__":
    from glmtui.ui.themes import load_themes

    catalog = load_themes(None)
    for problem in catalog.problems:
        print("PROBLEM", problem)
    for name, theme in sorted(catalog.themes.items()):
        low = summary(theme)
        print(name, "dark" if theme.dark else "light", {k: round(r, 2) for k, r in low.items()})
        for check in checks(theme):
            if not check.ok:
                print(f"   FAIL {check.what}: {check.ratio:.2f} < {check.minimum}")
