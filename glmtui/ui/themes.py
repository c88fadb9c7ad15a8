"""Theme files: TOML themes, bundled and the user's, turned into validated Textual themes.

A theme is one TOML file: Textual's theme colours (``primary``, ``background`` …), a
``[variables]`` table for glmtui's own colours (:data:`VARIABLES`; any left out are derived by
:func:`theme_variable_defaults`) and a ``[code]`` table of styles for fenced code
(:data:`CODE_TOKENS`), optionally started from a Pygments style with ``code_style``. Everything
becomes one :class:`textual.theme.Theme` whose ``variables`` hold glmtui's colours and the code
styles (``code-keyword`` …), so switching themes is just Textual's ``App.theme``: nothing is
re-parsed or re-highlighted.

Themes come from two folders: the bundled ones (``themes/`` at the top of the repository,
installed as ``glmtui/_themes``) and the user's (``<config dir>/themes``); a user theme with
the name of a bundled one replaces it. A broken file never stops the app: :func:`load_themes`
collects one :class:`ThemeProblem` per file so the app can report them all in one notice.

This runs at startup, so it imports nothing beyond ``tomllib``, ``textual.color`` and
``textual.theme`` (both already loaded by ``textual.app``); Pygments is imported only for a theme
that names a ``code_style``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from textual.color import Color, ColorParseError
from textual.theme import Theme

from glmtui.config import DEFAULT_THEME
from glmtui.domain.text import visible_controls

THEME_COLOURS: tuple[str, ...] = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "warning",
    "error",
    "success",
)
"""Textual's theme colours a file may set; only ``primary`` is required (Textual derives the
rest from it)."""

THEME_KEYS: tuple[str, ...] = (
    "name",
    "dark",
    "author",
    "description",
    "code_style",
    *THEME_COLOURS,
    "variables",
    "code",
)
"""Every top-level key a theme file may hold; any other key is reported as a problem."""

VARIABLES: dict[str, str] = {
    "user-message-background": "Background of your messages.",
    "user-message-border": "The bar at the left of your messages.",
    "assistant-message-background": "Background of GLM's replies (the reasoning is on it too).",
    "assistant-message-border": "The bar at the left of GLM's replies.",
    "message-focus-background": "Background of the selected message.",
    "reasoning-foreground": "Text of the reasoning section (shown in italics).",
    "reasoning-title": 'The "▶ Reasoning · N words" line.',
    "reasoning-border": "The rule at the left of the unfolded reasoning.",
    "code-block-background": "Background of fenced code blocks.",
    "composer-background": "Background of the message box.",
    "composer-border": "Border of the message box.",
    "composer-border-focus": "Border of the message box while it has the focus.",
    "status-bar-background": "Background of the status bar (model, tokens, context, cost).",
    "status-bar-foreground": "Text of the status bar.",
}
"""glmtui's own CSS variables, each with what it colours. Values are colours, optionally with
an opacity (``"#7a93ff 40%"``); a theme may also set any of Textual's own variables."""


class CodeToken(NamedTuple):
    """One key of a theme's ``[code]`` table: the Pygments token types it styles."""

    tokens: tuple[str, ...]
    """Pygments token type names; sub-types inherit (``Keyword`` covers ``Keyword.Reserved``)."""
    doc: str
    example: str


