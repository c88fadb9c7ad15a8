"""Start an MCP server so that it ends when glmtui ends, however glmtui ends.

Run as a script, never imported by glmtui: ``python -I -S reaper.py PIDFILE PARENT CMD ARGS…``.
It writes its process id to PIDFILE, asks Linux to send it SIGTERM when its parent dies
(``prctl(PR_SET_PDEATHSIG)``, kept across ``exec``), then becomes the server with
``os.execvp``: same process, same id, nothing left running in between.

Why: the SDK starts each stdio server in a session of its own (so a kill reaches the whole
process group) and stops it when the client closes; but a glmtui killed by SIGKILL, or by a
SIGTERM nothing handles, closes nothing. The parent-death signal covers those on Linux, and
the id in PIDFILE lets :meth:`glmtui.tools.host.McpHost.kill_now` kill the group without an
event loop (atexit, a signal handler). The signal is tied to the thread that started the
process, so the host must run in a thread that lives as long as the servers (the main one).

Only the standard library is used (``-S``: no site packages) so it starts in milliseconds.
"""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1
"""From <linux/prctl.h>."""

EXIT_CANNOT_RUN = 127
"""What a shell returns for a command it cannot run."""


def parent_death_signal(parent: int) -> bool:
    """Ask for SIGTERM when the parent dies; False when it has died already."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # no libc to load: go on without the signal
            pass
    return os.getppid() == parent


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        sys.stderr.write("usage: reaper.py PIDFILE PARENT COMMAND [ARGS...]\n")
        return 2
    pid_file, parent, command, args = argv[0], int(argv[1]), argv[2], argv[3:]
    if not parent_death_signal(parent):
        return 0  # glmtui is gone before the server started: do not start it
    fd = os.open(pid_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, str(os.getpid()).encode())
    finally:
        os.close(fd)
    try:
        os.execvp(command, [command, *args])
    except OSError as error:
        sys.stderr.write(f"cannot run {command!r}: {error.strerror}\n")
    return EXIT_CANNOT_RUN


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
