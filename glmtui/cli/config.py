"""``glmtui config [path|show|reference]``: where the config lives and what is in force."""

from __future__ import annotations

import argparse
import json

from glmtui.cli.common import EXIT_OK, load_settings_for
from glmtui.domain.text import printable


def run(args: argparse.Namespace) -> int:
    """Print the config file's path, the effective settings, or the reference table."""
    from glmtui.config import config_reference

    if args.action == "reference":
        print(config_reference())
        return EXIT_OK
    settings = load_settings_for(args)
    if args.action == "path":
        print(printable(str(settings.config_path)))
        return EXIT_OK
    key_state = f"set (from {settings.api_key_source})" if settings.api_key else "not set"
    rows = [
        (
            "config file",
            f"{settings.config_path}"
            + ("" if settings.config_path.exists() else " (not created yet)"),
        ),
        ("data dir", str(settings.data_dir)),
        ("provider", settings.provider.name),
        ("base_url", settings.base_url),
        ("model", settings.model),
        ("api key", key_state),
        ("thinking switch", settings.thinking_style),
        ("parameter limits", settings.provider.limits.describe()),
        ("json mode", "taken" if settings.provider.takes_json_mode else "not taken"),
        ("session_format", settings.session_format),
        ("theme", settings.theme),
        ("parameters", json.dumps(settings.parameters.to_dict()) or "{}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(printable(f"{key:<{width}}  {value}"))
    return EXIT_OK
