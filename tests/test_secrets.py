"""The key never leaks (issue 9, "Secrets").

Two halves. First, proof that the suite-wide check in ``tests/conftest.py`` works: its
functions find the key where it must not be, and a real pytest run of leaking tests fails each
of them with a message naming the file or the output. Second, targeted tests of the places a
key could escape: session files, exports, "copy as cURL", the client's error messages and
repr, logs, ``glmtui config show``, config error messages, and the config file's mode.
"""

from __future__ import annotations

import io
import logging
import os
import stat
import subprocess
import sys
import textwrap
import traceback
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from pathlib import Path

import pytest
from textual import events

from glmtui import paths
from glmtui.api.client import ChatClient, RetryPolicy
from glmtui.api.errors import AuthError
from glmtui.api.request import ChatRequest, build_request
from glmtui.chat.export import FORMATS, render
from glmtui.cli import main
from glmtui.config import ConfigError, load_settings, save_api_key, update_config_file
from glmtui.domain import Message, Session
from glmtui.store import EXPORT_FORMATS, SessionStore
from glmtui.ui.app import GlmApp
from glmtui.ui.screens.chat import ChatScreen
from tests.conftest import (
    FAKE_KEY,
    KEY_SHOWN_AS,
    fail_report,
    find_key_in_files,
    find_key_in_report,
    find_key_in_texts,
)
from tests.server import JsonReply, LoopbackServer, oxen_error, stream_of
from tests.ui_helpers import chat, make_app, send, settings_for, settle, until, visible_text


@pytest.fixture(autouse=True)
def empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs of ``glmtui ask`` see an empty, non-interactive stdin."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def files_holding_the_key(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and FAKE_KEY.encode() in p.read_bytes())


# --- the checker can fail ----------------------------------------------------------------------


