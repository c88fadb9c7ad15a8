"""A real streamable-HTTP MCP server on 127.0.0.1, in a thread of the test process.

The socket is bound and listening before the thread starts, so a client may connect at once
(the connection waits in the backlog until uvicorn accepts it): no polling for readiness.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).parent))

import toolkit  # next to this file


class HttpServer:
    """The toolkit's tools over streamable HTTP at :attr:`url` until :meth:`stop`."""

    def __init__(self, name: str = "web") -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/mcp"
        app = toolkit.build_in_process(name).streamable_http_app()
        config = uvicorn.Config(
            app, log_level="critical", lifespan="on", timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.socket])),
            name="mcp-http-test-server",
            daemon=True,
        )

    def start(self) -> HttpServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()
