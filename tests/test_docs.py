"""The README and the docs site (``docs/``, ``mkdocs.yml``) stay buildable, short and true.

The reference lives in a MkDocs site so the README can stay a page; these tests keep the two
from rotting apart from each other and from the code:

* the site builds with ``mkdocs build --strict`` (a broken link or anchor, a page left out of
  the nav, a missing include or any other warning fails), offline;
* the README stays under 10 KB, its links into ``docs/`` reach files and headings that exist,
  and its test command is the one ``.ci/run`` runs;
* the facts the docs repeat from the code (command-line options, environment variables,
  provider profiles, the config examples, the session file example) match the code. The key
  tables, the config reference and the theme tables are checked in ``test_config.py`` and
  ``test_themes.py``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
README = REPO / "README.md"
README_LIMIT = 10 * 1024
"""Bytes: the README says what glmtui is and how to start; the reference belongs in docs/."""
CONFIG_EXAMPLE = "# ~/.config/glmtui/config.toml"
"""First line of every config-file example in the docs (each one is loaded by a test)."""
SESSION_EXAMPLE = "# <data dir>/sessions/"
"""First line of a session-file example in the docs."""
NO_NETWORK = "http://127.0.0.1:9"
"""A proxy nothing listens on: a build that tried to fetch anything would fail."""


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _markdown_pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "tools" not in p.relative_to(DOCS).parts)


# --- the site ------------------------------------------------------------------------------


def build_site(out: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` into ``out``, with every proxy pointing nowhere."""
    env = dict(os.environ)
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        env[name] = env[name.upper()] = NO_NETWORK
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    env["NO_MKDOCS_2_WARNING"] = "1"  # Material's notice about MkDocs 2.0, printed on each build
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(REPO / "mkdocs.yml"),
            "--site-dir",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The site, built once for this module's tests: its folder and the build's result."""
    pytest.importorskip("material", reason="mkdocs-material (the test extra) is not installed")
    out = tmp_path_factory.mktemp("docs") / "site"
    return out, build_site(out)


def test_site_builds_strictly_offline(site: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    folder, result = site
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    problems = [line for line in output.splitlines() if re.match(r"\s*(WARNING|ERROR)\b", line)]
    assert not problems, output
    for page in _markdown_pages():
        relative = page.relative_to(DOCS).with_suffix("")
        built = folder / ("index.html" if relative.name == "index" else f"{relative}/index.html")
        assert built.is_file(), f"{page.name} was not built"
    assert (folder / "assets" / "chat.svg").is_file()
    for helper in (DOCS / "tools").iterdir():  # the Tools page is site/tools/; its helpers not
        assert not (folder / "tools" / helper.name).exists(), "docs/tools/ is not part of the site"


def test_changelog_page_holds_the_changelog(
    site: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """The Changelog page includes CHANGELOG.md itself, not a copy that could go stale."""
    folder, result = site
    assert result.returncode == 0
    html = (folder / "changelog" / "index.html").read_text(encoding="utf-8")
    versions = re.findall(r"^## \[([^\]]+)\]", (REPO / "CHANGELOG.md").read_text(), re.M)
    assert versions
    for version in versions:
        assert f"[{version}]" in html, version


# --- the README ----------------------------------------------------------------------------


def test_readme_is_short() -> None:
    size = len(README.read_bytes())
    assert size <= README_LIMIT, f"README.md is {size:,} bytes; move reference text to docs/"


_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _local_links(text: str) -> Iterator[str]:
    for target in _LINK.findall(text):
        if not re.match(r"[a-z]+:", target) and not target.startswith("#"):
            yield target


def slug(heading: str) -> str:
    """A heading's anchor as MkDocs (and GitHub, for these headings) makes it."""
    text = re.sub(r"<[^>]+>|[`*_]", "", heading).strip().lower()
    text = unicodedata.normalize("NFKD", text)
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}


def broken_links(markdown: str, base: Path) -> list[str]:
    """Links in ``markdown`` (a file in ``base``) to files or headings that do not exist."""
    broken = []
    for target in _local_links(markdown):
        path_part, _, anchor = target.partition("#")
        path = (base / path_part).resolve()
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{target}: no heading with that anchor in {path.name}")
    return broken


def test_readme_links_reach_existing_docs() -> None:
    text = README.read_text(encoding="utf-8")
    docs_links = [t for t in _local_links(text) if t.startswith("docs/")]
    assert len(docs_links) >= 10, "the README points into the docs for the reference"
    assert not broken_links(text, REPO)


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    """The link check itself: a missing page and a missing heading are both reported."""
    (tmp_path / "page.md").write_text("# Title\n\n## The API key\n", encoding="utf-8")
    text = (
        "[a](page.md) [b](page.md#the-api-key) [c](gone.md) [d](page.md#nothing) [e](https://x.y)"
    )
    assert broken_links(text, tmp_path) == [
        "gone.md: no such file",
        "page.md#nothing: no heading with that anchor in page.md",
    ]


