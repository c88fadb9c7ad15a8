"""Shared fixtures: every test runs with its own config file, data dir and HOME.

Nothing a test does can read or write the developer's real config, sessions or oxen login, and
no provider key from the developer's environment leaks into a test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures_server import server  # noqa: F401 - re-exported fixture

FAKE_KEY = "sk-glmtui-test-SECRET-0123456789abcdef"
"""A recognisable fake key: tests assert it never appears in files or output."""

_PROVIDER_ENV = (
    "OXEN_API_KEY",
    "VLLM_API_KEY",
    "SGLANG_API_KEY",
    "ZAI_API_KEY",
    "GLMTUI_BASE_URL",
    "GLMTUI_MODEL",
    "GLMTUI_PROVIDER",
    "GLMTUI_THEME",
    "GLMTUI_CONFIG",
    "GLMTUI_DATA_DIR",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point config, data and HOME at a temporary folder and clear provider variables."""
    for name in _PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GLMTUI_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("GLMTUI_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def config_file(isolated_env: Path) -> Path:
    """The test's config file path (not created)."""
    path = isolated_env / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def unused_port() -> int:
    """A 127.0.0.1 port with nothing listening (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def utc_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Times on screen are local times; pin the zone so screens are the same everywhere."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
