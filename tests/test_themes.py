"""Theme files: validation, bundled themes and their contrast, user themes, the picker, the wheel.

Pictures of every bundled theme are in tests/test_snapshots_themes.py; the contrast thresholds
and why they were chosen are in tests/theme_contrast.py.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from textual.color import Color
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.theme import BUILTIN_THEMES
from textual.widgets import OptionList

from glmtui.config import DEFAULT_THEME, Overrides, load_settings, read_config_file
from glmtui.ui.app import GlmApp
from glmtui.ui.markdown_render import render_markdown_block
from glmtui.ui.themes import (
    CODE_TOKENS,
    VARIABLES,
    FileTheme,
    ThemeError,
    bundled_themes_dir,
    load_theme_file,
    load_themes,
    parse_theme,
    pygments_code_styles,
    resolved_variables,
    theme_variable_defaults,
)
from tests.theme_contrast import checks, contrast, summary
from tests.ui_helpers import Notices, make_app, sample_session, settle, until

REPO = Path(__file__).resolve().parent.parent
BUNDLED = load_themes(None)
MINIMAL = 'name = "harbour"\nprimary = "#6c8cff"\n'


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(path: Path) -> tuple[bytes, int] | None:
    """A file's bytes and permission bits, or None if it does not exist."""
    if not path.exists():
        return None
    return path.read_bytes(), stat.S_IMODE(path.stat().st_mode)


# --- the bundled themes ------------------------------------------------------------------------


def test_bundled_themes_load_without_problems() -> None:
    assert BUNDLED.problems == ()
    names = set(BUNDLED.themes)
    assert DEFAULT_THEME in names
    assert len(names) >= 5
    assert {theme.dark for theme in BUNDLED.themes.values()} == {True, False}


@pytest.mark.parametrize("name", sorted(BUNDLED.themes))
def test_bundled_theme_is_complete_and_named_after_its_file(name: str) -> None:
    theme = BUNDLED.themes[name]
    assert theme.path is not None
    assert theme.path.stem == name
    assert theme.origin == "bundled"
    assert theme.description
    assert theme.author
    data = tomllib.loads(theme.path.read_text(encoding="utf-8"))
    # Bundled themes spell everything out, so what the contrast test measures is what they say.
    assert set(data["variables"]) >= set(VARIABLES)
    assert set(data["code"]) == set(CODE_TOKENS)
    assert all(data.get(key) for key in ("primary", "foreground", "background", "surface"))
    assert name not in BUILTIN_THEMES, "a bundled theme must not hide one of Textual's"


@pytest.mark.parametrize("name", sorted(BUNDLED.themes))
def test_bundled_theme_contrast(name: str) -> None:
    failures = [c for c in checks(BUNDLED.themes[name]) if not c.ok]
    assert not failures, (
        "\n".join(f"{c.what}: {c.ratio:.2f} < {c.minimum}" for c in failures)
        + f"\n(lowest per group: {summary(BUNDLED.themes[name])})"
    )


def test_high_contrast_reaches_aaa_everywhere() -> None:
    low = min(checks(BUNDLED.themes["high-contrast"]), key=lambda c: c.ratio)
    assert low.ratio >= 7, f"{low.what}: {low.ratio:.2f}"


def test_contrast_formula() -> None:
    assert contrast(Color.parse("#000000"), Color.parse("#ffffff")) == pytest.approx(21)
    assert contrast(Color.parse("#777777"), Color.parse("#ffffff")) == pytest.approx(4.48, abs=0.01)


# --- defaults: a theme that sets nothing of glmtui's still works ---------------------------------


@pytest.mark.parametrize("name", sorted(BUILTIN_THEMES))
def test_defaults_cover_every_variable_for_textual_themes(name: str) -> None:
    theme = BUILTIN_THEMES[name]
    colors = theme.to_color_system().generate()
    defaults = theme_variable_defaults({**colors, **theme.variables})
    assert set(defaults) == set(VARIABLES) | {f"code-{key}" for key in CODE_TOKENS}
    assert all(value.strip() for value in defaults.values())


