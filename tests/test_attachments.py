"""Reading files into attachments: every kind, the refusals and limits, folders as git sees
them, token estimates and the model capability check (no network, no UI)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from glmtui.api.models import builtin_card, parse_model
from glmtui.chat.attachments import (
    AttachmentError,
    AttachmentLimits,
    Loaded,
    check_capabilities,
    check_message,
    estimate_tokens,
    load_path,
    load_stdin,
)
from glmtui.chat.gitignore import Ignores, parse
from glmtui.domain import ModelCard
from glmtui.domain.attachments import Attachment, AttachmentKind
from glmtui.domain.stats import IMAGE_TOKENS, PDF_MIN_TOKENS
from glmtui.domain.stats import estimate_tokens as text_tokens
from tests.server import GLM5_MODEL, IMAGE_MODEL, LLAMA_MODEL, VISION_MODEL

LIMITS = AttachmentLimits()

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
GIF = b"GIF89a\x01\x00\x01\x00" + bytes(32)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(32)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
ZIP = b"PK\x03\x04" + bytes(40)


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def one(path: str | Path, cwd: Path, limits: AttachmentLimits = LIMITS) -> Loaded:
    [loaded] = load_path(path, cwd=cwd, limits=limits)
    return loaded


# --- one file ---------------------------------------------------------------------------------


def test_a_text_file_is_attached_verbatim_and_named_as_given(cwd: Path) -> None:
    write(cwd, "src/main.py", "print('hi')\r\n\tdone\n")
    loaded = one("src/main.py", cwd)
    assert loaded.attachment == Attachment(
        "src/main.py", "text", "text/x-python", 19, "print('hi')\r\n\tdone\n"
    )
    assert loaded.data is None
    # ./ and absolute paths under the working folder are named relative to it
    assert one("./src/../src/main.py", cwd).attachment.name == "src/main.py"
    assert one(cwd / "src" / "main.py", cwd).attachment.name == "src/main.py"


def test_a_file_outside_the_working_folder_keeps_the_path_given(cwd: Path, tmp_path: Path) -> None:
    outside = write(tmp_path, "elsewhere/notes.md", "# Notes\n")
    assert one(str(outside), cwd).attachment.name == str(outside)
    assert one("../elsewhere/notes.md", cwd).attachment.name == "../elsewhere/notes.md"
    assert one("../elsewhere/notes.md", cwd).attachment.mime == "text/markdown"


def test_a_byte_order_mark_is_dropped_and_unknown_names_are_plain_text(cwd: Path) -> None:
    write(cwd, "README", b"\xef\xbb\xbfHello \xe2\x9c\x93")
    attachment = one("README", cwd).attachment
    assert (attachment.text, attachment.mime, attachment.size) == ("Hello ✓", "text/plain", 12)


def test_an_empty_file_is_empty_text(cwd: Path) -> None:
    write(cwd, "empty.txt", b"")
    assert one("empty.txt", cwd).attachment == Attachment("empty.txt", "text", "text/plain", 0)


@pytest.mark.parametrize(
    ("name", "data", "kind", "mime"),
    [
        ("a.png", PNG, "image", "image/png"),
        ("a.jpg", JPEG, "image", "image/jpeg"),
        ("a.gif", GIF, "image", "image/gif"),
        ("a.webp", WEBP, "image", "image/webp"),
        ("paper.pdf", PDF, "pdf", "application/pdf"),
        ("no-suffix", PNG, "image", "image/png"),
        ("wrong.txt", JPEG, "image", "image/jpeg"),
    ],
)
def test_images_and_pdfs_are_known_by_their_bytes(
    cwd: Path, name: str, data: bytes, kind: AttachmentKind, mime: str
) -> None:
    write(cwd, name, data)
    loaded = one(name, cwd)
    assert loaded.attachment == Attachment(
        name,
        kind,
        mime,
        len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    assert loaded.data == data
    assert loaded.attachment.binary


def test_text_named_like_an_image_is_text(cwd: Path) -> None:
    write(cwd, "diagram.png", "not really a picture\n")
    attachment = one("diagram.png", cwd).attachment
    assert (attachment.kind, attachment.mime) == ("text", "text/plain")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("archive.zip", ZIP, "application/zip"),
        ("blob", b"abc\x00def", "a NUL byte at offset 3"),
        ("latin1.txt", "café".encode("latin-1"), "not UTF-8: byte 0xe9 at offset 3"),
        ("fake.png", b"\x89PNX" + bytes(10), "named like image/png, but its bytes are not"),
        ("fake.pdf", b"%PDX" + bytes(10), "named like application/pdf, but its bytes are not"),
    ],
)
def test_other_binary_files_are_refused_with_what_they_seem_to_be(
    cwd: Path, name: str, data: bytes, reason: str
) -> None:
    write(cwd, name, data)
    with pytest.raises(AttachmentError) as caught:
        load_path(name, cwd=cwd, limits=LIMITS)
    assert str(caught.value) == (
        f"{name} is a binary file ({reason}); only text, images (PNG, JPEG, WebP, GIF) and PDFs "
        "can be attached."
    )


def test_a_large_binary_file_is_refused_for_what_it_is_not_its_size(cwd: Path) -> None:
    write(cwd, "backup.zip", ZIP + bytes(2000))
    with pytest.raises(AttachmentError, match=r"^backup.zip is a binary file \(application/zip\)"):
        load_path("backup.zip", cwd=cwd, limits=AttachmentLimits(max_file_bytes=1024))


def test_utf16_text_is_refused_with_what_to_do(cwd: Path) -> None:
    write(cwd, "win.txt", "hi".encode("utf-16"))
    with pytest.raises(AttachmentError, match=r"^win.txt is UTF-16 text; save it as UTF-8"):
        load_path("win.txt", cwd=cwd, limits=LIMITS)


def test_missing_files_and_special_files_are_refused(cwd: Path) -> None:
    with pytest.raises(AttachmentError, match=r"^nope.txt does not exist\.$"):
        load_path("nope.txt", cwd=cwd, limits=LIMITS)
    os.mkfifo(cwd / "pipe")
    with pytest.raises(AttachmentError, match=r"^pipe cannot be attached \(it is not a regular"):
        load_path("pipe", cwd=cwd, limits=LIMITS)  # never waits for a writer


def test_an_unreadable_file_says_why(cwd: Path) -> None:
    path = write(cwd, "secret.txt", "x")
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("running as a user who reads any file")
    with pytest.raises(AttachmentError, match=r"^secret.txt cannot be read \(Permission denied"):
        load_path("secret.txt", cwd=cwd, limits=LIMITS)


def test_limits_name_the_config_key_and_are_never_a_silent_cut(cwd: Path) -> None:
    limits = AttachmentLimits(max_file_bytes=1024, max_binary_bytes=2048)
    write(cwd, "fits.txt", "x" * 1024)
    assert len(one("fits.txt", cwd, limits).attachment.text) == 1024
    write(cwd, "big.log", "x" * 1025)
    with pytest.raises(AttachmentError) as caught:
        load_path("big.log", cwd=cwd, limits=limits)
    assert str(caught.value) == (
        "big.log is 1,025 bytes; text files can be attached up to 1,024 bytes "
        "([attachments] max_file_kb)."
    )
    write(cwd, "huge.png", PNG + bytes(5000))
    with pytest.raises(AttachmentError) as caught:
        load_path("huge.png", cwd=cwd, limits=limits)
    assert str(caught.value) == (
        "huge.png is 5.1 KB; images and PDFs can be attached up to 2 KB "
        "([attachments] max_binary_kb)."
    )


# --- stdin ------------------------------------------------------------------------------------


def test_stdin_is_judged_like_a_file() -> None:
    assert load_stdin(b"\xef\xbb\xbfpiped\n", LIMITS).attachment == Attachment(
        "stdin", "text", "text/plain", 9, "piped\n"
    )
    image = load_stdin(PNG, LIMITS)
    assert (image.attachment.kind, image.attachment.name, image.data) == ("image", "stdin", PNG)
    with pytest.raises(AttachmentError, match=r"^stdin is a binary file \(a NUL byte"):
        load_stdin(ZIP, LIMITS)
    with pytest.raises(AttachmentError, match=r"\(\[attachments\] max_file_kb\)\.$"):
        load_stdin(b"x" * 2048, AttachmentLimits(max_file_bytes=1024))


# --- folders ----------------------------------------------------------------------------------


def names(loaded: list[Loaded]) -> list[str]:
    return [item.attachment.name for item in loaded]


def test_a_folder_attaches_its_text_files_as_git_sees_them(cwd: Path) -> None:
    project = cwd / "proj"
    (project / ".git").mkdir(parents=True)
    write(project, ".gitignore", "build/\n*.log\n!keep.log\n/top.txt\n")
    write(project, ".env", "KEY=secret\n")
    write(project, "top.txt", "ignored: anchored to the root\n")
    write(project, "a.py", "a\n")
    write(project, "docs/top.txt", "kept: the anchored rule is for the root only\n")
    write(project, "docs/x.log", "ignored\n")
    write(project, "docs/keep.log", "put back\n")
    write(project, "build/out.txt", "ignored folder\n")
    write(project, ".github/ci.yml", "hidden folder\n")
    write(project, "src/.gitignore", "gen/\n")
    write(project, "src/gen/g.py", "ignored by the nested file\n")
    write(project, "src/b.py", "b\n")
    write(project, "src/logo.png", PNG)
    write(project, "src/data.bin", b"\x00\x01")
    loaded = load_path("proj", cwd=cwd, limits=LIMITS)
    assert names(loaded) == [
        "proj/a.py",
        "proj/docs/keep.log",
        "proj/docs/top.txt",
        "proj/src/b.py",
    ]
    assert loaded.skipped == [
        "proj/src/data.bin (binary: a NUL byte at offset 0)",
        "proj/src/logo.png (image: attach it by itself)",
    ]
    # .env .git .github .gitignore build top.txt docs/x.log src/.gitignore src/gen
    assert loaded.ignored == 9
    assert loaded.note == (
        "proj: attached 4 text files; left out proj/src/data.bin (binary: a NUL byte at "
        "offset 0), proj/src/logo.png (image: attach it by itself)."
    )


def test_a_subfolder_follows_its_repository_s_gitignore(cwd: Path) -> None:
    (cwd / ".git").mkdir()
    write(cwd, ".gitignore", "*.tmp\nsrc/vendor/\n")
    write(cwd, "src/a.py", "a\n")
    write(cwd, "src/b.tmp", "b\n")
    write(cwd, "src/vendor/v.py", "v\n")
    loaded = load_path("src", cwd=cwd, limits=LIMITS)
    assert names(loaded) == ["src/a.py"]
    assert loaded.note is None  # only ignored files were left out: nothing to say


def test_the_working_folder_itself_can_be_attached(cwd: Path) -> None:
    write(cwd, "a.md", "a\n")
    write(cwd, "sub/b.md", "b\n")
    assert names(load_path(".", cwd=cwd, limits=LIMITS)) == ["a.md", "sub/b.md"]


def test_a_folder_leaves_out_text_over_the_file_limit_and_says_so(cwd: Path) -> None:
    write(cwd, "f/small.txt", "x")
    write(cwd, "f/large.txt", "x" * 2000)
    loaded = load_path("f", cwd=cwd, limits=AttachmentLimits(max_file_bytes=1024))
    assert names(loaded) == ["f/small.txt"]
    assert loaded.skipped == ["f/large.txt (2 KB, over 1 KB)"]


def test_folder_limits_refuse_rather_than_cut(cwd: Path) -> None:
    for number in range(4):
        write(cwd, f"many/{number}.txt", "x" * 600)
    with pytest.raises(AttachmentError) as caught:
        load_path("many", cwd=cwd, limits=AttachmentLimits(max_folder_files=3))
    assert str(caught.value) == (
        "many holds more than 3 text files; a folder attaches at most 3 "
        "([attachments] max_folder_files)."
    )
    with pytest.raises(AttachmentError) as caught:
        load_path("many", cwd=cwd, limits=AttachmentLimits(max_message_bytes=2048))
    assert str(caught.value) == (
        "many holds more than 2 KB of text; one message attaches at most that much "
        "([attachments] max_message_kb)."
    )


def test_a_folder_without_text_is_refused(cwd: Path) -> None:
    write(cwd, "pics/a.png", PNG)
    with pytest.raises(AttachmentError) as caught:
        load_path("pics", cwd=cwd, limits=LIMITS)
    assert str(caught.value) == (
        "pics holds no text files to attach (left out: pics/a.png (image: attach it by itself))."
    )


def test_symlinked_folders_are_not_followed(cwd: Path) -> None:
    write(cwd, "loop/a.txt", "a")
    (cwd / "loop" / "again").symlink_to(cwd / "loop")
    assert names(load_path("loop", cwd=cwd, limits=LIMITS)) == ["loop/a.txt"]


@pytest.mark.parametrize(
    ("patterns", "path", "folder", "ignored"),
    [
        ("*.log", "a/b/c.log", False, True),
        ("*.log", "c.logx", False, False),
        ("/x.txt", "x.txt", False, True),
        ("/x.txt", "a/x.txt", False, False),
        ("a/b.txt", "a/b.txt", False, True),
        ("a/b.txt", "z/a/b.txt", False, False),
        ("build/", "build", True, True),
        ("build/", "build", False, False),
        ("**/cache", "a/b/cache", True, True),
        ("logs/**", "logs/x/y.txt", False, True),
        ("a/**/z", "a/z", False, True),
        ("a/**/z", "a/b/c/z", False, True),
        ("file?.txt", "file1.txt", False, True),
        ("file?.txt", "file10.txt", False, False),
        ("[abc].md", "b.md", False, True),
        ("[!abc].md", "b.md", False, False),
        ("[!abc].md", "d.md", False, True),
        ("*.log\n!keep.log", "keep.log", False, False),
        ("!keep.log\n*.log", "keep.log", False, True),  # the last match wins
        ("\\#hash", "#hash", False, True),
        ("# comment\n\n", "# comment", False, False),
        ("trailing   ", "trailing", False, True),
        ("[unclosed", "[unclosed", False, True),
    ],
)
def test_gitignore_patterns(
    tmp_path: Path, patterns: str, path: str, folder: bool, ignored: bool
) -> None:
    rules = Ignores([(tmp_path, parse(patterns))])
    assert rules.ignored(tmp_path / path, folder=folder) is ignored


# --- a message, estimates, capabilities ---------------------------------------------------------


def text_file(name: str, size: int) -> Loaded:
    return Loaded(Attachment(name, "text", "text/plain", size, "x" * size))


def image(name: str, size: int) -> Loaded:
    return Loaded(Attachment(name, "image", "image/png", size, sha256="0" * 64), bytes(size))


def test_a_message_s_attachments_together_are_limited() -> None:
    limits = AttachmentLimits(max_message_bytes=2048, max_binary_bytes=4096)
    check_message([text_file("a", 1024), text_file("b", 1024), image("i", 4096)], limits)
    with pytest.raises(AttachmentError) as caught:
        check_message([text_file("a", 1024), text_file("b", 1025)], limits)
    assert str(caught.value) == (
        "The attached text comes to 2,049 bytes; one message takes at most 2,048 bytes of text "
        "([attachments] max_message_kb)."
    )
    with pytest.raises(AttachmentError, match=r"\(\[attachments\] max_binary_kb\)\.$"):
        check_message([image("i", 4000), image("j", 200)], limits)


def test_token_estimates() -> None:
    text = Attachment("notes.md", "text", "text/markdown", 400, "word " * 80)
    assert estimate_tokens(text) == text_tokens(text.fenced()) > 100
    assert estimate_tokens(image("a.png", 10_000_000).attachment) == IMAGE_TOKENS
    pdf = Attachment("p.pdf", "pdf", "application/pdf", 2_000_000, sha256="1" * 64)
    assert estimate_tokens(pdf) == 31_250
    assert estimate_tokens(Attachment("s.pdf", "pdf", "application/pdf", 10)) == PDF_MIN_TOKENS


GLM5 = builtin_card()
VISION = parse_model(VISION_MODEL)
CARDS = [parse_model(m) for m in (GLM5_MODEL, LLAMA_MODEL, VISION_MODEL, IMAGE_MODEL)]
PICTURE = image("cat.png", 10).attachment
PAPER = Attachment("paper.pdf", "pdf", "application/pdf", 10, sha256="2" * 64)
NOTES = text_file("notes.md", 5).attachment


def test_a_text_only_model_refuses_images_and_names_one_that_takes_them() -> None:
    assert GLM5 is not None
    assert check_capabilities([NOTES], GLM5, CARDS) is None
    assert check_capabilities([NOTES, PICTURE], GLM5, CARDS) == (
        "zai-org-glm-5 takes text only; attach images to a model that takes them, "
        "e.g. qwen-qwen3-vl-32b-instruct (F4 lists models)."
    )
    assert check_capabilities([PICTURE, PAPER], GLM5, CARDS, hint="see glmtui models") == (
        "zai-org-glm-5 takes text only; attach images and PDFs to a model that takes them "
        "(see glmtui models)."
    )


def test_a_vision_model_takes_images_but_not_pdfs() -> None:
    assert check_capabilities([PICTURE, NOTES], VISION, CARDS) is None
    reader = ModelCard("pdf-reader", input_modalities=("text", "image", "file"))
    assert check_capabilities([PICTURE, PAPER], VISION, [*CARDS, reader]) == (
        "qwen-qwen3-vl-32b-instruct takes text and images, not PDFs; attach PDFs to a model "
        "that takes them, e.g. pdf-reader (F4 lists models)."
    )
    assert check_capabilities([PAPER], reader) is None


def test_a_model_that_says_nothing_of_its_inputs_is_not_refused() -> None:
    assert check_capabilities([PICTURE, PAPER], None) is None
    assert check_capabilities([PICTURE], ModelCard("self-hosted")) is None
