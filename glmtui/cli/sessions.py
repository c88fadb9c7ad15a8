"""``glmtui sessions list|show|search|export``: the saved conversations, from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from glmtui.cli.common import (
    EXIT_API_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    load_settings_for,
    say,
)
from glmtui.domain.text import printable

if TYPE_CHECKING:
    from datetime import datetime

    from glmtui.store import SessionStore, SessionSummary


def run(args: argparse.Namespace) -> int:
    """Run one sessions action; the exit status."""
    settings = load_settings_for(args)
    from glmtui.store import AmbiguousSession, SessionNotFound, SessionStore, StoreError

    action = args.sessions_command or "list"
    with SessionStore.from_settings(settings) as store:
        try:
            if action in ("list", "search") and sys.stderr.isatty():
                _refresh_with_progress(store)
            if action == "list":
                return _sessions_list(store, args)
            if action == "search":
                return _sessions_search(store, args)
            if action == "show":  # tool calls shortened; `export` gives them in full
                return _sessions_show(store, args)
            return _sessions_export(store, args)
        except (SessionNotFound, AmbiguousSession) as exc:
            say(f"glmtui: {exc}")  # a reference that names no session, or several
            return EXIT_USAGE
        except StoreError as exc:
            say(f"glmtui: error: {exc}")
            return EXIT_API_ERROR


def _refresh_with_progress(store: SessionStore) -> None:
    """Index the folder, showing a counter when that means parsing many files (a first run)."""

    def progress(done: int, total: int) -> None:
        if total >= 200:
            end = "\n" if done == total else ""
            print(f"\rglmtui: indexing sessions {done:,}/{total:,}", end=end, file=sys.stderr)

    store.refresh(progress)


def _summary_json(summary: SessionSummary) -> dict[str, object]:
    return {
        "id": summary.id or None,
        "title": summary.title,
        "created_at": summary.created_at.isoformat(),
        "updated_at": summary.updated_at.isoformat(),
        "model": summary.model,
        "provider": summary.provider,
        "message_count": summary.message_count,
        "tokens": summary.tokens,
        "tokens_estimated": summary.tokens_estimated,
        "path": str(summary.path),
        "format": summary.format,
        "read_only": summary.read_only,
        "same_id_as": [str(name) for name in summary.same_id_as],
        "error": summary.error,
    }


def _local_time(when: datetime) -> str:
    return str(when.astimezone().strftime("%Y-%m-%d %H:%M")) if when.tzinfo else str(when)[:16]


def _sessions_list(store: SessionStore, args: argparse.Namespace) -> int:
    items = store.list_sessions()
    if args.json:
        print(json.dumps([_summary_json(s) for s in items], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not items:
        say(f"No sessions yet (they are saved in {store.folder}).")
        return EXIT_OK
    header = ("ID", "UPDATED", "MSGS", "TOKENS", "MODEL", "TITLE")
    rows = []
    for s in items:
        if s.error is not None:
            reason = f"{s.title}: unreadable ({s.error})"
            rows.append(("-", _local_time(s.updated_at), "-", "-", "-", reason))
            continue
        tokens = ("~" if s.tokens_estimated else "") + f"{s.tokens:,}"
        title = (s.title or "Untitled") + (" (read-only)" if s.read_only else "")
        if s.same_id_as:  # a copy of a file (a sync conflict, a backup): say which is which
            title += f" ({s.path.name}; same id as {', '.join(map(str, s.same_id_as))})"
        rows.append(
            (
                s.id[:8],
                _local_time(s.updated_at),
                str(s.message_count),
                tokens,
                s.model,
                title,
            )
        )
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header) - 1)]
    right = {2, 3}
    for row in (header, *rows):
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row[:-1])
        ]
        print(printable("  ".join([*cells, row[-1]])))
    return EXIT_OK


def _sessions_search(store: SessionStore, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be 1 or more.")
    text = " ".join(args.text)
    hits = store.search(text, limit=args.limit)
    if args.json:
        payload = [
            {
                **_summary_json(h.summary),
                "snippet": h.snippet,
                "match": h.field,
                "message_index": h.message_index,
            }
            for h in hits
        ]
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not hits:
        print(f"No sessions match '{printable(text)}'.", file=sys.stderr)
        return EXIT_OK
    for hit in hits:
        s = hit.summary
        print(printable(f"{s.id[:8]}  {_local_time(s.updated_at)}  {s.title or 'Untitled'}"))
        if hit.field == "message":
            print(printable(f"    {hit.snippet}"))
    return EXIT_OK


def _sessions_show(store: SessionStore, args: argparse.Namespace) -> int:
    """The conversation as brief Markdown: tool calls on one line each, attachments named
    (name, kind, size) without their content; stderr says which attachments' content is no
    longer in the data folder."""
    session = store.load(args.ref)
    print(printable(store.export(session, "md", brief=True)), end="")
    missing = store.missing_attachments(session)
    if missing:
        say(
            f"glmtui: note: the content of {', '.join(missing)} is no longer in "
            f"{store.blob_folder}."
        )
    return EXIT_OK


def _sessions_export(store: SessionStore, args: argparse.Namespace) -> int:
    from glmtui.fileio import atomic_write_text
    from glmtui.store import StoreError, describe_os_error

    text = store.export(store.load(args.ref), args.export_format)
    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    target = Path(args.output).expanduser()
    try:
        atomic_write_text(target, text)
    except OSError as exc:
        raise StoreError(describe_os_error(exc, "write", target)) from None
    say(f"glmtui: wrote {target}")
    return EXIT_OK