@pytest.fixture
def leaky(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the test's tmp_path (which the suite-wide check walks)."""
    return tmp_path_factory.mktemp("leaky")


def test_the_file_check_finds_the_key(leaky: Path) -> None:
    assert find_key_in_files(leaky) == []
    session = leaky / "data" / "sessions" / "20240101-000000-chat.toml"
    session.parent.mkdir(parents=True)
    session.write_text(f'title = "my key is {FAKE_KEY}"\n')
    index = leaky / "data" / "cache" / "index.sqlite3"
    index.parent.mkdir()
    index.write_bytes(b"SQLite format 3\x00" + FAKE_KEY.encode() + b"\x00\xff")
    named = leaky / f"export-{FAKE_KEY}.md"
    named.write_text("nothing inside")
    (leaky / "link.toml").symlink_to(session)  # links are not followed (counted once)
    assert find_key_in_files(leaky) == [
        f"{named}: the key is in the file name",
        f"{index}: holds the key (only a config file may)",
        f"{session}: holds the key (only a config file may)",
    ]


def test_the_file_check_allows_private_config_files_only(leaky: Path) -> None:
    config = leaky / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text(f'api_key = "{FAKE_KEY}"\n')
    config.chmod(0o600)
    assert find_key_in_files(leaky, config_files=[config], private_configs=[config]) == []
    config.chmod(0o644)
    assert find_key_in_files(leaky, config_files=[config], private_configs=[config]) == [
        f"{config}: a config file holding the key has mode 0644; must be 0600"
    ]
    # A config file the test wrote itself and handed to glmtui (--config) is the test's own.
    assert find_key_in_files(leaky, config_files=[config]) == []
    assert find_key_in_files(leaky) == [f"{config}: holds the key (only a config file may)"]


def test_the_output_check_finds_the_key() -> None:
    items: list[tuple[str, str | bytes]] = [
        ("stdout", "all fine\n"),
        ("stderr", f"Authorization: Bearer {FAKE_KEY}\n"),
        ("binary", b"\x00" + FAKE_KEY.encode()),
    ]
    assert find_key_in_texts(items) == ["stderr: holds the key", "binary: holds the key"]


def report(**changes: object) -> pytest.TestReport:
    values: dict[str, object] = {
        "nodeid": "tests/test_x.py::test_x",
        "location": ("tests/test_x.py", 1, "test_x"),
        "keywords": {},
        "outcome": "passed",
        "longrepr": None,
        "when": "call",
        "sections": [],
    }
    values.update(changes)
    return pytest.TestReport(**values)  # type: ignore[arg-type]


def test_the_report_check_fails_a_passing_test_that_printed_the_key() -> None:
    passed = report(
        sections=[
            ("Captured stdout call", f"the key is {FAKE_KEY}\n"),
            ("Captured log call", "WARNING nothing here"),
        ]
    )
    problems = find_key_in_report(passed)
    assert problems == ["Captured stdout call: holds the key"]
    fail_report(passed, problems)
    assert passed.failed
    assert "Captured stdout call: holds the key" in passed.longreprtext
    assert FAKE_KEY not in passed.longreprtext
    assert passed.sections[0] == ("Captured stdout call", f"the key is {KEY_SHOWN_AS}\n")


def test_the_report_check_masks_the_key_in_a_traceback() -> None:
    failed = report(outcome="failed", longrepr=f"RuntimeError: bad key {FAKE_KEY}")
    problems = find_key_in_report(failed)
    assert problems == ["the call report's traceback or failure text: holds the key"]
    fail_report(failed, problems)
    assert f"RuntimeError: bad key {KEY_SHOWN_AS}" in failed.longreprtext
    assert FAKE_KEY not in failed.longreprtext

    xfailed = report(outcome="skipped", longrepr=f"bad key {FAKE_KEY}")
    xfailed.wasxfail = "expected"
    fail_report(xfailed, find_key_in_report(xfailed))
    assert xfailed.failed
    assert not hasattr(xfailed, "wasxfail")


LEAKY_TESTS = """
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FAKE_KEY


def test_prints_the_key():
    print("key:", FAKE_KEY)


def test_logs_the_key():
    logging.getLogger("glmtui").warning("key %s", FAKE_KEY)


def test_reads_the_key_through_capsys(capsys):
    print(FAKE_KEY)
    assert capsys.readouterr().out


def test_writes_the_key_to_the_data_dir():
    folder = Path(os.environ["GLMTUI_DATA_DIR"])
    folder.mkdir(parents=True)
    (folder / "leak.txt").write_text(FAKE_KEY)


def test_raises_with_the_key():
    raise RuntimeError(f"bad key {FAKE_KEY}")


@pytest.mark.xfail(reason="expected to fail")
def test_expected_failure_with_the_key():
    raise RuntimeError(f"bad key {FAKE_KEY}")


def test_saves_the_key_as_glmtui_does():
    from glmtui.config import save_api_key

    save_api_key(Path(os.environ["GLMTUI_CONFIG"]), "oxen", FAKE_KEY)


def test_writes_the_key_to_a_readable_config():
    path = Path(os.environ["GLMTUI_CONFIG"])
    path.parent.mkdir(parents=True)
    path.write_text(f'api_key = "{FAKE_KEY}"\\n')
    path.chmod(0o644)


def test_runs_a_process_that_prints_the_key():
    code = "import os; print(os.environ['LEAK'])"
    env = {**os.environ, "LEAK": FAKE_KEY}
    subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, check=True)


def test_clean():
    print("nothing secret here")
"""

EXPECTED = {
    "test_prints_the_key": ("failure", "Captured stdout call: holds the key"),
    "test_logs_the_key": ("failure", "Captured log call: holds the key"),
    "test_reads_the_key_through_capsys": (
        "error",
        "output read by capsys/capfd (stdout): holds the key",
    ),
    "test_writes_the_key_to_the_data_dir": ("error", "leak.txt: holds the key"),
    "test_raises_with_the_key": ("failure", f"RuntimeError: bad key {KEY_SHOWN_AS}"),
    "test_expected_failure_with_the_key": ("failure", "traceback or failure text: holds the key"),
    "test_saves_the_key_as_glmtui_does": ("passed", ""),
    "test_writes_the_key_to_a_readable_config": ("error", "has mode 0644; must be 0600"),
    "test_runs_a_process_that_prints_the_key": (
        "error",
        "output of a child process (stdout): holds the key",
    ),
    "test_clean": ("passed", ""),
}
"""Each leaking test's outcome in a real pytest run with the suite's conftest, and what its
report says."""


def test_a_real_pytest_run_fails_every_leak(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("leaks")
    (folder / "test_leaks.py").write_text(textwrap.dedent(LEAKY_TESTS))
    results = folder / "results.xml"
    root = Path(__file__).resolve().parent.parent
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(folder / "test_leaks.py"),
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            "--rootdir",
            str(folder),
            "--basetemp",
            str(tmp_path_factory.mktemp("leaks-tmp")),
            "--junitxml",
            str(results),
            "-q",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert FAKE_KEY not in completed.stdout + completed.stderr, "the run printed the key"
    assert results.exists(), completed.stdout + completed.stderr
    found: dict[str, list[ElementTree.Element]] = {}
    for case in ElementTree.parse(results).getroot().iter("testcase"):
        # A test failing in its call and its teardown is written as two testcases.
        outcome = [c for c in case if c.tag in ("failure", "error", "skipped")]
        found.setdefault(case.get("name", ""), []).extend(outcome)
    assert set(found) == set(EXPECTED), completed.stdout
    for name, (kind, says) in EXPECTED.items():
        kinds = [c.tag for c in found[name]]
        got_kind = "passed" if not kinds else "failure" if "failure" in kinds else kinds[0]
        got_text = "\n".join(f"{c.get('message', '')}\n{c.text or ''}" for c in found[name])
        assert FAKE_KEY not in got_text
        assert got_kind == kind, f"{name}: {got_kind}, expected {kind}\n{got_text}"
        assert says in got_text, f"{name}: the report does not say {says!r}:\n{got_text}"


# --- the key stays out of files, exports and requests shown ------------------------------------


async def test_no_key_in_session_files_exports_or_on_screen(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    server.enqueue(stream_of(["Fine", " thanks."], reasoning_tokens=["Polite."], usage=True))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "How are you?")
        await settle(pilot)
        assert server.chat_requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
        assert FAKE_KEY not in visible_text(app)
        session = chat(app).session
    assert files_holding_the_key(paths.data_dir()) == []
    with SessionStore(paths.data_dir()) as store:
        for fmt in EXPORT_FORMATS:
            assert FAKE_KEY not in store.export(session, fmt)


@pytest.mark.parametrize("where", ["environment", "config file"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_print_request_never_holds_the_key(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    config_file: Path,
    where: str,
    fmt: str,
) -> None:
    """``glmtui ask --print-request`` ("copy as cURL" on the command line) names the variable."""
    if where == "environment":
        monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    else:
        save_api_key(config_file, "oxen", FAKE_KEY)
    code, out, err = run(capsys, "ask", "--print-request", fmt, "Explain MoE routing")
    assert (code, err) == (0, "")
    assert FAKE_KEY not in out
    if fmt == "curl":
        assert 'Authorization: Bearer $OXEN_API_KEY"' in out


def test_copy_as_curl_from_the_settings_never_holds_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The request preview's forms, built from settings that hold the key."""
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    settings = load_settings()
    assert settings.api_key == FAKE_KEY
    request = hello()
    for fmt in FORMATS:
        text = render(request, fmt, settings.base_url, settings.provider.api_key_env)
        assert FAKE_KEY not in text


# --- the key stays out of messages, reprs, logs and tracebacks ---------------------------------

UNAUTHORIZED = [
    pytest.param({"error": {"message": "Invalid API key."}}, id="plain"),
    pytest.param(oxen_error("Unauthorized", "The token is not valid."), id="oxen"),
    pytest.param(
        {"error": {"message": f"Incorrect API key provided: {FAKE_KEY}."}}, id="echoes-the-key"
    ),
    pytest.param(
        {"error": {"title": "Unauthorized", "detail": f"Received API Key = {FAKE_KEY}"}},
        id="oxen-echoes-the-key",
    ),
]
"""401 bodies, including servers (some proxies) that repeat the key they were sent."""


def client_for(server: LoopbackServer) -> ChatClient:
    return ChatClient(server.base_url, FAKE_KEY, retry=RetryPolicy(max_retries=0))


def hello(*, stream: bool = True) -> ChatRequest:
    return build_request(Session(messages=[Message("user", "hi")]), stream=stream)


@pytest.mark.parametrize("body", UNAUTHORIZED)
async def test_a_401_message_never_holds_the_key(
    server: LoopbackServer, caplog: pytest.LogCaptureFixture, body: object
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx, httpcore, asyncio: everything
    server.enqueue(JsonReply(401, body))
    async with client_for(server) as client:
        with pytest.raises(AuthError) as caught:
            await client.complete(hello(stream=False))
    error = caught.value
    texts = {
        "describe()": error.describe(),
        "str()": str(error),
        "repr()": repr(error),
        "traceback": "".join(traceback.format_exception(error)),
        "logs": caplog.text,
    }
    leaks = [name for name, text in texts.items() if FAKE_KEY in text]
    assert not leaks, f"the key is in the 401 error's {', '.join(leaks)}"


@pytest.mark.parametrize("body", UNAUTHORIZED[1:3])
def test_a_401_from_ask_never_prints_the_key(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    server: LoopbackServer,
    body: object,
) -> None:
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    server.enqueue(JsonReply(401, body))
    server.enqueue(JsonReply(401, body))
    code, out, err = run(capsys, "ask", "--base-url", server.base_url, "hi")
    assert code == 1
    assert "rejected" in err
    assert FAKE_KEY not in out + err
    code, out, err = run(capsys, "ask", "--json", "--save", "--base-url", server.base_url, "hi")
    assert code == 1
    assert FAKE_KEY not in out + err
    assert files_holding_the_key(paths.data_dir()) == []


async def test_a_401_in_the_app_never_reaches_the_screen_or_the_session_file(
    server: LoopbackServer,
) -> None:
    server.enqueue(JsonReply(401, {"error": {"message": f"Incorrect API key: {FAKE_KEY}"}}))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
        reply = chat(app).session.messages[-1]
        assert reply.status == "error"
        assert "rejected" in (reply.error or "")
        assert FAKE_KEY not in (reply.error or "")
        assert FAKE_KEY not in visible_text(app)
    assert files_holding_the_key(paths.data_dir()) == []


async def test_logs_of_a_whole_exchange_never_hold_the_key(
    server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.enqueue(stream_of(["Hello"], usage=True))
    async with client_for(server) as client:
        events = [e async for e in client.stream_chat(hello())]
        await client.list_models()
    assert events
    assert caplog.records, "nothing was logged: the check would prove nothing"
    assert FAKE_KEY not in caplog.text


def test_reprs_never_hold_the_key(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = ChatClient("http://127.0.0.1:9/v1", FAKE_KEY)
    assert FAKE_KEY not in repr(client)
    assert FAKE_KEY not in str(client)
    config_file.write_text(
        f'api_key = "{FAKE_KEY}"\n[providers.gpu]\nbase_url = "http://10.0.0.5:8000/v1"\n'
        f'api_key = "{FAKE_KEY}"\n'
    )
    config_file.chmod(0o600)
    settings = load_settings()
    assert settings.api_key == FAKE_KEY
    for value in (settings, settings.provider, settings.providers["gpu"], settings.providers):
        assert FAKE_KEY not in repr(value)
        assert FAKE_KEY not in str(value)
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    assert FAKE_KEY not in repr(load_settings())


@pytest.mark.parametrize("where", ["environment", "config file", "provider table"])
def test_config_show_never_prints_the_key(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    config_file: Path,
    where: str,
) -> None:
    if where == "environment":
        monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
        argv = ["config", "show"]
    elif where == "config file":
        save_api_key(config_file, "oxen", FAKE_KEY)
        argv = ["config", "show"]
    else:
        save_api_key(config_file, "vllm", FAKE_KEY)
        argv = ["config", "show", "--provider", "vllm"]
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert "api key" in out
    assert "set (from " in out
    assert FAKE_KEY not in out


@pytest.mark.parametrize(
    "text",
    [
        f'api_key = ["{FAKE_KEY}"]\n',
        f'api_key = {{ value = "{FAKE_KEY}" }}\n',
        f'[providers.gpu]\nbase_url = "http://x:1/v1"\napi_key = ["{FAKE_KEY}"]\n',
        f'apikey = "{FAKE_KEY}"\n',
        f'[providers.gpu]\nbase_url = "http://x:1/v1"\ntoken = "{FAKE_KEY}"\n',
    ],
    ids=["list", "table", "provider-list", "misspelt", "unknown-provider-key"],
)
def test_config_errors_never_echo_a_key(
    capsys: pytest.CaptureFixture[str], config_file: Path, text: str
) -> None:
    config_file.write_text(text)
    config_file.chmod(0o600)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_path=config_file)
    assert FAKE_KEY not in str(caught.value)
    code, _, err = run(capsys, "config", "show", "--provider", "gpu")
    assert code == 2
    assert FAKE_KEY not in err


# --- the config file the app writes is private -------------------------------------------------


def test_saved_keys_make_the_config_file_private(config_file: Path) -> None:
    config_file.write_text('theme = "paper"\n')
    config_file.chmod(0o644)
    save_api_key(config_file, "oxen", FAKE_KEY)
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    update_config_file(config_file, {"theme": "glmtui"})
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    save_api_key(config_file, "zai", FAKE_KEY)
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert load_settings().api_key == FAKE_KEY
    assert [p.name for p in config_file.parent.iterdir()] == ["config.toml"]  # no temp left


async def test_a_key_pasted_on_first_run_is_only_in_the_private_config(
    server: LoopbackServer,
) -> None:
    settings = settings_for(server, api_key="")
    app = GlmApp(replace(settings, provider=replace(settings.provider, api_key_required=True)))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.focused is not None)
        field = app.focused
        assert field is not None
        field.post_message(events.Paste(FAKE_KEY))  # as a terminal delivers a paste
        await until(pilot, lambda: FAKE_KEY in getattr(field, "value", ""))
        assert FAKE_KEY not in visible_text(app)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert FAKE_KEY not in visible_text(app)
        await send(pilot, "hi")
        await settle(pilot)
        assert FAKE_KEY not in visible_text(app)
    config = settings.config_path
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert files_holding_the_key(config.parent.parent) == [config]
