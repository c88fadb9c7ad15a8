"""A box that keeps a still part of the screen out of a streaming reply's frames.

At every partial repaint, Textual's compositor re-renders each widget whose *clip* the update
touches. A widget placed directly on the screen is clipped by the whole screen, so the header,
the footer and the parameter sidebar were all rendered again at every frame of a streaming
reply (from their caches, but ~0.1-0.2 ms each: a fifth of a frame), though none of them
changed. Inside a box, a widget is clipped by the box, and skipped unless an update falls in it.

The box itself is still rendered at every frame, but it draws nothing of its own (Textual's
``BLANK``: no border, no content), which costs next to nothing. By default it is as large as
what it holds; the chat screen's stylesheet docks and sizes each box where its widget was, so
the layout is the same as without boxes.
"""

from __future__ import annotations

from textual.containers import Container


class StillBox(Container):
    """A borderless, contentless box around a widget that is placed on the screen."""

    BLANK = True
    DEFAULT_CSS = """
    StillBox {
        width: auto;
        height: auto;
    }
    """
