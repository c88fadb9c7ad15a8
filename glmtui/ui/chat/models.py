"""The chat's model: its card (context length, output limit, prices), completing model ids in
the sidebar, its details (F3), the catalogue (F4), and switching the session to another."""

from __future__ import annotations

import contextlib

from textual import events, work

from glmtui.api.errors import ApiError
from glmtui.api.models import assumed_context_length, builtin_card
from glmtui.domain import ModelCard
from glmtui.domain.params import ranges_for
from glmtui.domain.text import visible_controls
from glmtui.ui.chat.base import ChatScreenBase


class ModelsPart(ChatScreenBase):
    """The model's card, details, catalogue and switching (a part of the chat screen)."""

    _models_suggested = False
    _model_ids: list[str]

    @work(exclusive=True, group="model-card", exit_on_error=False)
    async def fetch_model_card(self) -> None:
        """Get the model's card (context length, output limit, prices) without delaying the
        first frame: live, else the cached copy, else the built-in card."""
        model = self.session.model
        card = await self.lookup_card(model)
        if model != self.session.model:
            return  # the model changed meanwhile
        if card is None:  # unknown: what glmtui's table says of its id, at least
            self.sidebar.set_traits(self.model_traits(model))
            return
        self.model_card = card
        self.sidebar.set_ranges(ranges_for(card))
        self.sidebar.set_traits(self.model_traits(model))
        self.update_titles()  # the composer names the model by its card's name
        self.refresh_status()

    async def lookup_card(self, model: str) -> ModelCard | None:
        """A model's card from where this session's requests go: the configured provider's
        catalogue (live, else cached, else built in), or another profile's server. None when
        unknown, and without asking anyone while the session's server waits for the user's
        choice (see :meth:`check_endpoint`)."""
        route = self.route
        settings = self.context.settings
        if settings.demo or (route.configured and route.provider == settings.provider.name):
            return (await self.context.catalog.card(model)).card
        if not self.agreed_to(route):
            return None
        with contextlib.suppress(ApiError):
            return await self.session_client().get_model(model)
        return None

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Typing a model id: complete it from the catalogue (fetched once, cached on disk)."""
        if event.widget.id == "model" and not self._models_suggested:
            self._models_suggested = True
            self._suggest_models()

    @work(exclusive=True, group="model-suggestions", exit_on_error=False)
    async def _suggest_models(self) -> None:
        result = await self.context.catalog.catalogue()
        # An id a terminal would obey (escape sequences) is no suggestion: the field draws it.
        ids = [card.id for card in result.cards if visible_controls(card.id) == card.id]
        if ids:
            self._model_ids = ids
            self.sidebar.suggest_models(ids)

    def action_model_info(self) -> None:
        """The current model's details: facts, prices, limits, parameters, description."""
        self.show_model_info(self.session.model)

    def show_model_info(self, model_id: str) -> None:
        """A model's details; "use" switches this chat to it."""
        from glmtui.ui.screens.model_info import ModelInfoScreen

        screen = ModelInfoScreen(self.context.catalog, model_id, current_model=self.session.model)
        self.app.push_screen(screen, self.use_model)

    def action_models(self) -> None:
        """Every model the provider offers: search, filter, inspect, use."""
        from glmtui.ui.screens.catalogue import CatalogueScreen

        self.app.push_screen(
            CatalogueScreen(self.context.catalog, self.session.model), self.use_model
        )

    def use_model(self, model_id: str | None) -> None:
        """Switch this session to ``model_id`` (None: the user backed out)."""
        if not model_id or model_id == self.session.model:
            return
        if visible_controls(model_id) != model_id:
            self.say(
                f"“{model_id}” holds control characters; glmtui does not use it as a model id.",
                severity="warning",
                timeout=6,
            )
            return
        self.model_card = builtin_card(model_id)
        self.controller.configure(model=model_id)  # the screen updates the sidebar, titles
        self.sidebar.load(
            self.request_settings(), ranges_for(self.card_for_model()), self.model_traits()
        )
        self.say(f"This chat now uses {model_id}.")

    @property
    def context_limit(self) -> int | None:
        """The model's context length, when known."""
        return self.context_window()[0]

    def context_window(self) -> tuple[int | None, bool]:
        """The model's context length (None: unknown), and whether it is assumed rather than
        reported: the built-in card's, a length glmtui knows for the model, or one the
        catalogue marks as assumed. A length set in the provider's profile is the user's word.
        """
        profile = self.context.settings.providers.get(self.route.provider)
        configured = profile.context_length if profile is not None else None
        if configured:
            return configured, False
        card = self.card_for_model()
        if card is not None and card.context_length:
            return card.context_length, card.builtin or card.context_assumed
        known = assumed_context_length(self.session.model)
        return known, known is not None
