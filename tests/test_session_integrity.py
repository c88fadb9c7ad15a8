"""Session data integrity: no save is lost to a name race, files are private, and no key is
ever written (issue 19, items 1, 3 and 4), tested on the store and through the real CLI.

Concurrency is real here: threads with stores of their own, processes released at the same
instant, and parallel ``python -m glmtui ask --save`` runs. Each test checks what is on disk
against what every writer reported, file by file.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from glmtui import paths
from glmtui.domain import Message, Session, Usage
from glmtui.store import SessionStore, decode_session
from glmtui.store.index import INDEX_FILE
from glmtui.store.redact import MASK, MIN_SECRET_LENGTH
from tests.conftest import FAKE_KEY
from tests.server import LoopbackServer, RecordedRequest, StreamReply, chunk, sse, stream_of

CREATED = datetime(2026, 11, 25, 20, 31, 3, tzinfo=UTC)
"""Every racing session is created in this second, so all of them want the same file name."""


@pytest.fixture
def private_umask() -> Iterator[None]:
    """A common umask (022), so a mode of 0600/0700 is glmtui's doing, not the umask's."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def racing_session(label: str, title: str = "Same title") -> Session:
    """A session that wants the same file name as every other one made here."""
    return Session(
        title=title,
        created_at=CREATED,
        updated_at=CREATED,
        messages=[Message("user", f"prompt of {label}"), Message("assistant", f"reply to {label}")],
    )


def session_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def assert_each_kept(folder: Path, reported: dict[Path, tuple[str, str]]) -> None:
    """Every file a writer reported holds that writer's session, and nothing else is there.

    Args:
        folder: The sessions folder.
        reported: Path → (session id, first message) as each writer reported it.
    """
    on_disk = session_files(folder)
    assert len(reported) == len(set(reported))
    assert sorted(reported) == on_disk, "a reported file is missing, or an extra one exists"
    for path, (session_id, prompt) in reported.items():
        session = decode_session(path.read_bytes(), path=path)
        assert (session.id, session.messages[0].content) == (session_id, prompt)
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temp files


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# --- 1. a new file's name is claimed atomically ------------------------------------------------


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_threads_saving_the_same_name_at_once_keep_every_session(tmp_path: Path, fmt: str) -> None:
    """Each thread has its own store (no shared lock): only the file system arbitrates."""
    writers = 8
    data = tmp_path / "data"
    barrier = threading.Barrier(writers)
    reported: dict[Path, tuple[str, str]] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        try:
            store = SessionStore(data, fmt, disk_index=False)  # type: ignore[arg-type]
            session = racing_session(f"thread {n}")
            barrier.wait()
            path = store.save(session)
            with lock:
                reported[path] = (session.id, session.messages[0].content)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(reported) == writers
    assert_each_kept(paths.sessions_dir(data), reported)


