"""Architecture rules that keep the product fast and testable.

The API client, the session store and the data model never import Textual (the CLI starts in a
fraction of the TUI's time and every layer can be tested alone).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE_MODULES = [
    "glmtui.domain",
    "glmtui.config",
    "glmtui.paths",
    "glmtui.fileio",
    "glmtui.formatting",
    "glmtui.connect",
    "glmtui.cli",
    "glmtui.api.client",
    "glmtui.api.demo",
    "glmtui.api.errors",
    "glmtui.api.events",
    "glmtui.api.models",
    "glmtui.api.request",
    "glmtui.api.stream",
    "glmtui.store",
    "glmtui.store.codecs",
    "glmtui.store.sessions",
    "glmtui.store.index",
    "glmtui.store.export",
    "glmtui.markdown_blocks",
    "glmtui.turn",
    "glmtui.model_catalog",
]


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_without_textual(module: str) -> None:
    code = (
        f"import {module}, sys; "
        "leaked = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
        "print(leaked); sys.exit(1 if leaked else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} imported Textual: {result.stdout}{result.stderr}"


def test_ask_never_loads_textual(config_file: object) -> None:
    code = (
        "import sys; from glmtui.cli import main; "
        "rc = main(['ask', '--demo', '--no-stream', 'hi']); "
        "sys.stderr.write(str(any(m.startswith('textual') for m in sys.modules))); sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("False")
