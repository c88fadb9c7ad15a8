"""``glmtui`` with no command: the full-screen app (optionally on a session, the browser or a
model's details)."""

from __future__ import annotations

import argparse

from glmtui import startup_gc
from glmtui.cli.common import EXIT_API_ERROR, UsageError, load_settings_for, say


def run(args: argparse.Namespace) -> int:
    """Start the app; its exit status."""
    startup_gc.pause()  # until the first screen is drawn (see glmtui.startup_gc)
    try:
        return _run(args)
    finally:
        startup_gc.resume()


def _run(args: argparse.Namespace) -> int:
    settings = load_settings_for(args)
    store = session = None
    if args.session:  # otherwise the app opens the store when it first needs it
        from glmtui.store import AmbiguousSession, SessionNotFound, SessionStore, StoreError

        store = SessionStore.from_settings(settings)
        try:
            opened = store.open_session(args.session)
        except (SessionNotFound, AmbiguousSession) as exc:
            raise UsageError(f"cannot resume session: {exc}") from None
        except StoreError as exc:  # the file is there but cannot be read
            say(f"glmtui: error: cannot resume session: {exc}")
            return EXIT_API_ERROR
        session = opened.session
        if opened.notice:
            say(f"glmtui: note: {opened.notice}")
    from glmtui.ui.app import GlmApp

    app = GlmApp(
        settings,
        session=session,
        store=store,
        open_browser=bool(args.sessions),
        model_info=args.model_info,
    )
    app.run()
    return app.return_code or 0