CODE_TOKENS: dict[str, CodeToken] = {
    "comment": CodeToken(("Comment",), "Comments.", "# note"),
    "keyword": CodeToken(("Keyword",), "Keywords.", "def, return, if"),
    "keyword-constant": CodeToken(("Keyword.Constant",), "Constant keywords.", "True, None"),
    "keyword-namespace": CodeToken(("Keyword.Namespace",), "Import keywords.", "import, from"),
    "keyword-type": CodeToken(("Keyword.Type",), "Type keywords.", "int in C"),
    "operator": CodeToken(("Operator",), "Operators.", "+, ->, ="),
    "operator-word": CodeToken(("Operator.Word",), "Word operators.", "and, not, in"),
    "name": CodeToken(("Name",), "Other names (identifiers).", "name"),
    "name-builtin": CodeToken(("Name.Builtin",), "Built-in names.", "str, print, self"),
    "name-function": CodeToken(("Name.Function",), "Function names where defined.", "greet"),
    "name-class": CodeToken(("Name.Class",), "Class names where defined.", "class Greeter"),
    "name-decorator": CodeToken(("Name.Decorator",), "Decorators.", "@cache"),
    "name-constant": CodeToken(("Name.Constant",), "Named constants.", "PI in some lexers"),
    "name-attribute": CodeToken(("Name.Attribute",), "Attributes.", "HTML href"),
    "name-tag": CodeToken(("Name.Tag",), "Tags and keys.", "<div>, JSON keys"),
    "name-variable": CodeToken(("Name.Variable",), "Variables.", "$HOME"),
    "string": CodeToken(("Literal.String",), "Strings.", '"Hello"'),
    "string-doc": CodeToken(("Literal.String.Doc",), "Docstrings.", '"""Docs."""'),
    "string-escape": CodeToken(
        ("Literal.String.Escape", "Literal.String.Interpol"),
        "Escapes and interpolation.",
        "\\n, {name}",
    ),
    "number": CodeToken(("Literal.Number",), "Numbers.", "42"),
    "heading": CodeToken(
        ("Generic.Heading", "Generic.Subheading"), "Headings (diff, Markdown).", "@@ -1 +1 @@"
    ),
    "inserted": CodeToken(("Generic.Inserted",), "Added lines of a diff.", "+ new"),
    "deleted": CodeToken(("Generic.Deleted",), "Removed lines of a diff.", "- old"),
    "error": CodeToken(("Error", "Generic.Error"), "What the lexer could not read.", ""),
}
"""The keys of a theme's ``[code]`` table. Each becomes the CSS variable ``code-<key>`` that
:mod:`glmtui.ui.markdown_render` uses for those tokens. Anything not listed (punctuation,
plain text) is drawn in the theme's text colour."""

