"""The chat screen's parts, by responsibility: each a mixin of
:class:`~glmtui.ui.screens.chat.ChatScreen` (Textual finds handlers and actions on any class
of a screen), so the screen itself keeps only layout, keys and the wiring of the
conversation controller's events to the widgets.

- :mod:`.base`: what every part may use (the controller, the context, the widgets).
- :mod:`.painter`: draws a streaming reply's events into its item.
- :mod:`.parameters`: the sidebar and the overlay, the request preview and copy.
- :mod:`.models`: the model's card, suggestions, details, the catalogue, switching model.
- :mod:`.messages`: actions on one message (delete, edit and resend, fork, code blocks).
- :mod:`.dialogs`: where a session may send, a file changed elsewhere, sessions and titles.
- :mod:`.tools`: tool calls (approval, each call's progress in its reply), the Tools screen.
- :mod:`.compaction`: compacting the conversation (F8, ``/compact``), its summary, undo.
- :mod:`.commands`: the command palette's entries.
- :mod:`.status`: what the status bar shows.
"""
