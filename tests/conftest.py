"""Shared fixtures: every test runs with its own config file, data dir and HOME.

Nothing a test does can read or write the developer's real config, sessions or oxen login, and
no provider key from the developer's environment leaks into a test. And every test is checked
for leaks of the recognisable :data:`FAKE_KEY`: in files it left, output it printed or read,
logs, and failure text (see ``key_never_leaks`` and ``pytest_runtest_makereport`` below).
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures_server import server  # noqa: F401 - re-exported fixture

# A shell script that starts the tests in the background (``pytest &``) starts them with
# Ctrl-C ignored, and every process they start inherits that: the tests that press Ctrl-C on
# `glmtui ask` (in this process and in child processes) would then wait for an exit that never
# comes. Ctrl-C gets its usual meaning back here, so the suite does not depend on how it was
# started.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: two workers per core. Many tests spend much of their time waiting (for a
    child process, a server's scripted pause, a frame), so one worker per core left the cores
    half idle: 2 workers ran the suite in ~90 s on 2 cores, 4 in ~60 s."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    return 2 * max(1, cores)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reverse",
        action="store_true",
        help="run the tests in reverse order (a test that passes only after another shows)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every ``textual_internals`` mark carries its one-line reason; ``--reverse`` applies."""
    for item in items:
        for mark in item.iter_markers("textual_internals"):
            reason = mark.args[0] if mark.args else mark.kwargs.get("reason")
            if not isinstance(reason, str) or not reason.strip() or "\n" in reason:
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.textual_internals needs a one-line reason "
                    "(which Textual internal the behaviour rests on)"
                )
    if config.getoption("reverse"):
        items.reverse()


FAKE_KEY = "sk-glmtui-test-SECRET-0123456789abcdef"
"""A recognisable fake key: tests assert it never appears in files or output."""