STYLE_WORDS = frozenset({"bold", "italic", "underline", "strike", "dim"})
"""Words a ``[code]`` style may combine with one colour."""
TEXT_STYLE_WORDS = frozenset(
    [
        "bold",
        "b",
        "italic",
        "i",
        "underline",
        "u",
        "underline2",
        "uu",
        "reverse",
        "r",
        "strike",
        "s",
        "dim",
        "d",
        "blink",
        "blink2",
        "overline",
        "o",
        "none",
        "not",
    ]
)
"""Words Textual accepts in its ``*-text-style`` variables."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_OPACITY = re.compile(r"^(100|[0-9]{1,2})(\.[0-9]+)?%$")

_CONTROL_NAME = "the file name holds control characters; rename the file to use it."

BUNDLED = "bundled"
USER = "user"


class ThemeError(Exception):
    """A theme file cannot be used. The message says what is wrong, without the path."""


class FileTheme(Theme):
    """A Textual theme read from a file, with what the picker shows about it.

    A plain subclass rather than a dataclass: generating a dataclass over Theme's fields costs
    milliseconds at every startup, and nothing compares or prints these.
    """

    def __init__(
        self,
        *,
        author: str = "",
        description: str = "",
        origin: str = "",
        path: Path | None = None,
        **theme: Any,
    ) -> None:
        """
        Args:
            author: Who made it.
            description: One line for the theme picker.
            origin: ``bundled`` or ``user``.
            path: The file it was read from.
            **theme: :class:`textual.theme.Theme`'s fields.
        """
        super().__init__(**theme)
        self.author = author
        self.description = description
        self.origin = origin
        self.path = path


class ThemeProblem(NamedTuple):
    """Why one theme file was skipped."""

    path: Path
    message: str

    def __str__(self) -> str:
        # A file name or a key in it may hold anything, escape sequences included: shown.
        return visible_controls(f"{self.path}: {self.message}")


class ThemeCatalog(NamedTuple):
    """Every theme that loaded, by name, and a problem for each file that did not."""

    themes: dict[str, FileTheme]
    problems: tuple[ThemeProblem, ...] = ()

    def describe_problems(self) -> str:
        """All problems as one message, one file per line (empty if there are none)."""
        return "\n".join(f"• {problem}" for problem in self.problems)


# --- where themes live -----------------------------------------------------------------------


def bundled_themes_dir() -> Path | None:
    """The bundled theme files: ``glmtui/_themes`` when installed, else the source tree's.

    The wheel carries ``themes/`` as ``glmtui/_themes``; an editable install or a checkout
    has no such folder, so the repository's ``themes/`` is used, but only when it really is
    glmtui's source tree (a ``pyproject.toml`` beside it), never a stray ``site-packages/themes``.
    """
    package = Path(__file__).resolve().parent.parent  # glmtui/, from glmtui/ui/themes.py
    installed = package / "_themes"
    if installed.is_dir():
        return installed
    source = package.parent / "themes"
    if source.is_dir() and (package.parent / "pyproject.toml").is_file():
        return source
    return None


def load_themes(user_dir: Path | None, bundled_dir: Path | None = None) -> ThemeCatalog:
    """Load the bundled themes, then the user's, which replace bundled ones of the same name.

    Args:
        user_dir: The user's theme folder (it need not exist); None for none.
        bundled_dir: The bundled themes (default: :func:`bundled_themes_dir`).

    Returns:
        The themes by name and one problem per file that could not be used.
    """
    bundled = bundled_dir if bundled_dir is not None else bundled_themes_dir()
    themes: dict[str, FileTheme] = {}
    problems: list[ThemeProblem] = []
    for folder, origin in ((bundled, BUNDLED), (user_dir, USER)):
        seen: dict[str, Path] = {}
        for path in _theme_files(folder):
            if visible_controls(path.name) != path.name:  # the picker shows the file's name
                problems.append(ThemeProblem(path, _CONTROL_NAME))
                continue
            try:
                theme = load_theme_file(path, origin)
            except ThemeError as error:
                problems.append(ThemeProblem(path, str(error)))
                continue
            if theme.name in seen:
                message = f"the name '{theme.name}' is already used by {seen[theme.name].name}."
                problems.append(ThemeProblem(path, message))
                continue
            seen[theme.name] = path
            themes[theme.name] = theme
    return ThemeCatalog(themes, tuple(problems))


def _theme_files(folder: Path | None) -> list[Path]:
    if folder is None:
        return []
    try:
        return sorted(p for p in folder.glob("*.toml") if p.is_file())
    except OSError:
        return []


def load_theme_file(path: Path, origin: str = USER) -> FileTheme:
    """Read and validate one theme file.

    Raises:
        ThemeError: the file cannot be read, is not TOML or is not a valid theme.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ThemeError("not UTF-8 text.") from None
    except OSError as exc:
        raise ThemeError(f"cannot be read ({exc.strerror}).") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"not valid TOML ({exc}).") from None
    return parse_theme(data, origin=origin, path=path)


# --- validation --------------------------------------------------------------------------------


