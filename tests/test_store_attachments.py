"""Attachments and compaction in the store: binary content stored once by hash (private,
atomic), the schema 4 fields in both formats, older files untouched until saved, bad fields as
one-line reasons, a missing blob as a notice (never a crash), exports, search and copies."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from glmtui import paths
from glmtui.domain import Message, Session
from glmtui.domain.attachments import Attachment
from glmtui.store import (
    SCHEMA_VERSION,
    SessionFileError,
    SessionFormat,
    SessionStore,
    StoreError,
    decode_session,
    encode_session,
)
from tests.conftest import FAKE_KEY

FORMATS: list[SessionFormat] = ["toml", "json"]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
PNG_SHA = hashlib.sha256(PNG).hexdigest()
NOTES = "# Plan\n\n- ship it\n```py\nx = 1\n```\n"


def at(second: int) -> datetime:
    return datetime(2026, 12, 9, 10, 0, second, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[SessionStore]:
    with SessionStore(paths.data_dir(), secrets=(FAKE_KEY,)) as store:
        yield store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def with_files(**changes: object) -> Session:
    """A prompt with a text file and an image, its reply, and a compaction summary."""
    session = Session(
        id="files1",
        title="Review the plan",
        created_at=at(0),
        updated_at=at(5),
        model="qwen-qwen3-vl-32b-instruct",
        provider="oxen",
        messages=[
            Message(
                "user",
                "Review this",
                created_at=at(0),
                id="u1",
                attachments=(
                    Attachment("docs/plan.md", "text", "text/markdown", len(NOTES), NOTES),
                    Attachment("shot.png", "image", "image/png", len(PNG), sha256=PNG_SHA),
                ),
                compacted=True,
            ),
            Message("assistant", "Looks fine.", created_at=at(3), id="a1", status="complete"),
            Message(
                "assistant",
                "Summary: a plan was reviewed.",
                created_at=at(5),
                id="s1",
                status="complete",
                summary_of=("u1",),
            ),
        ],
    )
    for name, value in changes.items():
        setattr(session, name, value)
    return session


# --- the blob store -------------------------------------------------------------------------------


def test_binary_content_is_stored_once_privately_by_hash(store: SessionStore) -> None:
    digest = store.put_blob(PNG)
    assert digest == PNG_SHA
    path = store.blob_path(digest)
    assert path == store.data_dir / "attachments" / digest[:2] / f"{digest}.bin"
    assert path.read_bytes() == PNG
    assert (mode(path), mode(path.parent), mode(store.blob_folder)) == (0o600, 0o700, 0o700)
    inode = path.stat().st_ino
    assert store.put_blob(PNG) == digest  # the same content: nothing written again
    assert path.stat().st_ino == inode
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left
    assert store.has_blob(digest)
    assert store.read_blob(digest) == PNG


def test_reading_a_missing_damaged_or_foreign_blob_fails_cleanly(store: SessionStore) -> None:
    with pytest.raises(FileNotFoundError):
        store.read_blob("0" * 64)
    for bad in ("../../sessions/x", "A" * 64, ""):
        assert not store.has_blob(bad)
        with pytest.raises(FileNotFoundError):
            store.read_blob(bad)
    digest = store.put_blob(PNG)
    store.blob_path(digest).write_bytes(PNG[:-1] + b"!")
    with pytest.raises(OSError, match="damaged"):
        store.read_blob(digest)


def test_a_failed_blob_write_leaves_nothing(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(StoreError, match="the disk is full"):
        store.put_blob(PNG)
    assert not store.has_blob(PNG_SHA)
    assert list(store.blob_path(PNG_SHA).parent.iterdir()) == []  # the temp file is gone


# --- the file format ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_attachments_and_compaction_round_trip(fmt: SessionFormat) -> None:
    session = with_files()
    assert decode_session(encode_session(session, fmt), fmt=fmt) == session


def test_toml_layout_of_attachments_and_compaction() -> None:
    text = encode_session(with_files(), "toml").decode()
    assert text.startswith("schema_version = 4\n")
    assert SCHEMA_VERSION == 4
    assert (
        '[[messages]]\nrole = "user"\nid = "u1"\ncreated_at = 2026-12-09T10:00:00Z\n'
        'compacted = true\ncontent = "Review this"\n'
        "\n"
        "[[messages.attachments]]\n"
        'name = "docs/plan.md"\n'
        'kind = "text"\n'
        'mime = "text/markdown"\n'
        "size = 34\n"
        f"text = '''\n{NOTES}'''\n"
        "\n"
        "[[messages.attachments]]\n"
        'name = "shot.png"\n'
        'kind = "image"\n'
        'mime = "image/png"\n'
        "size = 208\n"
        f'sha256 = "{PNG_SHA}"\n'
    ) in text
    assert 'status = "complete"\nsummary_of = ["u1"]\ncontent = "Summary' in text
    assert text.count("compacted") == 1  # only written when true


def test_json_layout_of_attachments() -> None:
    data = json.loads(encode_session(with_files(), "json"))
    first = data["messages"][0]
    assert list(first) == ["role", "id", "created_at", "compacted", "content", "attachments"]
    assert first["attachments"] == [
        {
            "name": "docs/plan.md",
            "kind": "text",
            "mime": "text/markdown",
            "size": 34,
            "text": NOTES,
        },
        {"name": "shot.png", "kind": "image", "mime": "image/png", "size": 208, "sha256": PNG_SHA},
    ]
    assert data["messages"][2]["summary_of"] == ["u1"]
    assert "compacted" not in data["messages"][1]


def test_a_hand_written_attachment_needs_only_name_and_kind() -> None:
    data = (
        b'schema_version = 4\nid = "x"\ncreated_at = 2026-01-01T00:00:00Z\n'
        b'[[messages]]\nrole = "user"\ncontent = "see"\n'
        b'attachments = [{ name = "a.txt", kind = "text", text = "h\xc3\xa9" }, '
        b'{ name = "b.pdf", kind = "pdf", sha256 = "' + b"f" * 64 + b'" }]\n'
    )
    [message] = decode_session(data, fmt="toml").messages
    assert message.attachments == (
        Attachment("a.txt", "text", "text/plain", 3, "hé"),
        Attachment("b.pdf", "pdf", "application/pdf", 0, sha256="f" * 64),
    )


HEAD = b'schema_version = 4\nid = "x"\ncreated_at = 2026-01-01T00:00:00Z\n'
PROMPT = b'[[messages]]\nrole = "user"\ncontent = ""\n'


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (b'attachments = "a.png"\n', "message 1: 'attachments' is not a list of attachments"),
        (b"attachments = [1]\n", "message 1, attachment 1: not a table (got 1)"),
        (b'[[messages.attachments]]\nkind = "text"\n', "message 1, attachment 1: missing 'name'"),
        (
            b'[[messages.attachments]]\nname = "v.mp4"\nkind = "video"\n',
            "message 1, attachment 1: 'kind' must be one of text, image, pdf (got 'video')",
        ),
        (
            b'[[messages.attachments]]\nname = "a.png"\nkind = "image"\n',
            "message 1, attachment 1: missing 'sha256' (the content of a image)",
        ),
        (
            b'[[messages.attachments]]\nname = "a.png"\nkind = "image"\nsha256 = "../../x"\n',
            "message 1, attachment 1: 'sha256' is not a SHA-256 content hash (64 hex digits)",
        ),
        (
            b'[[messages.attachments]]\nname = "a"\nkind = "text"\nsize = -1\n',
            "message 1, attachment 1: 'size' is negative (got -1)",
        ),
        (
            b'[[messages.attachments]]\nname = "a"\nkind = "text"\ntext = 3\n',
            "message 1, attachment 1: 'text' is not text (got 3)",
        ),
        (b'compacted = "yes"\n', "message 1: 'compacted' is not true or false (got 'yes')"),
        (b'summary_of = "u1"\n', "message 1: 'summary_of' is not a list of message ids"),
        (b"summary_of = [1]\n", "message 1: 'summary_of' holds 1, not a message id"),
    ],
)
def test_bad_fields_are_one_line_reasons(extra: bytes, reason: str) -> None:
    with pytest.raises(SessionFileError) as caught:
        decode_session(HEAD + PROMPT + extra, fmt="toml")
    assert caught.value.reason.startswith(reason)
    assert "\n" not in caught.value.reason


def with_version(data: bytes, fmt: SessionFormat, version: int) -> bytes:
    """A file written now, relabelled as written under another ``schema_version``."""
    key = "schema_version = " if fmt == "toml" else '"schema_version": '
    now, then = f"{key}{SCHEMA_VERSION}", f"{key}{version}"
    assert now.encode() in data
    return data.replace(now.encode(), then.encode(), 1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_schema_3_file_loads_and_is_rewritten_only_when_saved(
    store: SessionStore, fmt: SessionFormat
) -> None:
    old = Session(
        id="old3", title="Before files", created_at=at(0), messages=[Message("user", "hi")]
    )
    data = with_version(encode_session(old, fmt), fmt, 3)
    store.folder.mkdir(parents=True)
    path = store.folder / f"20261209-100000-before-files.{fmt}"
    path.write_bytes(data)
    opened = store.open_session(path)
    assert opened.session == old
    assert opened.notice is None
    assert not opened.session.read_only
    store.export(opened.session, "md")
    assert store.search("hi")
    assert path.read_bytes() == data  # opening, exporting, searching: untouched
    attached = (Attachment("a.txt", "text", "text/plain", 1, "x"),)
    opened.session.messages[0] = Message("user", "hi", attachments=attached)
    store.save(opened.session, path=path)
    written = path.read_bytes()
    parsed = tomllib.loads(written.decode()) if fmt == "toml" else json.loads(written)
    assert parsed["schema_version"] == SCHEMA_VERSION
    assert store.load(path).messages[0].attachments == attached


def test_a_newer_file_opens_read_only(store: SessionStore) -> None:
    store.folder.mkdir(parents=True)
    path = store.folder / "20261209-100000-future.toml"
    data = with_version(encode_session(with_files(), "toml"), "toml", SCHEMA_VERSION + 1)
    path.write_bytes(data)
    opened = store.open_session(path)
    assert opened.session.read_only
    with pytest.raises(StoreError, match="read-only"):
        store.save(opened.session, path=path)
    assert path.read_bytes() == data


# --- opening, showing, exporting, searching -------------------------------------------------


def test_a_missing_blob_opens_with_a_notice_never_a_crash(store: SessionStore) -> None:
    session = with_files()
    path = store.save(session)
    opened = store.open_session(path)
    assert opened.session == session
    assert opened.missing_attachments == ("shot.png",)
    assert opened.notice == (
        "“Review the plan”: the content of shot.png (attached earlier) is no longer in the "
        "data folder; the chat reads as before, but to send on, delete or edit the message it "
        "came with, or fork the chat from before it."
    )
    store.put_blob(PNG)
    assert store.open_session(path).notice is None
    assert store.missing_attachments(session) == ()


def test_markdown_export_names_attachments_and_shows_text_files(store: SessionStore) -> None:
    session = with_files()
    full = store.export(session, "md")
    assert (
        "## User\n\n"
        "*(compacted: a summary stands in for it in requests)*\n\n"
        "Review this\n\n"
        "**Attachments**\n\n"
        "- `docs/plan.md` · text · 34 bytes\n"
        "- `shot.png` · image (image/png) · 208 bytes\n\n"
        "`docs/plan.md`:\n\n"
        "````md\n# Plan\n\n- ship it\n```py\nx = 1\n```\n````\n"
    ) in full
    assert "*(summary of 1 earlier message)*\n\nSummary: a plan was reviewed." in full
    brief = store.export(session, "md", brief=True)
    assert "- `shot.png` · image (image/png) · 208 bytes\n" in brief
    assert "ship it" not in brief  # the brief form names files; export shows them


def test_search_finds_text_inside_text_attachments_and_names(store: SessionStore) -> None:
    store.save(with_files())
    [hit] = store.search("ship it")
    assert (hit.summary.id, hit.field, hit.message_index) == ("files1", "message", 0)
    assert "ship it" in hit.snippet
    assert [h.summary.id for h in store.search("shot.png")] == ["files1"]


def test_a_key_in_an_attached_file_is_masked(store: SessionStore) -> None:
    leaked = Attachment("env.txt", "text", "text/plain", 60, f"OXEN_API_KEY={FAKE_KEY}\n")
    session = with_files()
    session.messages[0] = Message("user", "x", attachments=(leaked,))
    path = store.save(session)
    assert FAKE_KEY.encode() not in path.read_bytes()
    assert store.load(path).messages[0].attachments[0].text == "OXEN_API_KEY=***\n"


def test_copies_keep_summaries_pointing_at_their_own_messages(store: SessionStore) -> None:
    session = with_files()
    copy = store.duplicate(session)
    first, _, summary = copy.messages
    assert first.id != "u1"
    assert summary.summary_of == (first.id,)
    assert first.compacted
    assert first.attachments == session.messages[0].attachments
    fork = store.fork(session, 1)  # before the summary: nothing stands in for the first
    assert [m.compacted for m in fork.messages] == [False, False]