def test_derived_code_colours_follow_a_declared_code_background() -> None:
    theme = parse_theme(
        {**tomllib.loads(MINIMAL), "variables": {"code-block-background": "#ffffff"}}
    )
    variables = resolved_variables(theme)
    assert variables["code-block-background"] == "#ffffff"
    comment = variables["code-comment"].split()[-1]
    # The comment is mixed from the foreground toward the *declared* white background.
    assert Color.parse(comment).brightness > 0.4


async def test_minimal_user_theme_renders(config_file: Path) -> None:
    textual_variables = (
        '[variables]\ntext = "auto 90%"\nlink-background = "initial"\n'
        'block-cursor-text-style = "b reverse"\nborder = "#6c8cff 50%"\n'
    )
    write(config_file.parent / "themes", "harbour.toml", MINIMAL + textual_variables)
    app = make_app(None, session=sample_session(), theme="harbour")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "harbour"
        assert app.theme_variables["code-keyword"]
        assert app.theme_variables["reasoning-foreground"]


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('name = "x"\nprimary = "#fff"\ncolour = "#000"\n', "unknown key 'colour'"),
        ('name = "x"\nprimery = "#fff"\n', "Did you mean 'primary'?"),
        ('primary = "#fff"\n', "'name' is missing"),
        ('name = "two words"\nprimary = "#fff"\n', "'name' must be letters"),
        ('name = "x"\n', "'primary' is missing"),
        ('name = "x"\nprimary = "blurple"\n', "'primary' is not a colour: 'blurple'"),
        ('name = "x"\nprimary = "#12345"\n', "'primary' is not a colour"),
        ('name = "x"\nprimary = "#fff"\nbackground = 12\n', "'background' must be a colour"),
        ('name = "x"\nprimary = "ansi_red"\n', "ANSI colour names are not supported"),
        ('name = "x"\nprimary = "#ffffff80"\n', "'primary' must be opaque"),
        ('name = "x"\nprimary = "#fff"\ndark = "yes"\n', "'dark' must be true or false"),
        ('name = "x"\nprimary = "#fff"\nvariables = 3\n', "'variables' must be a table"),
        (
            'name = "x"\nprimary = "#fff"\n[variables]\nreasoning-fg = "#fff"\n',
            "unknown variable 'reasoning-fg' in [variables]. Did you mean 'reasoning-foreground'?",
        ),
        (
            'name = "x"\nprimary = "#fff"\n[variables]\nreasoning-title = "grey-ish"\n',
            "'variables.reasoning-title' is not a colour",
        ),
        (
            'name = "x"\nprimary = "#fff"\n[variables]\ncode-keyword = "#fff"\n',
            "belongs in the [code] table as 'keyword'",
        ),
        (
            'name = "x"\nprimary = "#fff"\n[code]\nkeywords = "#fff"\n',
            "unknown token 'keywords' in [code]. Did you mean 'keyword'?",
        ),
        (
            'name = "x"\nprimary = "#fff"\n[variables]\nfooter-key-foreground = "blurple"\n',
            "'variables.footer-key-foreground' is not a colour",
        ),
        (
            'name = "x"\nprimary = "#fff"\n[variables]\nlink-style = "shiny"\n',
            "'variables.link-style' must be text styles",
        ),
        ('name = "x"\nprimary = "#fff"\n[code]\nstring = "#fff #000"\n', "one colour plus"),
        ('name = "x"\nprimary = "#fff"\n[code]\nstring = "bold nope"\n', "is not a colour"),
        ('name = "x"\nprimary = "#fff"\ncode_style = "monokia"\n', "Did you mean 'monokai'"),
    ],
)
def test_invalid_theme_is_explained(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ThemeError) as caught:
        load_theme_file(path)
    assert problem in str(caught.value)


def test_toml_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.toml", 'name = "x"\nprimary = \n')
    with pytest.raises(ThemeError, match=r"not valid TOML .*line 2"):
        load_theme_file(path)


def test_binary_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ThemeError, match="not UTF-8"):
        load_theme_file(path)


