"""``glmtui ask -f FILE``: attachments from the command line, against the loopback server.

Text goes inline as a fenced block headed by its path; an image goes as an ``image_url`` part
with a data URL, and only to a model whose card says it takes images; anything refused (a
binary file, a limit, a model that cannot take the kind) exits 2 with one line and sends
nothing. A saved session gains the attachments, and identical images are stored once."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
from pathlib import Path

import pytest

from glmtui.cli import main
from glmtui.config import load_settings
from glmtui.domain import Message, Session
from glmtui.domain.attachments import Attachment
from glmtui.store import SessionStore
from tests.conftest import FAKE_KEY
from tests.server import (
    LLAMA_MODEL,
    VISION_MODEL,
    WIDE_CATALOGUE,
    JsonReply,
    LoopbackServer,
    stream_of,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(120))
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
PNG_SHA = hashlib.sha256(PNG).hexdigest()
VISION = str(VISION_MODEL["id"])


@pytest.fixture(autouse=True)
def keyed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A key, empty stdin, and a working folder of its own (attachment names are relative)."""
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def ask(server: LoopbackServer, *argv: str) -> list[str]:
    return ["ask", "--base-url", server.base_url, *argv]


def with_vision_catalogue(server: LoopbackServer) -> None:
    """The provider knows the vision model (its own route and in the list)."""
    server.set_default(JsonReply(200, VISION_MODEL), f"/models/{VISION}")
    server.set_default(JsonReply(200, LLAMA_MODEL), f"/models/{LLAMA_MODEL['id']}")
    server.set_default(JsonReply(200, WIDE_CATALOGUE), "/models")


def last_prompt(server: LoopbackServer) -> object:
    [request] = server.chat_requests
    return request.json()["messages"][-1]["content"]


def test_a_text_file_goes_inline_as_a_fenced_block_with_its_path(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer, keyed: Path
) -> None:
    (keyed / "notes.md").write_text("# Notes\n```\ncode\n```\n")
    server.enqueue(stream_of(["Done."]))
    code, out, err = run(capsys, *ask(server, "-f", "notes.md", "Summarise"))
    assert (code, out) == (0, "Done."), err
    assert last_prompt(server) == "Summarise\n\nnotes.md\n````\n# Notes\n```\ncode\n```\n````"


def test_an_image_goes_as_a_data_url_to_a_model_that_takes_images(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer, keyed: Path
) -> None:
    (keyed / "cat.png").write_bytes(PNG)
    with_vision_catalogue(server)
    server.enqueue(stream_of(["A cat."]))
    code, out, err = run(
        capsys, *ask(server, "--model", VISION, "-f", "cat.png", "--json", "What is this?")
    )
    assert code == 0, err
    assert last_prompt(server) == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": PNG_URL}},
    ]
    assert server.chat_requests[0].json()["model"] == VISION
    assert json.loads(out)["attachments"] == [
        {
            "name": "cat.png",
            "kind": "image",
            "mime": "image/png",
            "size": len(PNG),
            "sha256": PNG_SHA,
        }
    ]


def test_a_text_only_model_refuses_an_image_and_nothing_is_sent(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer, keyed: Path
) -> None:
    (keyed / "cat.png").write_bytes(PNG)
    with_vision_catalogue(server)
    code, out, err = run(capsys, *ask(server, "-f", "cat.png", "What is this?"))
    assert (code, out) == (2, "")
    assert err == (
        "glmtui: zai-org-glm-5 takes text only; attach images to a model that takes them, "
        f"e.g. {VISION} (--model ID picks another; 'glmtui models' lists them). "
        "Nothing was sent.\n"
    )
    assert server.chat_requests == []
    # a model known from the provider's catalogue is refused the same way
    code, _, err = run(
        capsys, *ask(server, "--model", str(LLAMA_MODEL["id"]), "-f", "cat.png", "Hm?")
    )
    assert code == 2
    assert err.startswith(f"glmtui: {LLAMA_MODEL['id']} takes text only; attach images")
    assert server.chat_requests == []


def test_a_model_the_provider_does_not_describe_is_not_refused(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer, keyed: Path
) -> None:
    """A self-hosted server says nothing of a model's inputs: the server decides."""
    (keyed / "cat.png").write_bytes(PNG)
    server.enqueue(stream_of(["ok"]))
    code, _, err = run(capsys, *ask(server, "--model", "my-local-vlm", "-f", "cat.png", "?"))
    assert code == 0, err
    assert last_prompt(server) == [
        {"type": "text", "text": "?"},
        {"type": "image_url", "image_url": {"url": PNG_URL}},
    ]


@pytest.mark.parametrize(
    ("name", "data", "config", "reason"),
    [
        (
            "tool.zip",
            b"PK\x03\x04" + bytes(20),
            "",
            "tool.zip is a binary file (application/zip); only text, images (PNG, JPEG, WebP, "
            "GIF) and PDFs can be attached.",
        ),
        (
            "big.txt",
            b"x" * 3000,
            "[attachments]\nmax_file_kb = 2\n",
            "big.txt is 2.9 KB; text files can be attached up to 2 KB ([attachments] max_file_kb).",
        ),
    ],
)
def test_a_refused_file_exits_2_with_one_line_and_sends_nothing(
    capsys: pytest.CaptureFixture[str],
    server: LoopbackServer,
    keyed: Path,
    config_file: Path,
    name: str,
    data: bytes,
    config: str,
    reason: str,
) -> None:
    config_file.write_text(config)
    (keyed / name).write_bytes(data)
    code, out, err = run(capsys, *ask(server, "-f", name, "Look"))
    assert (code, out, err) == (2, "", f"glmtui: {reason} Nothing was sent.\n")
    assert server.requests == []


