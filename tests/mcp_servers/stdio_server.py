"""A real MCP server over stdio for the host's tests: ``python stdio_server.py [MODE] [NAME]``.

Modes: ``serve`` (default) runs the tools of :mod:`toolkit`; ``fail`` writes twenty lines to
stderr and exits 1 before answering (a server that cannot start); ``mute`` reads stdin and
never answers (a server that hangs on initialize). Every mode writes a line to stderr first:
the tests check that a server's stderr never reaches the terminal. With
``GLMTUI_TEST_PID_DIR`` set (through the server's ``env`` in the config), the server writes
its process id to ``<dir>/<NAME>.pid`` first, so a test that runs glmtui in a child process
knows which processes must be gone after it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else "serve"
    name = argv[1] if len(argv) > 1 else "test"
    if os.environ.get("GLMTUI_TEST_PID_DIR"):
        pid_file = Path(os.environ["GLMTUI_TEST_PID_DIR"], f"{name}.pid")
        pid_file.with_suffix(".tmp").write_text(str(os.getpid()))
        pid_file.with_suffix(".tmp").replace(pid_file)  # appears whole
    print(f"STDERR-OF-THE-{name.upper()}-SERVER starting in mode {mode}", file=sys.stderr)
    sys.stderr.flush()
    if mode == "fail":
        for number in range(1, 21):
            print(f"failure line {number}", file=sys.stderr)
        print("\x1b[31mfatal: cannot start\x1b[0m", file=sys.stderr)
        return 1
    if mode == "mute":
        for _line in sys.stdin:  # read, never answer; ends when stdin closes
            pass
        time.sleep(3600)  # then linger, so only a kill ends it
        return 0
    import toolkit  # next to this file: the script's folder is on sys.path

    toolkit.build(name).run("stdio")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
