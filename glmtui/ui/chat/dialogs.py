"""The chat's questions to the user about the session itself: where a resumed session may
send, what to keep when another program changed its file, which session to open (the
browser), a new title. The user answers; the controller carries it out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from glmtui.chat.endpoints import DEMO_PROVIDER, public_url, session_endpoint
from glmtui.chat.keeper import Conflict
from glmtui.domain import Session
from glmtui.ui.chat.base import ChatScreenBase


class DialogsPart(ChatScreenBase):
    """Endpoint choice, file conflicts, sessions and titles (a part of the chat screen)."""

    # --- where a session may send ---------------------------------------------------------------

    def warn_if_unconfigured(self) -> None:
        """Say, as a session opens, that its server is not configured any more."""
        route = self.route
        if not self.agreed_to(route):
            self.say(
                f"This chat was held with {route.recorded}, which no provider profile sends "
                "to now. Nothing is sent until you choose where (you are asked on sending).",
                severity="warning",
                timeout=10,
            )

    def check_endpoint(self, then: Callable[[], object]) -> bool:
        """True when the session may send now; else ask where to, and run ``then`` once the
        user has chosen (nothing is sent if they cancel).

        A resumed session whose server no profile is configured for any more would otherwise
        go to the profile's server of today, with its key: the user picks the recorded URL
        (without a key) or today's (the session is updated), or cancels.
        """
        route = self.route
        if self.agreed_to(route):
            return True
        from glmtui.ui.screens.prompt import ChoiceScreen

        session = self.session
        current = f"{route.base_url} ({route.provider})"
        if route.provider == session.provider:
            now = f"The {session.provider} profile now sends to {route.base_url}."
        else:
            now = f"There is no {session.provider} profile now; {current} is the default."
        question = (
            f"This chat was held with {route.recorded}, and no provider profile is configured "
            f"for that server now. {now}\n\nWhere should this conversation go? Your key is "
            "only ever sent to the server it is configured for."
        )
        choices = [
            ("recorded", f"Send to {route.recorded} without a key"),
            ("current", f"Send to {current} from now on"),
            ("cancel", "Cancel: send nothing"),
        ]

        async def chosen(choice: str | None) -> None:
            if session is not self.session:
                return
            if choice == "recorded":
                self._agreed.add((session.id, route.recorded))
            elif choice == "current":
                self.controller.configure(
                    provider=route.provider, base_url=public_url(route.base_url)
                )
                self.sidebar.load(self.request_settings())
            else:
                self.say("Nothing was sent; your text is still in the composer.", timeout=4)
                return
            self.fetch_model_card()
            result = then()
            if isinstance(result, Awaitable):
                await result

        self.app.push_screen(ChoiceScreen(question, choices, stacked=True), chosen)
        return False

    # --- another program changed the file ----------------------------------------------------

    def ask_about_conflict(self, conflict: Conflict) -> None:
        """The file changed (or vanished) under us: ours is safe in a copy; ask what to keep."""
        from glmtui.ui.screens.prompt import ChoiceScreen

        self.update_titles()
        if any(isinstance(screen, ChoiceScreen) for screen in self.app.screen_stack):
            self.say(conflict.message, severity="warning", timeout=12)
            return
        original = conflict.original_title or "Untitled"
        if conflict.deleted:
            question = (
                f"“{original}” was deleted by another program while it was open here. "
                f"Nothing is lost: this conversation was saved as “{conflict.copy_title}”.\n\n"
                "Save it again under its own name, keep it as the copy, or close it "
                "(the copy goes to the trash)?"
            )
            choices = [("mine", "Save it again"), ("both", "Keep the copy"), ("close", "Close it")]
        else:
            question = (
                f"“{original}” was changed by another program (another glmtui, an editor, a "
                "sync) while it was open here. Nothing is lost: this conversation was saved "
                f"as “{conflict.copy_title}”, the other version is untouched.\n\n"
                "Keep both, use yours (overwriting the other version), or open the other one "
                "(yours stays as the copy)?"
            )
            choices = [("both", "Keep both"), ("mine", "Use mine"), ("theirs", "Open theirs")]

        async def chosen(choice: str | None) -> None:
            await self._resolve_conflict(conflict, choice or "both")

        self.app.push_screen(ChoiceScreen(question, choices), chosen)

    async def _resolve_conflict(self, conflict: Conflict, choice: str) -> None:
        if choice == "mine":
            if self.controller.use_mine(conflict):
                what = "saved again" if conflict.deleted else "saved over the other version"
                self.say(f"“{self.session.title or 'Untitled'}” {what}.", timeout=4)
        elif choice == "theirs":
            await self.open_session(conflict.original_id)
            self.say(
                f"Opened the other version; yours is “{conflict.copy_title}” (Ctrl+O).",
                timeout=6,
            )
        elif choice == "close":
            await self.action_new_chat()
            self.controller.discard_copy(conflict)
            store = self.context.store
            where = f" ({store.trash_folder})" if store is not None else ""
            self.say(f"Closed; “{conflict.copy_title}” is in the trash{where}.", timeout=8)
        self.update_titles()

    # --- which session -------------------------------------------------------------------------

    async def action_new_chat(self) -> None:
        """Start an empty conversation, with this one's model where this one's requests go
        (or, when that server waits for the user's choice, the configured provider)."""
        settings = self.context.settings
        route = self.route
        if route.configured and not settings.demo and route.provider != DEMO_PROVIDER:
            provider, base_url = route.provider, public_url(route.base_url)
        else:
            provider, base_url = session_endpoint(settings)
        model = self.session.model
        if provider != self.session.provider:  # another server: the model it is set up with
            profile = settings.providers.get(provider)
            active = provider == settings.provider.name or profile is None
            model = settings.model if active or profile is None else profile.model
        await self.controller.open(
            Session(
                model=model,
                provider=provider,
                base_url=base_url,
                system_prompt=settings.system_prompt,
                parameters=settings.parameters,
            )
        )

    async def open_session(self, ref: str | Path) -> None:
        """Load a saved session by id (or by its file) and show it."""
        from glmtui.store import StoreError

        store = self.context.store
        if store is None:
            return
        try:
            session = store.load(ref)
        except StoreError as error:
            self.say(str(error), severity="error", timeout=8)
            return
        await self.controller.open(session)

    def action_sessions(self) -> None:
        """Open the session browser."""
        from glmtui.ui.screens.sessions import BrowserResult, SessionsScreen

        store = self.context.store
        if store is None:
            self.say("Sessions are not saved in this mode.")
            return
        self.controller.save()

        async def chosen(result: BrowserResult | None) -> None:
            if result is None:
                return
            if result.action == "new":
                await self.action_new_chat()
            elif result.action == "open" and result.session_id != self.session.id:
                # By the row's file: with copies sharing an id, the id alone may name another.
                await self.open_session(result.path or result.session_id)

        self.app.push_screen(SessionsScreen(store), chosen)

    def action_rename(self) -> None:
        """Rename the current session."""
        from glmtui.ui.screens.prompt import PromptScreen

        def rename(title: str | None) -> None:
            if title:
                self.controller.rename(title)

        self.app.push_screen(
            PromptScreen(
                "Rename this session",
                self.session.title,
                validate=lambda text: None if text else "A title cannot be empty.",
            ),
            rename,
        )