def test_a_saved_session_gains_the_attachments_and_one_blob_for_two_copies(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer, keyed: Path
) -> None:
    (keyed / "a.png").write_bytes(PNG)
    (keyed / "b.png").write_bytes(PNG)
    (keyed / "notes.txt").write_text("same picture twice\n")
    with_vision_catalogue(server)
    server.enqueue(stream_of(["Twins."]))
    argv = ask(server, "--model", VISION, "--save", "-f", "a.png", "-f", "b.png", "-f", "notes.txt")
    code, _, err = run(capsys, *argv, "Compare")
    assert code == 0, err
    with SessionStore.from_settings(load_settings()) as store:
        [summary] = store.list_sessions()
        session = store.load(summary.path)
        prompt = session.messages[0]
        assert prompt.content == "Compare"
        assert prompt.attachments == (
            Attachment("a.png", "image", "image/png", len(PNG), sha256=PNG_SHA),
            Attachment("b.png", "image", "image/png", len(PNG), sha256=PNG_SHA),
            Attachment("notes.txt", "text", "text/plain", 19, "same picture twice\n"),
        )
        blobs = [p for p in store.blob_folder.rglob("*") if p.is_file()]
        assert blobs == [store.blob_path(PNG_SHA)]
        assert store.read_blob(PNG_SHA) == PNG
        assert 'sha256 = "' in summary.path.read_text()
    content = last_prompt(server)
    assert isinstance(content, list)
    assert [part["type"] for part in content] == ["text", "image_url", "image_url"]
    assert content[0]["text"] == "Compare\n\nnotes.txt\n```\nsame picture twice\n```"


def test_stdin_can_be_an_attachment_and_the_prompt_may_be_left_out(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("line one\nline two\n"))
    server.enqueue(stream_of(["ok"]))
    code, _, err = run(capsys, *ask(server, "-f", "-"))
    assert code == 0, err
    assert last_prompt(server) == "stdin\n```\nline one\nline two\n```"


def test_stdin_cannot_be_both_prompt_and_attachment(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer
) -> None:
    code, _, err = run(capsys, *ask(server, "-f", "-", "-"))
    assert code == 2
    assert "stdin can be the prompt ('-') or an attachment ('-f -'), not both" in err
    assert server.requests == []


def test_a_folder_attaches_its_text_files_and_says_what_it_left_out(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer, keyed: Path
) -> None:
    (keyed / "src").mkdir()
    (keyed / "src" / "a.py").write_text("a = 1\n")
    (keyed / "src" / "logo.png").write_bytes(PNG)
    (keyed / "src" / ".gitignore").write_text("*.tmp\n")
    (keyed / "src" / "x.tmp").write_text("ignored\n")
    server.enqueue(stream_of(["ok"]))
    code, _, err = run(capsys, *ask(server, "-f", "src", "Review"))
    assert code == 0, err
    assert err == (
        "glmtui: note: src: attached 1 text file; left out src/logo.png (image: attach it by "
        "itself).\n"
    )
    assert last_prompt(server) == "Review\n\nsrc/a.py\n```\na = 1\n```"


def test_print_request_shows_text_and_a_placeholder_for_binary_data(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer, keyed: Path
) -> None:
    (keyed / "cat.png").write_bytes(PNG)
    (keyed / "n.txt").write_text("hi\n")
    argv = ask(server, "--model", VISION, "-f", "n.txt", "-f", "cat.png", "--print-request")
    code, out, err = run(capsys, *argv, "json", "Look")
    assert code == 0, err
    body = json.loads(out)
    assert body["messages"][-1]["content"] == [
        {"type": "text", "text": "Look\n\nn.txt\n```\nhi\n```"},
        {
            "type": "image_url",
            "image_url": {"url": f"data:image/png;base64,…({len(PNG)} bytes of cat.png)"},
        },
    ]
    assert server.requests == []  # no card asked for: nothing is sent at all
    code, out, _ = run(capsys, *argv, "curl", "Look")
    assert out.startswith(
        f"# Not runnable as it is: the data of {len(PNG)} bytes of cat.png is a placeholder"
    )


def test_a_continued_session_whose_image_is_gone_is_refused_with_a_note(
    capsys: pytest.CaptureFixture[str], server: LoopbackServer
) -> None:
    gone = Attachment("old.png", "image", "image/png", 10, sha256="e" * 64)
    session = Session(
        title="Pictures",
        provider="oxen",
        base_url=server.base_url,
        model="my-local-vlm",
        messages=[
            Message("user", "see", attachments=(gone,)),
            Message("assistant", "seen", status="complete"),
        ],
    )
    with SessionStore.from_settings(load_settings()) as store:
        store.save(session)
    code, out, err = run(capsys, *ask(server, "--session", session.id, "And now?"))
    assert (code, out) == (2, "")
    first, second = err.splitlines()
    assert first.startswith("glmtui: note: “Pictures”: the content of old.png (attached")
    assert second.startswith("glmtui: Cannot send: the content of old.png")
    assert second.endswith("Nothing was sent.")
    assert server.chat_requests == []
