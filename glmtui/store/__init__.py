"""Sessions on disk: one TOML or JSON file per conversation, an index for speed, no Textual.

The UI, the CLI and the tests use this package through the names below; see
:class:`~glmtui.store.sessions.SessionStore` for the operations and
:mod:`glmtui.store.codecs` for the file format.
"""

from __future__ import annotations

from glmtui.store.codecs import (
    FORMATS,
    SCHEMA_VERSION,
    SessionFormat,
    decode_session,
    encode_session,
    storable_text,
)
from glmtui.store.errors import (
    AmbiguousSession,
    SessionConflict,
    SessionFileError,
    SessionNotFound,
    StoreError,
    describe_os_error,
)
from glmtui.store.export import EXPORT_FORMATS, ExportFormat, session_to_markdown
from glmtui.store.records import (
    DeletedSession,
    FileStamp,
    OpenedSession,
    RefreshReport,
    SearchHit,
    SessionSummary,
    session_tokens,
)
from glmtui.store.sessions import SessionStore, session_file_name, slugify

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "SCHEMA_VERSION",
    "AmbiguousSession",
    "DeletedSession",
    "ExportFormat",
    "FileStamp",
    "OpenedSession",
    "RefreshReport",
    "SearchHit",
    "SessionConflict",
    "SessionFileError",
    "SessionFormat",
    "SessionNotFound",
    "SessionStore",
    "SessionSummary",
    "StoreError",
    "decode_session",
    "describe_os_error",
    "encode_session",
    "session_file_name",
    "session_to_markdown",
    "session_tokens",
    "slugify",
    "storable_text",
]