def test_valid_file_becomes_a_textual_theme(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "harbour.toml",
        'name = "harbour"\ndark = false\nauthor = "Me"\ndescription = "Calm"\n'
        'primary = "#6c8cff"\nbackground = "#fafafa"\n'
        '[variables]\nreasoning-foreground = "#555555"\nfooter-key-foreground = "#6c8cff"\n'
        'user-message-background = "#6c8cff 15%"\n'
        '[code]\nkeyword = "bold  #7c3aed"\ncomment = "italic #666666"\n',
    )
    theme = load_theme_file(path)
    assert isinstance(theme, FileTheme)
    assert (theme.name, theme.dark, theme.author, theme.description) == (
        "harbour",
        False,
        "Me",
        "Calm",
    )
    assert (theme.primary, theme.background, theme.path) == ("#6c8cff", "#fafafa", path)
    assert theme.variables == {
        "reasoning-foreground": "#555555",
        "footer-key-foreground": "#6c8cff",
        "user-message-background": "#6c8cff 15%",
        "code-keyword": "bold #7c3aed",
        "code-comment": "italic #666666",
    }


def test_code_style_starts_from_pygments() -> None:
    styles, background = pygments_code_styles("monokai")
    assert set(styles) == set(CODE_TOKENS)
    assert background == "#272822"
    theme = parse_theme(
        {**tomllib.loads(MINIMAL), "code_style": "monokai", "code": {"string": "#ffffff"}}
    )
    assert theme.variables["code-block-background"] == "#272822"
    assert theme.variables["code-string"] == "#ffffff"  # [code] wins over code_style
    assert theme.variables["code-keyword"] == styles["keyword"]


# --- loading: bundled + user ------------------------------------------------------------------


def test_user_theme_overrides_bundled_and_problems_name_each_file(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    write(
        user, "mine.toml", f'name = "{DEFAULT_THEME}"\nprimary = "#ff0000"\ndescription = "Mine"\n'
    )
    write(user, "broken.toml", "name = \n")
    write(user, "nameless.toml", 'primary = "#ff0000"\n')
    write(user, "twin.toml", f'name = "{DEFAULT_THEME}"\nprimary = "#00ff00"\n')
    write(user, "notes.txt", "not a theme")
    catalog = load_themes(user)
    mine = catalog.themes[DEFAULT_THEME]
    assert (mine.origin, mine.primary, mine.description) == ("user", "#ff0000", "Mine")
    assert set(BUNDLED.themes) <= set(catalog.themes)
    problems = {p.path.name: p.message for p in catalog.problems}
    assert set(problems) == {"broken.toml", "nameless.toml", "twin.toml"}
    assert "not valid TOML" in problems["broken.toml"]
    assert "'name' is missing" in problems["nameless.toml"]
    assert "already used by mine.toml" in problems["twin.toml"]
    described = catalog.describe_problems()
    assert described.count("\n") == 2
    assert str(user / "broken.toml") in described


def test_missing_user_folder_is_fine(tmp_path: Path) -> None:
    catalog = load_themes(tmp_path / "nowhere")
    assert catalog.problems == ()
    assert set(catalog.themes) == set(BUNDLED.themes)


# --- the app: startup, fallback, --theme, the picker --------------------------------------------


async def test_bad_files_are_reported_once_and_the_app_falls_back(config_file: Path) -> None:
    themes = config_file.parent / "themes"
    write(themes, "ocean.toml", 'name = "ocean"\nprimary = "#0000zz"\n')
    write(themes, "typo.toml", 'name = "typo"\nprimary = "#fff"\nforground = "#000"\n')
    write(themes, "fine.toml", 'name = "fine"\nprimary = "#336699"\n')
    app = make_app(None, theme="ocean")  # the configured theme is the broken one
    notices = Notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == DEFAULT_THEME
        assert "fine" in app.available_themes
        assert len(notices.seen) == 1
        (notice,) = notices.seen
        text = notice["message"]
        assert notice["severity"] == "warning"
        assert notice["markup"] is False
        assert f"{themes / 'ocean.toml'}: 'primary' is not a colour" in text
        assert f"{themes / 'typo.toml'}: unknown key 'forground'" in text
        assert "no theme 'ocean'" in text
        assert f"using '{DEFAULT_THEME}'" in text


async def test_unknown_theme_falls_back_with_a_notice() -> None:
    app = make_app(None, theme="no-such-theme")
    notices = Notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == DEFAULT_THEME
        assert len(notices.seen) == 1
        assert "There is no theme 'no-such-theme'" in notices.messages[0]


async def test_default_theme_starts_quietly() -> None:
    app = make_app(None)
    notices = Notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == DEFAULT_THEME
        assert notices.seen == []


async def test_command_line_theme_applies_for_one_run_without_saving(config_file: Path) -> None:
    write(config_file.parent, config_file.name, 'theme = "github-light"\n')
    before = snapshot(config_file)
    settings = load_settings(Overrides(theme="kanagawa", demo=True))
    assert settings.theme == "kanagawa"
    app = GlmApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "kanagawa"
    assert snapshot(config_file) == before


async def every_theme_listed(pilot: Pilot[int]) -> OptionList:
    """The theme picker's list once it holds every theme (the palette gathers it in
    batches, on a timer)."""
    await until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, CommandPalette)
            and bool(pilot.app.screen.query("CommandList"))
        ),
    )
    listed = pilot.app.screen.query_one("CommandList", OptionList)
    await until(pilot, lambda: listed.option_count == len(pilot.app.available_themes))
    return listed