_PROVIDER_ENV = (
    "OXEN_API_KEY",
    "VLLM_API_KEY",
    "SGLANG_API_KEY",
    "ZAI_API_KEY",
    "GLMTUI_BASE_URL",
    "GLMTUI_MODEL",
    "GLMTUI_PROVIDER",
    "GLMTUI_THEME",
    "GLMTUI_CONFIG",
    "GLMTUI_DATA_DIR",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point config, data and HOME at a temporary folder and clear provider variables."""
    for name in _PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GLMTUI_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("GLMTUI_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def config_file(isolated_env: Path) -> Path:
    """The test's config file path (not created)."""
    path = isolated_env / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def unused_port() -> int:
    """A 127.0.0.1 port with nothing listening (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def utc_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Times on screen are local times; pin the zone so screens are the same everywhere."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


# --- the fake key never leaks ------------------------------------------------------------------
#
# Every test runs under a check that FAKE_KEY appears in none of: the files under its tmp_path
# (HOME, config dir, data dir), the output it read through capsys/capfd, the output and logs
# pytest captured, and the text of its failure. The one place the key may be is a config file
# (the test's own, or one glmtui was pointed at), and a config file glmtui wrote must have mode
# 0600. The check functions are plain functions so tests/test_secrets.py can prove they fire.

KEY_SHOWN_AS = "«FAKE_KEY»"
"""What the key is replaced by in a report that is failed for holding it."""


@dataclass
class KeyWatch:
    """What one test did that the key check needs to know."""

    root: Path
    """The test's tmp_path: HOME, the config dir and the data dir are inside."""
    config_files: set[Path] = field(default_factory=set)
    """Files glmtui read as its config (``--config``, ``$GLMTUI_CONFIG``, the default)."""
    written_configs: set[Path] = field(default_factory=set)
    """Config files glmtui wrote (``update_config_file``): they must be private."""
    outputs: list[tuple[str, str | bytes]] = field(default_factory=list)
    """Output the test read with ``capsys``/``capfd`` or from a child process, as (label,
    text)."""


def _real(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(path))


def find_key_in_files(
    root: Path,
    *,
    config_files: Iterable[Path] = (),
    private_configs: Iterable[Path] = (),
    key: str = FAKE_KEY,
) -> list[str]:
    """Files under ``root`` that hold ``key`` (in their bytes or their name) where they must not.

    Args:
        root: The folder to walk (symbolic links are not followed).
        config_files: Config files the key may be in (the user put it there, or glmtui saved it).
        private_configs: Config files that, when they hold the key, must have mode 0600
            (those glmtui wrote; the test's default config file).
        key: The secret to look for.

    Returns:
        One line per problem, naming the file; empty when nothing leaked.
    """
    allowed = {_real(p) for p in config_files}
    private = {_real(p) for p in private_configs}
    needle = key.encode()
    problems: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in [*sorted(files), *dirs]:
            path = Path(folder, name)
            if key in name:
                problems.append(f"{path}: the key is in the file name")
            try:
                info = path.lstat()
                if not stat.S_ISREG(info.st_mode):
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            if needle not in data:
                continue
            real = _real(path)
            if real not in allowed and real not in private:
                problems.append(f"{path}: holds the key (only a config file may)")
            elif real in private and stat.S_IMODE(info.st_mode) != 0o600:
                mode = stat.S_IMODE(info.st_mode)
                problems.append(
                    f"{path}: a config file holding the key has mode {mode:04o}; must be 0600"
                )
    return problems


def find_key_in_texts(items: Iterable[tuple[str, str | bytes]], key: str = FAKE_KEY) -> list[str]:
    """The labels of ``(label, text)`` items whose text holds ``key``."""
    problems = []
    for label, text in items:
        found = key.encode() in text if isinstance(text, bytes) else key in text
        if found:
            problems.append(f"{label}: holds the key")
    return problems


def find_key_in_report(report: pytest.TestReport, key: str = FAKE_KEY) -> list[str]:
    """Where a test report holds ``key``: captured output and logs, and the failure's text.

    Only the sections of the report's own phase count (a teardown report repeats the call's
    sections, which the call's report has already answered for).
    """
    own = [(title, text) for title, text in report.sections if title.endswith(f" {report.when}")]
    problems = find_key_in_texts(own, key)
    if report.longrepr is not None and key in report.longreprtext:
        problems.append(f"the {report.when} report's traceback or failure text: holds the key")
    return problems


def fail_report(report: pytest.TestReport, problems: list[str], key: str = FAKE_KEY) -> None:
    """Turn ``report`` into a failure that lists ``problems``, with the key itself masked."""
    original = report.longreprtext.replace(key, KEY_SHOWN_AS) if report.longrepr else ""
    lines = [
        f"The fake key ({KEY_SHOWN_AS} below) leaked in test {report.nodeid} ({report.when}):",
        *(f"  - {p}" for p in problems),
        "Keys must never reach output, logs, error messages or tracebacks.",
    ]
    if original:
        lines += ["", "The original report:", original]
    report.outcome = "failed"
    report.longrepr = "\n".join(lines)
    report.sections = [(title, text.replace(key, KEY_SHOWN_AS)) for title, text in report.sections]
    if hasattr(report, "wasxfail"):
        del report.wasxfail  # an expected failure that leaks the key is a real failure


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Fail any phase whose captured output, logs or failure text holds the fake key."""
    report = yield
    problems = find_key_in_report(report)
    if problems:
        fail_report(report, problems)
    return report


@pytest.fixture(autouse=True)
def key_never_leaks(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyWatch]:
    """After the test: no file under tmp_path and no output the test read holds the fake key.

    Records which files glmtui reads and writes as its config (a key may be in those, and those
    it writes must be mode 0600) and what the test reads through ``capsys``/``capfd`` or from a
    child process's pipes (which pytest's own captured sections never see).
    """
    import glmtui.config

    watch = KeyWatch(isolated_env)
    read_config, update_config = glmtui.config.read_config_file, glmtui.config.update_config_file

    def reading(path: Path) -> dict[str, Any]:
        watch.config_files.add(_real(path))
        return read_config(path)

    def writing(path: Path, changes: Mapping[str, Any]) -> None:
        watch.written_configs.add(_real(path))
        update_config(path, changes)

    monkeypatch.setattr(glmtui.config, "read_config_file", reading)
    monkeypatch.setattr(glmtui.config, "update_config_file", writing)

    readouterr = pytest.CaptureFixture.readouterr

    def reading_output(self: pytest.CaptureFixture[Any]) -> Any:
        result = readouterr(self)
        watch.outputs += [("output read by capsys/capfd (stdout)", result.out)]
        watch.outputs += [("output read by capsys/capfd (stderr)", result.err)]
        return result

    monkeypatch.setattr(pytest.CaptureFixture, "readouterr", reading_output)

    communicate = subprocess.Popen.communicate

    def communicating(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> Any:
        # What a child process wrote (``subprocess.run`` reads it here too) never reaches
        # pytest's captured sections; its command line is not named, as it may hold the key.
        out, err = communicate(self, *args, **kwargs)
        watch.outputs += [("output of a child process (stdout)", out or "")]
        watch.outputs += [("output of a child process (stderr)", err or "")]
        return out, err

    monkeypatch.setattr(subprocess.Popen, "communicate", communicating)
    yield watch
    default_configs = {isolated_env / "config" / "config.toml"}
    if os.environ.get("GLMTUI_CONFIG"):
        default_configs.add(Path(os.environ["GLMTUI_CONFIG"]))
    private = default_configs | watch.written_configs
    problems = find_key_in_files(
        isolated_env, config_files=watch.config_files | private, private_configs=private
    )
    problems += find_key_in_texts(watch.outputs)
    if problems:
        pytest.fail(
            "The fake key leaked:\n" + "\n".join(f"  - {p}" for p in problems), pytrace=False
        )