WRITER = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime, timezone
    from pathlib import Path
    from glmtui.domain import Message, Session
    from glmtui.store import SessionStore

    data, label, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    created = datetime(2026, 11, 25, 20, 31, 3, tzinfo=timezone.utc)
    store = SessionStore(data)  # the on-disk index too, shared by every process
    sessions = []
    for n in range(count):
        prompt = f"prompt of {label}.{n}"
        sessions.append(Session(title="Same title", created_at=created, updated_at=created,
                                messages=[Message("user", prompt)]))
    print("ready", flush=True)
    sys.stdin.readline()  # released together with every other writer
    for session in sessions:
        path = store.save(session)
        print(json.dumps([str(path), session.id, session.messages[0].content]), flush=True)
    """
)


def released_together(commands: list[list[str]], env: dict[str, str] | None = None) -> list[str]:
    """Start every command, wait until each says "ready", release all at once, and return
    what each printed to stdout after that (stderr must be empty)."""
    procs = [
        subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for command in commands
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert (proc.returncode, err) == (0, ""), err
        outputs.append(out)
    return outputs


def test_processes_saving_the_same_name_at_once_keep_every_session(tmp_path: Path) -> None:
    data = tmp_path / "data"
    outputs = released_together(
        [[sys.executable, "-c", WRITER, str(data), f"p{n}", "5"] for n in range(6)]
    )
    reported: dict[Path, tuple[str, str]] = {}
    for line in "".join(outputs).splitlines():
        path, session_id, prompt = json.loads(line)
        assert Path(path) not in reported, f"two writers reported {path}"
        reported[Path(path)] = (session_id, prompt)
    assert len(reported) == 30
    assert_each_kept(paths.sessions_dir(data), reported)
    with SessionStore(data) as store:  # the shared index lists every one of them
        assert len(store.list_sessions()) == 30


SAVED = re.compile(r"^glmtui: saved as session (\w+) \((.+)\)$", re.MULTILINE)

ASK = textwrap.dedent(
    """
    import sys
    from glmtui.cli import main
    print("ready", file=sys.stderr, flush=True)  # (stdout is the reply)
    sys.stdin.readline()  # released together with every other run
    sys.stdin = open("/dev/null")
    sys.exit(main(["ask", "--demo", "--save", "same prompt"]))
    """
)


def check_ask_runs(stderrs: list[str], folder: Path) -> None:
    """Every run said "saved" once, named its own file, and that file holds its session."""
    reported: dict[Path, str] = {}
    for err in stderrs:
        [(short_id, path)] = SAVED.findall(err)
        assert Path(path) not in reported, f"two runs reported saving {path}"
        reported[Path(path)] = short_id
    assert sorted(reported) == session_files(folder)
    for path, short_id in reported.items():
        session = decode_session(path.read_bytes(), path=path)
        assert session.id.startswith(short_id)
        assert session.messages[0].content == "same prompt"
        assert session.messages[1].status == "complete"


@pytest.fixture
def instant_demo(config_file: Path) -> None:
    config_file.write_text("demo_pace = 0\n")


def test_parallel_cli_ask_save_released_together_keeps_every_session(
    instant_demo: None,
) -> None:
    """`glmtui ask --save` in 12 processes that all save in the same instant."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ASK],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(12)
    ]
    for proc in procs:
        assert proc.stderr is not None
        assert proc.stderr.readline() == "ready\n"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    stderrs = []
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        stderrs.append(err)
    check_ask_runs(stderrs, paths.sessions_dir())


def test_parallel_cli_ask_save_keeps_every_session(instant_demo: None) -> None:
    """The review's reproduction: `python -m glmtui ask --demo --save "same prompt"` × 12 at
    once (the review ran three bursts; the test released together above makes the collision
    certain, this one runs the real command); every "saved" is a file holding its session."""
    stderrs: list[str] = []
    for _ in range(1):
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "glmtui", "ask", "--demo", "--save", "same prompt"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(12)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            stderrs.append(err)
    check_ask_runs(stderrs, paths.sessions_dir())
    assert len(stderrs) == 12


