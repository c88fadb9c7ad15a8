"""The parameter sidebar drives the exact request sent (Pilot against the loopback server)."""

from __future__ import annotations

from textual.widgets import Input, TextArea

from glmtui.config import load_settings
from glmtui.store import SessionStore
from glmtui.ui.screens.parameters import ParametersScreen
from glmtui.ui.widgets.sidebar import ParameterSidebar
from tests.conftest import FAKE_KEY
from tests.server import LoopbackServer
from tests.ui_helpers import chat, make_app, send, settle, sidebar_ready, until, visible_text

WIDE = (130, 40)


async def type_into(pilot: object, selector: str, text: str) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    if selector.startswith("#sidebar "):
        await sidebar_ready(pilot)  # type: ignore[arg-type]
    field = app.screen.query_one(selector)
    field.focus()
    if isinstance(field, Input):
        field.value = ""
    if text:
        await pilot.press(*text)  # type: ignore[attr-defined]
    if isinstance(field, Input):
        await pilot.press("enter")  # type: ignore[attr-defined]  # values apply on Enter/leave
    await pilot.pause()  # type: ignore[attr-defined]


async def test_defaults_are_not_sent(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=WIDE) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
    body = server.chat_requests[0].json()
    for name in ("temperature", "top_p", "max_tokens", "seed", "stop", "frequency_penalty"):
        assert name not in body


async def test_changed_fields_change_the_request(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=WIDE) as pilot:
        await type_into(pilot, "#sidebar #temperature", "0.25")
        await type_into(pilot, "#sidebar #max_tokens", "300")
        system = chat(app).query_one("#sidebar #system", TextArea)
        system.text = "Answer in French."
        await pilot.pause()
        await send(pilot, "hi")
        await settle(pilot)
    body = server.chat_requests[0].json()
    assert body["temperature"] == 0.25
    assert body["max_tokens"] == 300
    assert body["messages"][0] == {"role": "system", "content": "Answer in French."}


async def test_invalid_value_is_marked_and_never_sent(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=WIDE) as pilot:
        await type_into(pilot, "#sidebar #temperature", "0.5")
        await type_into(pilot, "#sidebar #temperature", "7")
        screen = chat(app)
        field = screen.query_one("#sidebar #temperature", Input)
        assert field.has_class("-invalid")
        assert "must be 0–2 (got 7)" in visible_text(app)
        await send(pilot, "hi")
        await settle(pilot)
    assert server.chat_requests[0].json()["temperature"] == 0.5  # the last good value


async def test_parameters_persist_through_save_and_reopen(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=WIDE) as pilot:
        await type_into(pilot, "#sidebar #top_p", "0.9")
        await type_into(pilot, "#sidebar #seed", "42")
        await send(pilot, "hi")
        await settle(pilot)
        session_id = chat(app).session.id
    reopened = SessionStore.from_settings(load_settings()).load(session_id)
    assert (reopened.parameters.top_p, reopened.parameters.seed) == (0.9, 42)
    app = make_app(server, session=reopened)
    async with app.run_test(size=WIDE) as pilot:
        await sidebar_ready(pilot)
        assert chat(app).query_one("#sidebar #top_p", Input).value == "0.9"
        await send(pilot, "again")
        await settle(pilot)
    assert server.chat_requests[-1].json()["seed"] == 42


async def test_reset_returns_to_config_defaults(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=WIDE) as pilot:
        await type_into(pilot, "#sidebar #temperature", "1.5")
        reset = chat(app).query_one("#sidebar #reset")
        reset.scroll_visible(animate=False)
        await pilot.pause()
        await pilot.click(reset)
        await pilot.pause()
        assert chat(app).session.parameters.temperature is None
        assert chat(app).query_one("#sidebar #temperature", Input).value == ""


async def test_copy_as_curl_has_no_key(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=WIDE) as pilot:
        screen = chat(app)
        screen.query_one("#composer", TextArea).text = "what is 2+2?"
        screen.action_copy_request("curl")
        await pilot.pause()
        copied = app.clipboard
    assert copied.startswith("curl ")
    assert "what is 2+2?" in copied
    assert "$OXEN_API_KEY" in copied
    assert FAKE_KEY not in copied


async def test_request_preview_shows_all_three_forms(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=WIDE) as pilot:
        chat(app).action_preview_request()
        await pilot.pause()
        assert "curl -sS -N" in visible_text(app)
        await pilot.press("3")
        await pilot.pause()
        assert '"model": "zai-org-glm-5"' in visible_text(app)
        await pilot.press("c")
        assert app.clipboard.lstrip().startswith("{")


async def test_overlay_in_narrow_terminal(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        assert not screen.query_one("#sidebar", ParameterSidebar).display
        await pilot.press("ctrl+b")
        await until(pilot, lambda: isinstance(app.screen, ParametersScreen))
        field = app.screen.query_one("#temperature", Input)
        field.value = "0.1"
        await pilot.pause()
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        assert screen.session.parameters.temperature == 0.1
        await send(pilot, "hi")
        await settle(pilot)
    assert server.chat_requests[0].json()["temperature"] == 0.1


async def test_model_field_changes_the_model(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=WIDE) as pilot:
        await type_into(pilot, "#sidebar #model", "meta-llama-3.2-3b-instruct")
        await send(pilot, "hi")
        await settle(pilot)
        assert "meta-llama-3.2-3b-instruct" in app.screen.sub_title
    assert server.chat_requests[0].json()["model"] == "meta-llama-3.2-3b-instruct"


def test_parse_alternative() -> None:
    import pytest

    from glmtui.domain import Parameters
    from glmtui.domain.params import ParameterError
    from glmtui.ui.screens.compare import parse_alternative

    alt = parse_alternative("other temperature=0.2 top_p=0.5", "m", Parameters(seed=1))
    assert alt.model == "other"
    assert alt.parameters == Parameters(temperature=0.2, top_p=0.5, seed=1)
    assert parse_alternative("max_tokens=10", "m", Parameters()).model == "m"
    with pytest.raises(ParameterError, match="must be 0–2"):
        parse_alternative("x temperature=9", "m", Parameters())
    with pytest.raises(ParameterError, match="unknown parameter"):
        parse_alternative("x colour=3", "m", Parameters())


async def test_compare_and_keep_the_alternative(server: LoopbackServer) -> None:
    from glmtui.ui.screens.compare import CompareScreen
    from tests.server import stream_of

    server.enqueue(stream_of(["first answer"], usage=True))
    server.enqueue(stream_of(["second answer"], usage=True))
    app = make_app(server)
    async with app.run_test(size=WIDE) as pilot:
        await send(pilot, "the question")
        await settle(pilot)
        screen = chat(app)
        screen.action_compare()
        await pilot.pause()
        await pilot.press(*" temperature=0.2", "enter")  # after the current model's id
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen
        await until(pilot, lambda: "right" in compare.results)  # type: ignore[attr-defined]
        text = visible_text(app)
        assert "first answer" in text
        assert "second answer" in text
        assert "token ·" in text  # each pane shows its stats
        await pilot.press("2")
        await until(pilot, lambda: app.screen is screen)
        assert [m.content for m in screen.session.messages] == ["the question", "second answer"]
    body = server.chat_requests[1].json()
    assert body["temperature"] == 0.2
    assert body["messages"] == [{"role": "user", "content": "the question"}]
