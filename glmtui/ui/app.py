"""GlmApp: the Textual application. Kept thin: screens do the work."""

from __future__ import annotations

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Input, Markdown, Static

from glmtui.config import Settings


class GlmApp(App[int]):
    """The glmtui application."""

    TITLE = "glmtui"

    CSS = """
    #conversation { height: 1fr; padding: 0 1; }
    .user { color: $text-accent; margin: 1 0 0 0; }
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.sub_title = settings.model + (" (demo)" if settings.demo else "")

    def compose(self) -> ComposeResult:
        yield Header()
        yield VerticalScroll(id="conversation")
        yield Input(placeholder="Ask GLM-5…", id="composer")
        yield Footer()

    @on(Input.Submitted)
    async def send(self, event: Input.Submitted) -> None:
        from glmtui.api.request import build_request
        from glmtui.domain import Message, Session

        prompt = event.value.strip()
        if not prompt:
            return
        event.input.value = ""
        pane = self.query_one("#conversation", VerticalScroll)
        await pane.mount(Static(prompt, markup=False, classes="user"))
        reply = Markdown()
        await pane.mount(reply)
        pane.anchor()
        session = Session(model=self.settings.model, messages=[Message("user", prompt)])
        self.stream_reply(build_request(session), reply)

    @work(exclusive=True, group="generation")
    async def stream_reply(self, request: object, reply: Markdown) -> None:
        from glmtui.api.errors import ApiError
        from glmtui.api.events import ContentDelta
        from glmtui.connect import make_client

        stream = Markdown.get_stream(reply)
        async with make_client(self.settings) as client:
            try:
                async for event in client.stream_chat(request):  # type: ignore[arg-type]
                    if isinstance(event, ContentDelta):
                        await stream.write(event.text)
            except ApiError as error:
                self.notify(error.describe(), severity="error")
            finally:
                await stream.stop()