async def test_picker_previews_and_escape_restores(config_file: Path) -> None:
    app = make_app(None)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.action_change_theme()
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await every_theme_listed(pilot)
        assert app.theme == DEFAULT_THEME  # the current theme is listed first: no jump
        await pilot.press("down")
        await until(pilot, lambda: app.theme != DEFAULT_THEME)  # once the keys pause
        await pilot.press("escape")
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        assert snapshot(config_file) is None


async def test_holding_an_arrow_previews_only_where_it_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The pause that ends a run of keys is made long (0.12 s in the app), so a loaded machine
    # that is slow between two simulated key presses cannot end the run early.
    monkeypatch.setattr("glmtui.ui.app.THEME_PREVIEW_DELAY", 1.0)
    app = make_app(None)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        applied: list[str] = []
        app.theme_changed_signal.subscribe(app, lambda theme: applied.append(theme.name))
        app.action_change_theme()
        await settle(pilot)
        await pilot.press("down", "down", "down", "down")
        await until(pilot, lambda: bool(applied))
        await settle(pilot)
        assert len(applied) == 1
        assert applied == [app.theme]
        assert app.theme != DEFAULT_THEME
        await pilot.press("escape")
        await pilot.pause()
        assert app.theme == DEFAULT_THEME


async def test_picking_a_theme_saves_it(config_file: Path) -> None:
    write(config_file.parent, config_file.name, 'model = "zai-org-glm-5"\n')
    app = make_app(None)
    notices = Notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.action_change_theme()
        await pilot.pause()
        await pilot.press(*"paper")
        # previewed while typing: the best match is highlighted
        await until(pilot, lambda: app.theme == "paper")
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "paper"
        assert app.settings.theme == "paper"
    saved = read_config_file(config_file)
    assert saved == {"model": "zai-org-glm-5", "theme": "paper"}
    saved_file = snapshot(config_file)
    assert saved_file is not None
    assert saved_file[1] == 0o600
    assert any("Theme 'paper' saved to" in m for m in notices.messages)


async def test_picker_lists_bundled_user_and_textual_themes(config_file: Path) -> None:
    write(config_file.parent / "themes", "harbour.toml", MINIMAL + 'description = "Mine"\n')
    app = make_app(None)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.action_change_theme()
        listed = await every_theme_listed(pilot)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        prompts = [str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)]
        names = [p.split("\n")[0] for p in prompts]
        assert names[0] == DEFAULT_THEME
        assert set(names) == set(app.available_themes)
        assert {"harbour", "kanagawa", "nord", "textual-light"} <= set(names)
        by_name = dict(zip(names, prompts, strict=True))
        assert "Mine · dark · yours, harbour.toml" in by_name["harbour"]
        assert "bundled" in by_name["kanagawa"]
        assert "Textual theme · dark" in by_name["nord"]
        await pilot.press("escape")


