"""The chat screen's still parts (header, sidebar, composer area, footer) sit in StillBoxes so
that a streaming reply's frames skip them (glmtui.ui.widgets.still_box): the layout must be the
one they had without boxes."""

from __future__ import annotations

from textual.widgets import Header

from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.footer import KeyFooter
from glmtui.ui.widgets.sidebar import ParameterSidebar
from glmtui.ui.widgets.status import StatusBar
from tests.ui_helpers import chat, make_app, sample_session, settle


async def test_boxed_chrome_keeps_its_place_in_every_layout() -> None:
    """Header, sidebar, composer area and footer sit in StillBoxes (glmtui.ui.widgets.still_box);
    the boxes must place them exactly where they were (this test passes unchanged on the tree
    before the boxes): header on top, footer at the bottom, sidebar docked right of the
    conversation, the composer and status bar under it, at any size and with the sidebar
    hidden."""
    app = make_app(session=sample_session())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = chat(app)
        header, footer = screen.query_one(Header), screen.query_one(KeyFooter)
        sidebar = screen.query_one(ParameterSidebar)
        view, status = screen.conversation, screen.query_one(StatusBar)
        composer = screen.query_one(Composer)
        assert (header.region.y, header.region.height, header.region.width) == (0, 1, 120)
        assert (footer.region.y, footer.region.width) == (39, 120)
        assert view.region.y == 1
        assert view.region.right == sidebar.region.x
        assert sidebar.region.right == 120
        assert sidebar.region.width == 38
        assert composer.region.y == view.region.bottom
        assert status.region.bottom == 39
        # The first Ctrl+B goes to the docked sidebar, the second (from there) hides it: the
        # conversation takes the width.
        await pilot.press("ctrl+b", "ctrl+b")
        await settle(pilot)
        assert not sidebar.display
        assert view.region.width == 120
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert footer.region.y == 23
        assert status.region.bottom == 23
        assert view.region.width == 80