def parse_theme(
    data: Mapping[str, Any], *, origin: str = USER, path: Path | None = None
) -> FileTheme:
    """Validate a theme file's TOML into a :class:`FileTheme`.

    Raises:
        ThemeError: a key is unknown, a value has the wrong type, a colour or style does not
            parse, or ``name`` is missing.
    """
    unknown = [key for key in data if key not in THEME_KEYS]
    if unknown:
        raise ThemeError(_unknown(unknown[0], THEME_KEYS, "key"))
    name = data.get("name")
    if name is None:
        raise ThemeError("'name' is missing (e.g. name = \"harbour\").")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ThemeError(
            f"'name' must be letters, digits, '-' or '_', starting with a letter or digit "
            f"(got {name!r})."
        )
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError(f"'dark' must be true or false (got {dark!r}).")
    text_fields = {key: _string(data, key) for key in ("author", "description", "code_style")}
    if "primary" not in data:
        raise ThemeError("'primary' is missing (every theme needs a primary colour).")
    colours = {key: _colour(data[key], key) for key in THEME_COLOURS if key in data}

    variables = _variables(data.get("variables", {}))
    code: dict[str, str] = {}
    if text_fields["code_style"]:
        code, background = pygments_code_styles(text_fields["code_style"])
        variables.setdefault("code-block-background", background)
    code.update(_code_styles(data.get("code", {})))
    variables.update({f"code-{key}": style for key, style in code.items()})

    return FileTheme(
        name=name,
        dark=dark,
        variables=variables,
        # Shown in the theme picker: control characters made visible, never obeyed.
        author=visible_controls(text_fields["author"]),
        description=visible_controls(text_fields["description"]),
        origin=origin,
        path=path,
        primary=colours["primary"],
        secondary=colours.get("secondary"),
        accent=colours.get("accent"),
        foreground=colours.get("foreground"),
        background=colours.get("background"),
        surface=colours.get("surface"),
        panel=colours.get("panel"),
        warning=colours.get("warning"),
        error=colours.get("error"),
        success=colours.get("success"),
    )


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ThemeError(f"'{key}' must be a string (got {value!r}).")
    return value