class NameTakenMeanwhile:
    """Another writer takes ``wanted`` right after glmtui checked that it was free (the
    window every check-then-write has): the hook answers the check "free", then creates it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, wanted: Path) -> None:
        self.wanted = wanted
        self.fired = False
        lexists = os.path.lexists

        def checking(path: object) -> bool:
            free = not lexists(path)  # type: ignore[arg-type]
            if free and not self.fired and Path(str(path)) == wanted:
                self.fired = True
                wanted.write_text("theirs")
            return not free

        monkeypatch.setattr(os.path, "lexists", checking)

    def check(self, written: Path) -> None:
        assert self.fired, "the race was not staged"
        assert written != self.wanted
        assert self.wanted.read_text() == "theirs"


def refuse_hard_links(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """A file system without hard links (some network, FUSE and FAT mounts)."""

    def no_links(src: object, dst: object, **kw: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "link", no_links)


LINKS = [0, errno.EPERM, errno.ENOTSUP]
LINK_IDS = ["hard-links", "no-links-EPERM", "no-links-ENOTSUP"]


@pytest.mark.parametrize("refused", LINKS, ids=LINK_IDS)
def test_a_new_session_never_replaces_a_file_that_appeared_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: int
) -> None:
    store = SessionStore(tmp_path / "data", disk_index=False)
    store.folder.mkdir(parents=True)
    if refused:
        refuse_hard_links(monkeypatch, refused)
    race = NameTakenMeanwhile(monkeypatch, store.folder / "20261125-203103-same-title.toml")
    session = racing_session("mine")
    path = store.save(session)
    race.check(path)
    assert path.name == "20261125-203103-same-title-2.toml"
    assert decode_session(path.read_bytes()).id == session.id
    assert sorted(store.folder.iterdir()) == sorted([race.wanted, path])


@pytest.mark.parametrize("refused", LINKS, ids=LINK_IDS)
def test_an_import_never_replaces_a_file_that_appeared_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: int
) -> None:
    from glmtui.store import encode_session

    source = tmp_path / "elsewhere.toml"
    source.write_bytes(encode_session(racing_session("imported"), "toml"))
    store = SessionStore(tmp_path / "data", disk_index=False)
    store.folder.mkdir(parents=True)
    if refused:
        refuse_hard_links(monkeypatch, refused)
    race = NameTakenMeanwhile(monkeypatch, store.folder / "20261125-203103-same-title.toml")
    session = store.import_file(source)
    written = store.path_of(session.id)
    assert written is not None
    race.check(written)
    assert decode_session(written.read_bytes()).messages[0].content == "prompt of imported"


@pytest.mark.parametrize("refused", LINKS, ids=LINK_IDS)
def test_moves_to_and_from_the_trash_never_replace_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: int
) -> None:
    """Delete and undo both land on a free name, even if it is taken in the meantime."""
    store = SessionStore(tmp_path / "data", disk_index=False)
    session = racing_session("moved")
    path = store.save(session)
    store.trash_folder.mkdir(parents=True)
    if refused:
        refuse_hard_links(monkeypatch, refused)
    race = NameTakenMeanwhile(monkeypatch, store.trash_folder / path.name)
    token = store.delete(path)
    race.check(token.trashed)
    assert not path.exists()
    assert decode_session(token.trashed.read_bytes()).id == session.id

    race = NameTakenMeanwhile(monkeypatch, path)
    restored = store.undo_delete(token)
    race.check(restored)
    assert not token.trashed.exists()
    assert decode_session(restored.read_bytes()).id == session.id


# --- 3. private files and folders ----------------------------------------------------------------


def test_session_files_temp_files_and_folders_are_private(
    private_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, int]] = []
    link, replace = os.link, os.replace

    def linking(src: str, dst: str, **kw: object) -> None:
        if Path(src).name.startswith("."):  # (a move to the trash links the file itself)
            seen.append(("temp file of a new session", mode(Path(src))))
        link(src, dst, **kw)  # type: ignore[arg-type]

    def replacing(src: str, dst: str, **kw: object) -> None:
        seen.append(("temp file of a rewrite", mode(Path(src))))
        replace(src, dst, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "link", linking)
    monkeypatch.setattr(os, "replace", replacing)
    with SessionStore(paths.data_dir()) as store:
        session = racing_session("private")
        path = store.save(session)
        store.save(session)  # a rewrite
        assert store.list_sessions()  # the index is built
        assert mode(path) == 0o600
        assert mode(store.folder) == 0o700
        index = paths.cache_dir() / INDEX_FILE
        assert mode(index) == 0o600
        for suffix in ("-wal", "-shm"):  # open while the store is: private too
            side = Path(f"{index}{suffix}")
            assert side.exists()
            assert mode(side) == 0o600, side.name
        token = store.delete(path)
        assert mode(store.trash_folder) == 0o700
        assert mode(token.trashed) == 0o600
    assert seen == [("temp file of a new session", 0o600), ("temp file of a rewrite", 0o600)]


def test_wider_files_become_private_when_rewritten(private_umask: None) -> None:
    folder = paths.sessions_dir()
    folder.mkdir(parents=True)
    folder.chmod(0o755)  # a folder the user made: left as it is
    with SessionStore(paths.data_dir()) as store:
        session = racing_session("wide")
        path = store.save(session)
        path.chmod(0o644)
        index = paths.cache_dir() / INDEX_FILE
        store.list_sessions()
    index.chmod(0o644)
    with SessionStore(paths.data_dir()) as store:
        session.title = "Rewritten"
        assert store.save(session) == path
        assert mode(path) == 0o600
        store.list_sessions()
        assert mode(index) == 0o600
    assert mode(folder) == 0o755


def test_ask_save_writes_private_files(private_umask: None, instant_demo: None) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "glmtui", "ask", "--demo", "--save", "private"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    [path] = session_files(paths.sessions_dir())
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)
    for index_file in paths.cache_dir().glob(f"{INDEX_FILE}*"):
        assert mode(index_file) == 0o600, index_file.name


# --- 4. no key in a saved session -----------------------------------------------------------


def leaky_session(key: str = FAKE_KEY) -> Session:
    """A key everywhere text can be: title, system prompt, content, reasoning, error, ids."""
    return Session(
        id=f"session-{key}",
        title=f"About {key}",
        created_at=CREATED,
        updated_at=CREATED,
        model=f"model-{key}",
        base_url=f"http://proxy.example/{key}/v1",
        system_prompt=f"Never say {key}.",
        messages=[
            Message("user", f"is {key} my key?", id=f"m1-{key}"),
            Message(
                "assistant",
                f"Yes, {key} and again {key}.",
                id=f"m2-{key}",
                reasoning=f"The key is {key}",
                status="error",
                finish_reason=key,
                model=key,
                usage=Usage(1, 2, 3),
                error=f"401: bad key {key}",
            ),
        ],
    )


def assert_no_key(data: str | bytes, key: str = FAKE_KEY) -> None:
    text = data.decode() if isinstance(data, bytes) else data
    assert key not in text
    assert key.lower() not in text.lower()


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_the_key_is_masked_everywhere_in_files_and_exports(tmp_path: Path, fmt: str) -> None:
    store = SessionStore(tmp_path / "data", fmt, disk_index=False, secrets=[FAKE_KEY])  # type: ignore[arg-type]
    session = leaky_session()
    path = store.save(session)
    data = path.read_bytes()
    assert_no_key(data)
    assert_no_key(path.name)
    saved = decode_session(data)
    assert saved.title == f"About {MASK}"
    assert saved.system_prompt == f"Never say {MASK}."
    reply = saved.messages[1]
    assert (reply.content, reply.reasoning) == (
        f"Yes, {MASK} and again {MASK}.",
        f"The key is {MASK}",
    )
    assert (reply.error, reply.finish_reason, reply.model, reply.id) == (
        f"401: bad key {MASK}",
        MASK,
        MASK,
        f"m2-{MASK}",
    )
    assert session.messages[1].content == f"Yes, {FAKE_KEY} and again {FAKE_KEY}."  # memory kept
    for export_format in ("md", "json", "toml"):
        assert_no_key(store.export(session, export_format))
        assert_no_key(store.export(path, export_format))
    copy = store.duplicate(session)
    fork = store.fork(session, 0)
    for other in (copy, fork):
        other_path = store.path_of(other.id)
        assert other_path is not None
        assert_no_key(other_path.read_bytes())


def test_import_masks_the_key(tmp_path: Path) -> None:
    from glmtui.store import encode_session

    outside = tmp_path / "elsewhere.toml"
    outside.write_bytes(encode_session(leaky_session(), "toml"))
    store = SessionStore(tmp_path / "data", disk_index=False, secrets=[FAKE_KEY])
    store.import_file(outside)
    [path] = session_files(store.folder)
    assert_no_key(path.read_bytes())
    outside.unlink()  # (the test's own file held the key on purpose)


def test_a_reply_cut_off_mid_key_keeps_no_part_of_it(tmp_path: Path) -> None:
    """A checkpoint while the key streams, or Ctrl-C in the middle of it."""
    store = SessionStore(tmp_path / "data", disk_index=False, secrets=[FAKE_KEY])
    half = FAKE_KEY[: len(FAKE_KEY) // 2]
    session = racing_session("cut")
    for status in ("streaming", "interrupted", "error"):
        session.messages[1] = Message(
            "assistant",
            f"Your key is {half}",
            reasoning=f"it is {half}",
            status=status,
        )
        path = store.save(session)
        reply = decode_session(path.read_bytes()).messages[1]
        assert (reply.content, reply.reasoning) == (f"Your key is {MASK}", f"it is {MASK}")
    # A finished reply is what the server said: only whole keys are masked there.
    session.messages[1] = Message("assistant", f"ends with {half}", status="complete")
    assert (
        decode_session(store.save(session).read_bytes()).messages[1].content == f"ends with {half}"
    )
    short = FAKE_KEY[: MIN_SECRET_LENGTH - 1]
    session.messages[1] = Message("assistant", f"ends with {short}", status="interrupted")
    assert decode_session(store.save(session).read_bytes()).messages[1].content.endswith(short)


def test_placeholder_keys_are_not_masked(tmp_path: Path) -> None:
    """A server without auth takes any key ("EMPTY", "x"): those words stay in the text."""
    store = SessionStore(tmp_path / "data", disk_index=False, secrets=["EMPTY", "x", ""])
    session = racing_session("placeholder")
    session.messages[1].content = "An EMPTY box, x marks the spot."
    path = store.save(session)
    assert (
        decode_session(path.read_bytes()).messages[1].content == "An EMPTY box, x marks the spot."
    )


def test_a_key_added_later_is_masked_from_then_on(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "data", disk_index=False)
    session = racing_session("later")
    session.messages[1].content = f"echo {FAKE_KEY}"
    store.add_secret(FAKE_KEY)
    assert_no_key(store.save(session).read_bytes())


def test_from_settings_masks_the_settings_key() -> None:
    from dataclasses import replace

    from glmtui.config import load_settings

    settings = replace(load_settings(), api_key=FAKE_KEY)
    with SessionStore.from_settings(settings) as store:
        path = store.save(leaky_session())
    assert_no_key(path.read_bytes())


def echo_the_key(split: bool) -> object:
    """An echoing proxy: the reply quotes the bearer key, whole or split across two deltas."""

    def reply(request: RecordedRequest) -> StreamReply:
        key = request.headers["authorization"].removeprefix("Bearer ")
        if split:
            middle = len(key) // 2
            return stream_of(
                [f"Your key is {key[:middle]}", f"{key[middle:]}, right?"],
                reasoning_tokens=[f"It sent {key}"],
            )
        return StreamReply(
            [
                sse(chunk("", role="assistant")),
                sse(chunk(f"Your key is {key}, right?")),
                sse(chunk(finish_reason="stop")),
                b"data: [DONE]\n\n",
            ]
        )

    return reply


@pytest.mark.parametrize("split", [False, True], ids=["whole", "split-across-deltas"])
def test_ask_save_masks_a_key_the_server_echoes(server: LoopbackServer, split: bool) -> None:
    server.set_default(echo_the_key(split))  # type: ignore[arg-type]
    result = subprocess.run(
        [sys.executable, "-m", "glmtui", "ask", "--save", "--base-url", server.base_url, "hi"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # the reply itself (what the server sent) is not saved here
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        env={**os.environ, "OXEN_API_KEY": FAKE_KEY},
    )
    assert result.returncode == 0, result.stderr
    [path] = session_files(paths.sessions_dir())
    data = path.read_bytes()
    assert_no_key(data)
    reply = decode_session(data).messages[1]
    assert reply.content == f"Your key is {MASK}, right?"
    if split:
        assert reply.reasoning == f"It sent {MASK}"


def test_processes_creating_a_new_index_at_once_share_it(tmp_path: Path) -> None:
    """The one that read "no tables yet" just before another created them uses those (it
    used to fail, take the index for damaged, and delete it under the other process)."""
    import sqlite3

    from glmtui.store.index import LAYOUT_VERSION, SessionIndex

    folder, db = tmp_path / "sessions", tmp_path / "cache" / INDEX_FILE
    winner = SessionIndex(folder, db)
    assert winner.summaries() == []  # created the tables
    loser = SessionIndex(folder, db)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        loser._create(conn)  # as if it had read user_version 0 an instant before
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LAYOUT_VERSION
    finally:
        conn.close()
    assert loser.summaries() == []
    assert db.exists()
