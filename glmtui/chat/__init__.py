"""The conversation services, between the UI and the provider: where requests go
(:mod:`~glmtui.chat.endpoints`), keeping a session on disk (:mod:`~glmtui.chat.keeper`), the
model catalogue (:mod:`~glmtui.chat.catalog`), the request in other forms
(:mod:`~glmtui.chat.export`) and the figures both front ends print
(:mod:`~glmtui.chat.formatting`). No Textual here: the TUI and ``glmtui ask`` share them.
"""
