"""``glmtui config [path|show|reference|keys]``: where the config lives and what is in force."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from glmtui.cli.common import EXIT_OK, load_settings_for
from glmtui.domain.text import printable

if TYPE_CHECKING:
    from glmtui.config import Settings


def run(args: argparse.Namespace) -> int:
    """Print the config file's path, the effective settings, or the reference table."""
    from glmtui.config import config_reference

    if args.action == "reference":
        print(config_reference())
        return EXIT_OK
    settings = load_settings_for(args)
    if args.action == "keys":
        return _keys(settings, as_json=args.json)
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


def _keys(settings: Settings, *, as_json: bool) -> int:
    """Print every key binding in force: the defaults with the config's ``[keymap]`` applied.

    Entries of ``[keymap]`` the app would ignore are told on stderr, as the app tells them.
    """
    from glmtui.ui.keymap import bound_actions, check_keymap, key_label

    keymap = check_keymap(settings.keymap, settings.config_path)
    keys = keymap.keys()
    actions = bound_actions()
    if as_json:
        rows = [
            {
                "id": binding_id,
                "keys": keys[binding_id].split(","),
                "default": action.keys.split(","),
                "description": action.description,
                "where": list(action.places),
            }
            for binding_id, action in actions.items()
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        width = max(len(binding_id) for binding_id in actions)
        key_width = max(len(key_label(k)) for k in keys.values())
        for binding_id, action in actions.items():
            changed = " (remapped)" if binding_id in keymap.overrides else ""
            line = f"{binding_id:<{width}}  {key_label(keys[binding_id]):<{key_width}}  "
            print(printable(f"{line}{action.description}{changed}"))
    if keymap.problems:
        print(printable(keymap.notice(settings.config_path)), file=sys.stderr)
    return EXIT_OK
