"""Files attached to the draft, and the size of the request Enter would send.

Files come from the composer's ``@`` list, the picker (F9, or "attach: a file…" in the
palette) or a pasted path (a file dragged into the terminal). They are read in a thread by
the same readers as ``glmtui ask -f`` (:mod:`glmtui.chat.attachments`, loaded on first use),
shown as chips until the prompt is sent, and handed to ``controller.send(text, files)``. A
file that cannot be attached is refused with one notice saying why, and nothing else
changes: the draft, the other chips, and, for a paste, the pasted text, which goes in as
text instead.

The status bar shows the request's estimated size as the user types (see
:class:`~glmtui.ui.chat.status.RequestEstimate`): the conversation's part is worked out on the
controller's events, each keystroke adds only the draft, and the bar is repainted at most
every :data:`REQUEST_REFRESH` seconds (the last change always shown). A request larger than
the model's window less ``max_tokens`` is shown in the warning colour, and Enter asks before
sending it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.timer import Timer
from textual.widgets import TextArea

from glmtui.domain import ModelCard
from glmtui.ui.chat.base import ChatScreenBase
from glmtui.ui.chat.status import RequestEstimate
from glmtui.ui.widgets.attachment_chips import AttachmentChips, Chip
from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.path_completion import PathCompletion
from glmtui.ui.widgets.status import StatusBar, StatusInfo

if TYPE_CHECKING:
    from glmtui.chat.attachments import Loaded

REQUEST_REFRESH = 0.1
"""Seconds between repaints of the request's size while the user types (a keystroke is shown
at once; more within this time are shown together at its end)."""


class AttachmentsPart(ChatScreenBase):
    """Attachments and the request's size (a part of the chat screen)."""

    request_estimate: RequestEstimate
    _status_base: StatusInfo | None = None
    """The status bar's content without the request's size (made on the controller's events)."""
    _request_timer: Timer | None = None
    _request_dirty = False
    _known_cards: tuple[ModelCard, ...] = ()
    """The catalogue's cards, once looked at: a refusal names a model that takes the file."""

    @property
    def chips(self) -> AttachmentChips:
        """The draft's attachments."""
        return self.query_one(AttachmentChips)

    # --- attaching --------------------------------------------------------------------------

    def action_attach(self) -> None:
        """Pick a file or folder to attach."""
        from glmtui.ui.screens.file_picker import FilePicker

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.attach_paths([path])
            self.composer.focus()

        self.app.push_screen(FilePicker(Path.cwd()), chosen)

    @on(Composer.PathChosen)
    def _path_chosen(self, event: Composer.PathChosen) -> None:
        event.stop()
        self.attach_paths([event.path])

    @on(Composer.PathsPasted)
    def _paths_pasted(self, event: Composer.PathsPasted) -> None:
        event.stop()
        self.attach_paths(event.paths, pasted=event.text)

    @on(PathCompletion.OptionSelected)
    def _completion_clicked(self, event: PathCompletion.OptionSelected) -> None:
        """A click on an entry of the ``@`` list takes it, as Enter would."""
        event.stop()
        completion = event.option_list
        if isinstance(completion, PathCompletion) and 0 <= event.option_index < len(
            completion.candidates
        ):
            self.composer.accept_completion(completion.candidates[event.option_index])
            self.composer.focus()

    @on(AttachmentChips.Removed)
    def _chip_removed(self, event: AttachmentChips.Removed) -> None:
        event.stop()
        self.say(f"Removed {event.chip.loaded.attachment.name}.", timeout=2)
        self.attachments_changed()

    @work(group="attach", exit_on_error=False)
    async def attach_paths(self, paths: list[Path], *, pasted: str = "") -> None:
        """Read ``paths`` (in a thread) and add them as chips.

        Each path is attached or refused on its own, with a notice saying why. Pasted paths
        (``pasted``: the paste as it came) are attached all or none: if one is refused, the
        paste goes into the composer as text, so nothing pasted is lost.
        """
        from glmtui.chat.attachments import (
            AttachmentError,
            check_message,
            load_path,
            shown_name,
        )
        from glmtui.chat.attachments import estimate_tokens as estimate_attachment

        limits = self.context.settings.attachments
        cwd = Path.cwd()
        batches: list[tuple[str, list[Loaded], str | None]] = []
        for path in paths:
            try:
                loaded = await asyncio.to_thread(load_path, path, cwd=cwd, limits=limits)
                taken = [f for batch in batches for f in batch[1]]
                check_message([*self.chips.files, *taken, *loaded], limits)
            except AttachmentError as error:
                self.say(str(error), severity="warning", timeout=10)
                if pasted:
                    self.composer.insert_text(pasted)
                    return
                continue
            name = shown_name(path, str(path), cwd)
            batches.append((name, list(loaded), loaded.note))
        added = 0
        for _name, files, left_out in batches:
            for item in files:
                added += self.chips.add_chip(Chip(item, estimate_attachment(item.attachment)))
            if left_out:
                self.say(left_out, severity="warning", timeout=10)
        if pasted and batches:
            names = ", ".join(name for name, _, _ in batches)
            self.say(f"Attached {names} (a pasted path; Shift+Tab, Delete removes it).", timeout=5)
        if added:
            self.attachments_changed()
            await self._warn_capabilities()

    async def _warn_capabilities(self) -> None:
        """Say at once when the model cannot take what was attached (sending is refused)."""
        reason = await self._refusal(look_up=True)
        if reason:
            self.say(reason, severity="warning", timeout=10)

    async def _refusal(self, *, look_up: bool) -> str | None:
        """Why the model cannot take the chips' files (None: it can, or cannot be known).
        With ``look_up``, the catalogue is read (once) to suggest a model that can."""
        from glmtui.chat.attachments import check_capabilities

        attachments = [chip.loaded.attachment for chip in self.chips.chips]
        card = self.card_for_model()
        reason = check_capabilities(attachments, card, self._known_cards)
        if reason and look_up and not self._known_cards:
            with contextlib.suppress(Exception):  # the catalogue is only a suggestion here
                self._known_cards = (await self.context.catalog.catalogue()).cards
            reason = check_capabilities(attachments, card, self._known_cards)
        return reason

    def attachments_refused(self) -> str | None:
        """Why the chips cannot be sent to the session's model now (None: they can)."""
        if not self.chips.chips:
            return None
        from glmtui.chat.attachments import check_capabilities

        attachments = [chip.loaded.attachment for chip in self.chips.chips]
        return check_capabilities(attachments, self.card_for_model(), self._known_cards)

    def take_attachments(self) -> list[Loaded]:
        """The chips' files, for sending; the chips are cleared."""
        files = self.chips.files
        if files:
            self.chips.clear_chips()
            self.attachments_changed()
        return files

    def attachments_changed(self) -> None:
        """The chips changed: Enter may send them alone, and the request's size changed."""
        self.composer.attached = len(self.chips.chips)
        self.show_request()

    # --- the request's size -----------------------------------------------------------------

    @on(TextArea.Changed, "#composer")
    def _draft_changed(self) -> None:
        """A keystroke: show the request's size now, or at the end of this repaint's time."""
        self._request_dirty = True
        if self._request_timer is None:
            self._flush_request()
            self._request_timer = self.set_interval(REQUEST_REFRESH, self._request_tick)

    def _request_tick(self) -> None:
        if self._request_dirty:
            self._flush_request()
        elif self._request_timer is not None:
            self._request_timer.stop()
            self._request_timer = None

    def _flush_request(self) -> None:
        self._request_dirty = False
        self.show_request()

    def set_status(self, info: StatusInfo) -> None:
        """Show ``info`` (made on an event) with the request's size as it is now."""
        self.request_estimate.history(self.session)
        self._status_base = info
        self.show_request()

    def request_tokens(self, draft: str | None = None) -> int | None:
        """The estimated size of the request Enter would send (None: nothing to send)."""
        text = self.composer.text if draft is None else draft
        chips = self.chips
        if not text.strip() and not chips.chips:
            return None
        return self.request_estimate.request(text, chips.tokens)

    def show_request(self) -> None:
        """Repaint the status bar with the request's size (history, draft, attachments)."""
        base = self._status_base
        if base is None:
            return
        self.query_one(StatusBar).show(replace(base, request=self.request_tokens()))

    def confirm_size(self, text: str, then: Callable[[], object]) -> bool:
        """True when the request fits the model's window (or its window is unknown); else
        ask, and run ``then`` if the user sends it anyway (nothing is sent if they cancel).
        """
        base = self._status_base
        limit = base.request_limit if base is not None else None
        tokens = self.request_tokens(text)
        if limit is None or tokens is None or tokens <= limit:
            return True
        from glmtui.ui.screens.prompt import ChoiceScreen

        max_tokens = self.session.parameters.max_tokens
        room = f", less max_tokens {max_tokens:,} for the reply" if max_tokens else ""
        question = (
            f"This request comes to about {tokens:,} tokens: more than the {limit:,} the model "
            f"takes{room}. The server will probably refuse it, or cut the start of the "
            "conversation.\n\nSend it anyway?"
        )
        choices = [("send", "Send anyway"), ("cancel", "Cancel: keep the draft")]

        async def chosen(choice: str | None) -> None:
            if choice != "send":
                self.say("Nothing was sent; your text is still in the composer.", timeout=4)
                return
            result = then()
            if isinstance(result, Awaitable):
                await result

        self.app.push_screen(ChoiceScreen(question, choices), chosen)
        return False