# --- the renderer uses the theme's code styles --------------------------------------------------


def test_code_is_highlighted_with_theme_variables() -> None:
    lines = render_markdown_block("```python\nimport os\nx = 1  # one\n```\n", 40)
    styles = {str(span.style) for line in lines for span in line.spans}
    assert {"$code-keyword-namespace", "$code-number", "$code-comment"} <= styles


async def test_switching_theme_recolours_code_without_re_rendering() -> None:
    app = make_app(None, theme="glmtui")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)

        def keyword() -> Color | None:
            return app.stylesheet.parse_style("$code-keyword").foreground

        assert keyword() == Color.parse("#c49bff")
        app.theme = "github-light"
        await pilot.pause()
        assert keyword() == Color.parse("#cf222e")


# --- docs ----------------------------------------------------------------------------------


def _readme_themes_section() -> str:
    return (REPO / "docs" / "themes.md").read_text(encoding="utf-8")


def test_readme_documents_every_variable_and_token() -> None:
    section = _readme_themes_section()
    for name in VARIABLES:
        assert f"`{name}`" in section, name
    for key in CODE_TOKENS:
        assert f"`{key}`" in section, key
    for name in BUNDLED.themes:
        assert f"`{name}`" in section, name


def test_readme_example_is_a_valid_complete_theme() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", _readme_themes_section(), re.S)
    example = next(b for b in blocks if "[variables]" in b and "[code]" in b)
    data = tomllib.loads(example)
    theme = parse_theme(data)
    assert set(data["variables"]) == set(VARIABLES)
    assert set(data["code"]) == set(CODE_TOKENS)
    assert theme.author
    assert theme.description
    failures = [f"{c.what}: {c.ratio:.2f}" for c in checks(theme) if not c.ok]
    assert not failures, "the documented example must be readable too"


def test_readme_contrast_figures_are_current() -> None:
    rows = re.findall(
        r"^\| `([\w-]+)`[^|]*\|[^|]*\|[^|]*\| ([\d. ·]+) \|$", _readme_themes_section(), re.M
    )
    documented = {name: figures.strip() for name, figures in rows}
    assert set(documented) == set(BUNDLED.themes)
    for name, theme in BUNDLED.themes.items():
        low = summary(theme)
        actual = " · ".join(
            f"{low[group]:.1f}" for group in ("body", "reasoning", "code", "comments")
        )
        assert documented[name] == actual, f"README figures for {name}"


# --- packaging ---------------------------------------------------------------------------------


def _build_wheel(out: Path) -> Path:
    """Build the wheel with the project's own backend, offline (no build isolation)."""
    pytest.importorskip("hatchling", reason="hatchling (the build backend) is not installed")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("glmtui-*.whl")
    return wheel


def test_wheel_ships_the_themes_and_an_install_finds_them(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    bundled = bundled_themes_dir()
    assert bundled is not None
    for path in bundled.glob("*.toml"):
        assert f"glmtui/_themes/{path.name}" in names
    # Run the installed copy from outside the repository, so the source tree cannot help.
    code = (
        "from glmtui.ui.themes import bundled_themes_dir, load_themes; "
        "c = load_themes(None); "
        "print(bundled_themes_dir()); print(sorted(c.themes)); print(len(c.problems))"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    where, themes, problems = result.stdout.splitlines()
    assert Path(where) == tmp_path / "site" / "glmtui" / "_themes"
    assert themes == str(sorted(BUNDLED.themes))
    assert problems == "0"


async def test_textual_themes_draw_the_chat() -> None:
    """Textual's themes, the ANSI ones included (no colour mixing there), get glmtui's derived
    colours and draw cleanly. (Every theme's variables are checked above; a restyle of the
    whole screen per theme would make this test slow.)"""
    app = make_app(None, session=sample_session())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for name in ("ansi-dark", "ansi-light", "textual-light"):
            app.theme = name
            await pilot.pause()
            assert app.theme_variables["code-block-background"]
        assert app.screen.query("ConversationView")
