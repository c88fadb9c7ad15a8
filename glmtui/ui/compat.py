"""The places where glmtui leans on Textual behaviour that is not public API, in one module.

Each is kept only because a measurement showed it pays, and each has a test marked
``textual_internals`` that fails loudly when a Textual release changes what it relies on
(``python -m pytest -m textual_internals`` lists them). When upgrading Textual, start here.
"""

from __future__ import annotations

from textual import events


class StyledOnce:
    """A screen mixin: skip Textual's restyle of the whole screen on its *first* resume.

    Textual restyles every node of a screen each time it resumes (a theme may have changed
    while it was covered). The first resume follows the push at once, when every node was
    styled a moment ago as it mounted: restyling them all again cost the chat screen ~7 ms of
    startup, and a third of the time the help screen took to open. Later resumes restyle as
    Textual does.

    Relies on: handlers of a class earlier in the MRO run before ``Screen._on_screen_resume``,
    which reads ``ScreenResume.refresh_styles`` (tests/test_startup.py,
    ``test_the_chat_screen_is_styled_once_before_its_first_frame``).
    """

    _resumed_before = False

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self._resumed_before:
            self._resumed_before = True
            event.refresh_styles = False