def _unknown(key: str, allowed: Iterable[str], what: str, where: str = "") -> str:
    from difflib import get_close_matches

    close = get_close_matches(key, list(allowed), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"unknown {what} '{key}'{where}.{hint}"


def _colour(value: Any, key: str, *, opacity: bool = False) -> str:
    """A colour as written, once Textual can parse it; ``opacity`` allows ``"#abc 40%"``."""
    where = f"'{key}'"
    if not isinstance(value, str) or not value.strip():
        raise ThemeError(f'{where} must be a colour string like "#7a93ff" (got {value!r}).')
    words = value.split()
    if opacity and len(words) == 2 and _OPACITY.match(words[1]):
        words = words[:1]
    if len(words) != 1:
        extra = " (an opacity like 40% may follow)" if opacity else ""
        raise ThemeError(f"{where} must be one colour{extra} (got {value!r}).")
    try:
        colour = Color.parse(words[0])
    except ColorParseError:
        raise ThemeError(
            f"{where} is not a colour: {value!r} (use #rrggbb, rgb(…), hsl(…) or a colour name)."
        ) from None
    if colour.ansi is not None:
        raise ThemeError(f"{where}: ANSI colour names are not supported ({value!r}); use #rrggbb.")
    if not opacity and colour.a < 1:
        raise ThemeError(f"{where} must be opaque (got {value!r}).")
    return value.strip()


def _table(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ThemeError(f"'{name}' must be a table, e.g. [{name}].")
    return value


def _variables(table: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in _table(table, "variables").items():
        if key.startswith("code-") and key[5:] in CODE_TOKENS:
            raise ThemeError(f"'{key}' belongs in the [code] table as '{key[5:]}'.")
        if key in VARIABLES:
            out[key] = _colour(value, f"variables.{key}", opacity=True)
        elif key in textual_variables():
            out[key] = _textual_value(value, f"variables.{key}")
        else:
            known = [*VARIABLES, *textual_variables()]
            raise ThemeError(_unknown(key, known, "variable", " in [variables]"))
    return out


def _textual_value(value: Any, key: str) -> str:
    """One of Textual's variables: a text style (``*-style`` keys) or a colour.

    Checked as strictly as glmtui's own, because a value Textual cannot parse would stop the
    app with a stylesheet error the moment the theme is applied.
    """
    if key.endswith("-style"):
        words = value.split() if isinstance(value, str) else []
        if not words or any(word not in TEXT_STYLE_WORDS for word in words):
            raise ThemeError(
                f'\'{key}\' must be text styles such as "bold underline" or "none" (got {value!r}).'
            )
        return " ".join(words)
    if isinstance(value, str) and value.split()[:1] in (["auto"], ["initial"]):
        words = value.split()
        if len(words) == 1 or (words[0] == "auto" and len(words) == 2 and _OPACITY.match(words[1])):
            return " ".join(words)
    return _colour(value, key, opacity=True)


def _code_styles(table: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in _table(table, "code").items():
        if key not in CODE_TOKENS:
            raise ThemeError(_unknown(key, CODE_TOKENS, "token", " in [code]"))
        out[key] = check_code_style(value, f"code.{key}")
    return out


def check_code_style(value: Any, key: str) -> str:
    """Validate a ``[code]`` style: style words (:data:`STYLE_WORDS`) and at most one colour.

    Raises:
        ThemeError: the value is not a string, or holds an unknown word or two colours.
    """
    if not isinstance(value, str) or not value.strip():
        raise ThemeError(f"'{key}' must be a style string like \"bold #c49bff\" (got {value!r}).")
    colours = [word for word in value.split() if word.lower() not in STYLE_WORDS]
    if len(colours) > 1:
        raise ThemeError(
            f"'{key}' must be one colour plus any of {', '.join(sorted(STYLE_WORDS))} "
            f"(got {value!r})."
        )
    for word in colours:
        _colour(word, key)
    return " ".join(value.split())


@cache
def textual_variables() -> frozenset[str]:
    """The names of Textual's own theme variables (``footer-key-foreground`` …)."""
    from textual.design import ColorSystem

    return frozenset(ColorSystem(primary="#000000").generate())


# --- code styles from Pygments -----------------------------------------------------------------


def pygments_code_styles(style_name: str) -> tuple[dict[str, str], str]:
    """The ``[code]`` styles and the background of a Pygments style (``monokai`` …).

    Tokens the style leaves uncoloured get its text colour, so every token stays readable on
    its background whatever the theme's own colours are.

    Raises:
        ThemeError: there is no Pygments style of that name.
    """
    from difflib import get_close_matches

    from pygments.styles import get_all_styles, get_style_by_name
    from pygments.token import Token, string_to_tokentype
    from pygments.util import ClassNotFound

    try:
        style = get_style_by_name(style_name)
    except ClassNotFound:
        close = get_close_matches(style_name, list(get_all_styles()), n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ThemeError(f"'code_style': no Pygments style named {style_name!r}.{hint}") from None
    background = Color.parse(style.background_color or "#000000")
    text = style.style_for_token(Token.Text)["color"] or style.style_for_token(Token)["color"]
    fallback = f"#{text}" if text else background.get_contrast_text().hex
    out: dict[str, str] = {}
    for key, spec in CODE_TOKENS.items():
        info = style.style_for_token(string_to_tokentype(spec.tokens[0]))
        words = [word for word in ("bold", "italic", "underline") if info.get(word)]
        words.append(f"#{info['color']}" if info.get("color") else fallback)
        out[key] = " ".join(words)
    return out, background.hex


# --- derived variables ---------------------------------------------------------------------------


def theme_variable_defaults(colors: Mapping[str, str]) -> dict[str, str]:
    """glmtui's own CSS variables and code styles, derived from a theme's generated colours.

    Themes may set any of these (``[variables]``, ``[code]``); these defaults keep every theme,
    Textual's built-in ones included, readable. ``colors`` is Textual's generated colour
    system plus the theme's own variables, so a declared ``code-block-background`` is what the
    derived code colours are measured against.
    """
    if Color.parse(colors["background"]).ansi is not None:
        return _ansi_defaults(colors)

    def mix(base: str, over: str, amount: float) -> str:
        return Color.parse(base).blend(Color.parse(over), amount).hex

    background = colors["background"]
    foreground = colors["foreground"]
    code_background = mix(background, foreground, 0.07)
    if "code-block-background" in colors:
        code_background = parse_colour(colors["code-block-background"], over=background).hex
    derived = {
        "user-message-background": mix(background, colors["primary"], 0.12),
        "user-message-border": colors["primary"],
        "assistant-message-background": mix(background, foreground, 0.03),
        "assistant-message-border": colors["secondary"],
        "message-focus-background": mix(background, colors["accent"], 0.12),
        "reasoning-foreground": mix(foreground, background, 0.35),
        "reasoning-title": mix(foreground, background, 0.25),
        "reasoning-border": mix(background, foreground, 0.25),
        "code-block-background": code_background,
        "composer-background": colors["surface"],
        "composer-border": mix(background, foreground, 0.25),
        "composer-border-focus": colors["primary"],
        "status-bar-background": colors["panel"],
        "status-bar-foreground": foreground,
    }
    derived.update(_derived_code_styles(colors, mix(code_background, foreground, 0.6), foreground))
    return derived


def _derived_code_styles(colors: Mapping[str, str], muted: str, text: str) -> dict[str, str]:
    """Textual's default highlighting, on the theme's readable text-* colours."""
    primary, secondary = colors["text-primary"], colors["text-secondary"]
    accent, warning = colors["text-accent"], colors["text-warning"]
    error, success = colors["text-error"], colors["text-success"]
    styles = {
        "comment": f"italic {muted}",
        "keyword": accent,
        "keyword-constant": f"bold {success}",
        "keyword-namespace": error,
        "keyword-type": f"bold {text}",
        "operator": f"bold {text}",
        "operator-word": f"bold {error}",
        "name": primary,
        "name-builtin": accent,
        "name-function": f"underline {warning}",
        "name-class": f"bold {warning}",
        "name-decorator": f"bold {primary}",
        "name-constant": error,
        "name-attribute": warning,
        "name-tag": f"bold {primary}",
        "name-variable": secondary,
        "string": success,
        "string-doc": f"italic {success}",
        "string-escape": warning,
        "number": warning,
        "heading": f"underline {primary}",
        "inserted": success,
        "deleted": error,
        "error": f"bold {error}",
    }
    return {f"code-{key}": style for key, style in styles.items()}


def _ansi_defaults(colors: Mapping[str, str]) -> dict[str, str]:
    """ANSI themes draw in the terminal's own palette: no blending, only named colours."""
    derived = {
        "user-message-background": "ansi_default",
        "user-message-border": colors["primary"],
        "assistant-message-background": "ansi_default",
        "assistant-message-border": colors["secondary"],
        "message-focus-background": "ansi_bright_black",
        "reasoning-foreground": "ansi_bright_black",
        "reasoning-title": "ansi_default",
        "reasoning-border": "ansi_bright_black",
        "code-block-background": "ansi_default",
        "composer-background": "ansi_default",
        "composer-border": "ansi_bright_black",
        "composer-border-focus": colors["primary"],
        "status-bar-background": "ansi_default",
        "status-bar-foreground": "ansi_default",
    }
    derived.update(_derived_code_styles(colors, "ansi_bright_black", "ansi_default"))
    return derived


def parse_colour(value: str, over: str | Color = "#000000") -> Color:
    """A variable's colour, an opacity (``"#7a93ff 40%"``) blended onto ``over``.

    Raises:
        ColorParseError: the value is not a colour.
    """
    words = value.split()
    colour = Color.parse(words[0])
    if len(words) == 2 and _OPACITY.match(words[1]):
        colour = colour.multiply_alpha(float(words[1][:-1]) / 100)
    if colour.a < 1:
        base = over if isinstance(over, Color) else Color.parse(over)
        colour = base.blend(colour.with_alpha(1), colour.a)
    return colour


def resolved_variables(theme: Theme) -> dict[str, str]:
    """Every CSS variable of ``theme`` as the app sees it: Textual's, then glmtui's defaults
    under the theme's own values (the order of ``App.get_css_variables``)."""
    colors = theme.to_color_system().generate()
    merged = {**colors, **theme.variables}
    return {**theme_variable_defaults(merged), **merged}


def fallback_theme(available: Iterable[str]) -> str:
    """The theme to use when the configured one is missing: glmtui's default, else Textual's."""
    return DEFAULT_THEME if DEFAULT_THEME in set(available) else "textual-dark"