def test_readme_keeps_the_commands_ci_and_users_run() -> None:
    """``.ci/run`` runs the line after ``<!-- test-command -->``: read it the way it does."""
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    program = re.search(r"awk '([^']+)'", script)
    assert program, ".ci/run no longer reads the command with awk; update this test"
    command = subprocess.run(
        ["awk", program.group(1), str(README)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert command == (
        'python3 -m venv .venv && .venv/bin/pip install ".[test]" && .venv/bin/python -m pytest'
    )
    text = README.read_text(encoding="utf-8")
    assert "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/glmtui --demo" in text


def test_screenshot_is_the_app_and_is_shown() -> None:
    svg = (DOCS / "assets" / "chat.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg")
    assert "Reasoning" in svg
    assert "Parameters" in svg
    shown = r"!\[[^\]]{20,}\]\("  # an image, with words for those who cannot see it
    assert re.search(shown + r"docs/assets/chat\.svg\)", README.read_text(encoding="utf-8"))
    assert re.search(shown + r"assets/chat\.svg\)", _page("index.md"))


# --- what the docs repeat from the code ----------------------------------------------------


def _commands(
    parser: argparse.ArgumentParser, name: str = "glmtui"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _commands(sub, f"{name} {sub_name}")


def test_command_line_page_names_every_command_and_option() -> None:
    from glmtui.cli import build_parser

    page = _page("cli.md")
    missing = []
    for command, parser in _commands(build_parser()):
        if command != "glmtui" and f"{command} " not in page and f"## {command}" not in page:
            missing.append(command)
        for action in parser._actions:
            for option in action.option_strings:
                named = re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", page)
                if option.startswith("--") and option != "--help" and not named:
                    missing.append(f"{command} {option}")
    assert not missing, f"docs/cli.md does not mention: {', '.join(sorted(set(missing)))}"


def test_configuration_page_names_every_environment_variable() -> None:
    from glmtui.config import SETTINGS

    page = _page("configuration.md")
    environment = page[page.index("## Environment") : page.index("## Files")]
    names = {s.env for s in SETTINGS if s.env} | {"GLMTUI_CONFIG", "GLMTUI_DATA_DIR"}
    for name in sorted(names):
        assert f"`{name}`" in environment, name


def test_providers_page_matches_the_built_in_profiles() -> None:
    from glmtui.api.request import THINKING_STYLES
    from glmtui.config import BUILTIN_PROVIDERS, PROVIDER_SETTINGS

    page = _page("providers.md")
    rows = {
        row[0].strip("` ").removesuffix("` (default)"): [c.strip(" `") for c in row[1:]]
        for row in (
            line.strip("|").split("|") for line in page.splitlines() if line.startswith("| `")
        )
    }
    for name, profile in BUILTIN_PROVIDERS.items():
        assert rows.get(name) == [
            profile.base_url,
            profile.model,
            profile.api_key_env,
            profile.thinking,
        ], f"the {name} row of the built-in profiles table"
    for setting in PROVIDER_SETTINGS:
        assert f"| `{setting.key}` |" in page, f"providers.md: the profile key {setting.key}"
    for style in THINKING_STYLES:
        assert f"| `{style}` |" in page, f"providers.md: the thinking switch {style}"


def _examples(first_line: str) -> list[tuple[str, str]]:
    found = []
    for page in _markdown_pages():
        for block in re.findall(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"), re.S):
            if block.startswith(first_line):
                found.append((page.name, block))
    return found


def test_config_examples_are_valid_config_files(tmp_path: Path) -> None:
    from glmtui.config import Overrides, load_settings

    examples = _examples(CONFIG_EXAMPLE)
    assert {"configuration.md", "providers.md"} <= {page for page, _ in examples}
    for number, (page, block) in enumerate(examples):
        path = tmp_path / f"example-{number}.toml"
        path.write_text(block, encoding="utf-8")
        load_settings(Overrides(), config_path=path)
        for provider in re.findall(r"^\[providers\.([\w-]+)\]", block, re.M):
            settings = load_settings(Overrides(provider=provider), config_path=path)
            assert settings.provider.name == provider, f"{page}: [providers.{provider}]"


def test_session_example_is_what_glmtui_writes() -> None:
    """The documented file, read and written again by glmtui, comes back byte for byte."""
    from glmtui.store.codecs import SCHEMA_VERSION, decode_session, encode_session

    examples = _examples(SESSION_EXAMPLE)
    assert examples, "docs/sessions.md shows a session file"
    for _page_name, block in examples:
        body = block.split("\n", 1)[1]
        session = decode_session(body.encode("utf-8"), fmt="toml")
        assert f"schema_version = {SCHEMA_VERSION}\n" in body
        assert encode_session(session, "toml").decode("utf-8") == body
