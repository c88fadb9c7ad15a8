"""Where glmtui keeps its files.

Everything goes through these functions so tests (and users) can move it: ``GLMTUI_CONFIG``
names the config file, ``GLMTUI_DATA_DIR`` the folder for sessions and caches. Defaults follow
the platform's conventions via platformdirs (``~/.config/glmtui`` and ``~/.local/share/glmtui``
on Linux).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

APP_NAME = "glmtui"


def default_config_file() -> Path:
    """The config file: ``$GLMTUI_CONFIG``, else ``<platform config dir>/glmtui/config.toml``."""
    override = os.environ.get("GLMTUI_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def data_dir() -> Path:
    """Sessions, caches and the trash: ``$GLMTUI_DATA_DIR`` or the platform data dir."""
    override = os.environ.get("GLMTUI_DATA_DIR")
    if override:
        return Path(override).expanduser()
    return Path(user_data_dir(APP_NAME, appauthor=False))


def sessions_dir(base: Path | None = None) -> Path:
    """One file per session lives here."""
    return (base or data_dir()) / "sessions"


def cache_dir(base: Path | None = None) -> Path:
    """Cached model cards, the session index and other rebuildable files."""
    return (base or data_dir()) / "cache"


def user_themes_dir(config_file: Path | None = None) -> Path:
    """User theme files: ``themes/`` beside the config file."""
    return (config_file or default_config_file()).parent / "themes"


def oxen_auth_file() -> Path:
    """The oxen CLI's credentials (``host_configs = [{host, auth_token}]``)."""
    return Path.home() / ".config" / "oxen" / "auth_config.toml"
