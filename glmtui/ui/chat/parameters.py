"""The chat's parameters: the docked sidebar (or the overlay in a narrow terminal), and the
next request as cURL, Python and JSON. Every change goes through the controller, which saves
it with the session."""

from __future__ import annotations

from textual import events, on

from glmtui.chat.endpoints import DEMO_PROVIDER, DEMO_URL, profile_url, public_url
from glmtui.domain.params import ranges_for
from glmtui.ui.chat.base import ChatScreenBase
from glmtui.ui.clipboard import copy_text
from glmtui.ui.widgets.sidebar import ParameterSidebar, RequestSettings

SIDEBAR_MIN_WIDTH = 100
"""Below this many columns the sidebar is hidden (Ctrl+B opens it as an overlay)."""


class ParametersPart(ChatScreenBase):
    """The sidebar, the overlay and the request preview (a part of the chat screen)."""

    _sidebar_wanted = True
    _model_ids: list[str]

    def make_sidebar(self, *, id: str | None = None, deferred: bool = False) -> ParameterSidebar:
        """A sidebar for the session (the docked one, or one for the overlay)."""
        settings = self.context.settings
        # In the demo nothing leaves this machine, whatever the sidebar says: it offers none.
        providers = [DEMO_PROVIDER] if settings.demo else list(settings.providers)
        if self.session.provider not in providers:
            providers.append(self.session.provider)
        profiles = settings.providers
        return ParameterSidebar(
            self.request_settings(),
            providers=providers,
            thinking={name: profile.thinking for name, profile in profiles.items()},
            ranges=ranges_for(self.card_for_model()),
            models=self._model_ids,
            limits={name: profile.limits for name, profile in profiles.items()},
            json_mode={name: profile.takes_json_mode for name, profile in profiles.items()},
            traits=self.model_traits(),
            deferred=deferred,
            id=id,
        )

    def on_resize(self, event: events.Resize) -> None:
        self.place_sidebar()

    def place_sidebar(self) -> None:
        """Docked at the right when there is room (and wanted); hidden in narrow terminals."""
        self.sidebar.display = self._sidebar_wanted and self.size.width >= SIDEBAR_MIN_WIDTH

    def action_toggle_sidebar(self) -> None:
        """Go to the parameters; from them, hide them. In a narrow terminal they open as an
        overlay.

        A docked sidebar that does not have the focus is focused (the first field), not
        hidden: the key's first use in a wide terminal is to reach it. Pressed again there,
        it hides the sidebar and goes back to the composer; pressed once more, it shows the
        sidebar again and focuses it.
        """
        if self.size.width < SIDEBAR_MIN_WIDTH:
            from glmtui.ui.screens.parameters import ParametersScreen

            self.app.push_screen(ParametersScreen(self.make_sidebar()), self._overlay_closed)
            return
        docked = self.sidebar
        if docked.display and not docked.has_focus_within:
            docked.focus_first()
            return
        self._sidebar_wanted = not self._sidebar_wanted
        self.place_sidebar()
        if docked.display:
            docked.focus_first()
        else:
            self.composer.focus()

    @on(ParameterSidebar.Changed)
    def _parameters_changed(self, event: ParameterSidebar.Changed) -> None:
        """A valid change: it applies to the next request and is saved with the session."""
        event.stop()
        self.apply_settings(event.settings, from_overlay=event.sidebar.id != "sidebar")

    def commit_sidebar(self) -> None:
        """Take in a value typed into the docked sidebar but not yet committed with Enter."""
        sidebar = self.sidebar
        sidebar.commit()
        if sidebar.settings != self.request_settings():
            self.apply_settings(sidebar.settings, from_overlay=False)

    def _overlay_closed(self, settings: RequestSettings | None) -> None:
        """The overlay commits the field being edited as it closes; take that in too."""
        if settings is not None and settings != self.request_settings():
            self.apply_settings(settings, from_overlay=True)

    def apply_settings(self, changed: RequestSettings, *, from_overlay: bool) -> None:
        """Send the next request as ``changed`` says (another provider: to its server)."""
        base_url = None
        if changed.provider != self.session.provider:
            base_url = self.url_of(changed.provider)  # the session talks to it now
        self.controller.configure(
            provider=changed.provider,
            base_url=base_url,
            model=changed.model,
            system_prompt=changed.system_prompt,
            parameters=changed.parameters,
        )
        if from_overlay:  # keep the docked sidebar in step
            self.sidebar.load(self.request_settings())
        if base_url is not None:
            self.fetch_model_card()  # another server: its card (the model's is fetched anyway)

    def url_of(self, provider: str) -> str:
        """The API root a session of ``provider`` records (no credentials)."""
        if provider == DEMO_PROVIDER:
            return DEMO_URL
        return public_url(profile_url(self.context.settings, provider) or "")

    @on(ParameterSidebar.ResetRequested)
    def _parameters_reset(self, event: ParameterSidebar.ResetRequested) -> None:
        """Back to the config file's defaults (model and provider stay)."""
        event.stop()
        settings = self.context.settings
        self.controller.configure(
            parameters=settings.parameters, system_prompt=settings.system_prompt
        )
        event.sidebar.load(self.request_settings())
        if event.sidebar.id != "sidebar":
            self.sidebar.load(self.request_settings())
        self.say("Parameters reset to the config file's defaults.")

    @on(ParameterSidebar.PreviewRequested)
    def _parameters_preview(self, event: ParameterSidebar.PreviewRequested) -> None:
        event.stop()
        self.action_preview_request()

    @on(ParameterSidebar.CompareRequested)
    def _parameters_compare(self, event: ParameterSidebar.CompareRequested) -> None:
        event.stop()
        self.action_compare()

    # --- the next request, as text -------------------------------------------------------------

    def request_texts(self) -> dict[str, str]:
        """Exactly what Enter would send now (the conversation plus the composer's text), as
        cURL, Python and JSON; the key only as its environment variable."""
        from glmtui.chat.export import FORMATS, render

        request = self.controller.request_for(self.composer.text)
        base_url, key_variable = self._endpoint()
        return {fmt: render(request, fmt, base_url, key_variable) for fmt in FORMATS}

    def _endpoint(self) -> tuple[str, str | None]:
        """Where the session's requests go, and the variable holding the key (if one is needed)."""
        settings = self.context.settings
        route = self.route
        if route.provider == DEMO_PROVIDER:
            return DEMO_URL, None
        if not route.configured:
            return route.recorded, None  # no key goes there
        profile = settings.providers.get(route.provider, settings.provider)
        base_url = route.base_url
        variable = profile.api_key_env or "OXEN_API_KEY"
        needed = profile.key_required(base_url) or (
            profile.name == settings.provider.name and bool(settings.api_key)
        )
        return base_url, variable if needed else None

    def action_preview_request(self) -> None:
        """Show the next request as cURL, Python and JSON."""
        from glmtui.ui.screens.request_preview import RequestPreviewScreen

        self.commit_sidebar()
        note = (
            "Includes the text in the composer as the new message."
            if self.composer.text.strip()
            else "The composer is empty: this is the conversation as it stands."
        )
        self.app.push_screen(RequestPreviewScreen(self.request_texts(), note))

    def action_copy_request(self, fmt: str) -> None:
        """Copy the next request in one format."""
        self.commit_sidebar()
        names = {"curl": "cURL", "python": "Python", "json": "JSON"}
        copy_text(
            self.app,
            self.request_texts()[fmt],
            f"The request as {names.get(fmt, fmt)} (the key stays a variable)",
        )
