"""Architecture rules that keep the product fast and testable, as import-linter contracts.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``): the layers
cli → ui → services → config → store/api → domain → base, and "only ``glmtui.ui`` imports
Textual" (the CLI starts in a fraction of the TUI's time, and every layer below the UI can be
tested alone). A protected contract covers a module the day it is created; the layers contract
names modules, so a test here fails until a new top-level module is given its layer.
"""

from __future__ import annotations

import json
import os
import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import glmtui

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"

_LINT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(no_cache=True, no_logo=True))"
)


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the ``glmtui`` package found in ``tree`` (with its pyproject)."""
    return subprocess.run(
        [sys.executable, "-c", _LINT],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def copy_of_the_package(tmp_path: Path) -> Path:
    """The package and its pyproject in a folder of their own, to break on purpose."""
    tree = tmp_path / "tree"
    shutil.copytree(
        ROOT / "glmtui", tree / "glmtui", ignore=shutil.ignore_patterns("__pycache__", "_themes")
    )
    shutil.copy(PYPROJECT, tree / "pyproject.toml")
    return tree


def test_the_import_contracts_hold() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "code"),
    [
        ("api/_probe.py", "import textual\n"),
        ("store/_probe.py", "from textual.widgets import Static\n"),
        ("brand_new_module.py", "import textual.app\n"),  # named in no layer: still covered
    ],
)
def test_a_module_below_the_ui_that_imports_textual_breaks_the_contract(
    tmp_path: Path, module: str, code: str
) -> None:
    tree = copy_of_the_package(tmp_path)
    (tree / "glmtui" / module).write_text(code, encoding="utf-8")
    done = lint_imports(tree)
    assert done.returncode == 1, done.stdout + done.stderr
    probe = "glmtui." + module.removesuffix(".py").replace("/", ".")
    assert f"{probe} -> textual" in done.stdout


def test_a_lower_layer_importing_the_ui_breaks_the_contract(tmp_path: Path) -> None:
    tree = copy_of_the_package(tmp_path)
    (tree / "glmtui" / "api" / "_probe.py").write_text(
        "from glmtui.ui import app\n", encoding="utf-8"
    )
    done = lint_imports(tree)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "glmtui.api is not allowed to import glmtui.ui" in done.stdout


def _layered_modules() -> set[str]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    (layers,) = [c for c in config["contracts"] if c["type"] == "layers"]
    names: set[str] = set()
    for layer in layers["layers"]:
        names.update(part.strip() for part in layer.replace(":", "|").split("|"))
    return names


def test_every_top_level_module_has_a_layer() -> None:
    """A new module or package under ``glmtui/`` must be placed in the layers contract."""
    modules = {f"glmtui.{info.name}" for info in pkgutil.iter_modules(glmtui.__path__)}
    assert modules - _layered_modules() == set(), "add these to a layer in pyproject.toml"
    assert _layered_modules() - modules == set(), "these layers name modules that do not exist"


def modules_below_the_ui() -> list[str]:
    """Every module of the package outside ``glmtui.ui``, found on disk (so new ones count)."""
    found: list[str] = []

    def walk(folder: Path, prefix: str) -> None:
        for info in pkgutil.iter_modules([str(folder)]):
            name = prefix + info.name
            if name == "glmtui.ui":
                continue
            found.append(name)
            if info.ispkg:
                walk(folder / info.name, name + ".")

    found.append("glmtui")
    walk(ROOT / "glmtui", "glmtui.")
    return sorted(found)


_IMPORT_EACH_IN_A_FORK = """
import importlib, json, os, sys
results = {}
for name in sys.argv[1:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a fresh copy of this small process imports one module
        os.close(read)
        try:
            importlib.import_module(name)
            out = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
        except BaseException as exc:
            out = ["could not import: " + repr(exc)]
        os.write(write, json.dumps(out).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    results[name] = json.loads(data)
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def textual_loaded_by() -> dict[str, list[str]]:
    """For each module below the UI, the Textual modules loaded by importing it alone.

    One process forks a child per module (a process per module cost ~0.3 s each)."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH_IN_A_FORK, *modules_below_the_ui()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results: dict[str, list[str]] = json.loads(done.stdout)
    return results


@pytest.mark.skipif(not hasattr(os, "fork"), reason="imports each module in a forked process")
@pytest.mark.parametrize("module", modules_below_the_ui())
def test_core_module_imports_without_textual(
    module: str, textual_loaded_by: dict[str, list[str]]
) -> None:
    """What the contracts say statically, checked at run time: importing the module alone
    leaves Textual unloaded."""
    assert textual_loaded_by[module] == [], f"{module} imported Textual"


def test_ask_never_loads_textual(config_file: object) -> None:
    code = (
        "import sys; from glmtui.cli import main; "
        "rc = main(['ask', '--demo', '--no-stream', 'hi']); "
        "sys.stderr.write(str(any(m.startswith('textual') for m in sys.modules))); sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("False")
