"""The baseline: the naive chat screen every Textual chat client starts from.

A ``VerticalScroll`` anchored to the bottom holds the messages, an ``Input`` is docked below,
and the assistant's reply is a ``Markdown`` widget fed through ``Markdown.get_stream()`` one
delta at a time: perf-baseline's ``md-stream`` variant (``/work/shared/perf-baseline``). Its
tokens come through the same :class:`~glmtui.api.client.ChatClient` as glmtui's, so the ratios
compare screens, not network code. Prior messages (the long-session run) are a ``Static`` per
prompt and a ``Markdown`` per reply.

The module imports only Textual at the top, so its startup figure is Textual's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Markdown, Static

if TYPE_CHECKING:
    from glmtui.api.client import ChatClient

READY_TEXT = "Ask something"
"""Text on the naive screen's first frame (the Input's placeholder)."""


class UserBubble(Static):
    """A prompt in the naive screen."""

    DEFAULT_CSS = "UserBubble { margin: 1 1 0 1; padding: 0 1; background: $boost; }"


class AnswerMarkdown(Markdown):
    """A reply in the naive screen."""

    DEFAULT_CSS = "AnswerMarkdown { margin: 1 1 0 1; padding: 0 1; }"


class NaiveChatApp(App[None]):
    """A minimal chat screen at the mercy of ``Markdown.get_stream()``."""

    CSS = "#chat { height: 1fr; } Input { dock: bottom; }"
    AUTO_FOCUS = "Input"

    def __init__(
        self, history: Sequence[tuple[str, str]] = (), client: ChatClient | None = None
    ) -> None:
        """``history`` is ``(role, text)`` pairs mounted before the first frame; with a
        ``client``, a prompt entered in the Input is sent and its reply streamed (for
        measuring the screen in a real terminal, see :mod:`tests.benchmarks.tmux_cpu`)."""
        super().__init__()
        self.history = list(history)
        self.client = client

    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="chat")
        yield Input(placeholder=READY_TEXT)

    async def on_mount(self) -> None:
        chat = self.query_one("#chat", VerticalScroll)
        chat.anchor()
        if self.history:
            await chat.mount_all(
                UserBubble(text, markup=False) if role == "user" else AnswerMarkdown(text)
                for role, text in self.history
            )

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.client is not None and event.value:
            event.input.value = ""
            self.run_worker(self._ask(self.client, event.value))

    async def _ask(self, client: ChatClient, prompt: str) -> None:
        await self.feed(client, prompt, await self.reply(prompt))

    async def reply(self, prompt: str) -> AnswerMarkdown:
        """Mount the prompt and an empty answer; returns the answer (stream with :meth:`feed`)."""
        chat = self.query_one("#chat", VerticalScroll)
        answer = AnswerMarkdown("")
        await chat.mount_all([UserBubble(prompt, markup=False), answer])
        chat.anchor()
        return answer

    async def feed(self, client: ChatClient, prompt: str, answer: AnswerMarkdown) -> None:
        """Stream the reply into ``answer``, one ``stream.write()`` per content delta."""
        from glmtui.api.events import ContentDelta
        from glmtui.api.request import ChatRequest

        request = ChatRequest(
            model="zai-org-glm-5", messages=({"role": "user", "content": prompt},)
        )
        stream = Markdown.get_stream(answer)
        try:
            async for event in client.stream_chat(request):
                if isinstance(event, ContentDelta):
                    await stream.write(event.text)
        finally:
            await stream.stop()


if __name__ == "__main__":
    import sys

    from glmtui.api.client import ChatClient as _Client

    # python -m tests.benchmarks.naive [BASE_URL]: with a URL, prompts are sent there.
    NaiveChatApp(client=_Client(sys.argv[1], "bench") if len(sys.argv) > 1 else None).run()
