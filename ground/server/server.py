"""The ground server process: config -> archive, links, users -> HTTP API on uvicorn.

server = GroundServer(load_config("ground.toml"))
url = server.start()          # links, then the API on a background thread (tests, embedding)
...; server.stop()
GroundServer(cfg).serve()     # `cubesat ground`: in the foreground until Ctrl-C
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from ground.server.api import create_app
from ground.server.auth import Authenticator
from ground.server.clock import WALL, Clock
from ground.server.config import ServerConfig
from ground.server.errors import ConfigError, GroundServerError
from ground.server.live import LiveHub
from ground.server.logs import remove_logging, setup_logging
from ground.server.sessions import SessionStore
from ground.server.spacecraft import SpacecraftLink
from ground.server.store import GroundStore, SqliteStore

log = logging.getLogger("cubesat.ground")
SWITCH_INTERVAL_S = 0.0005


class _Stopped(Exception):  # noqa: N818 - a signal, not an error
    """SIGINT or SIGTERM: the operator stops the server."""


def _stop_signal(signum: int, frame: object) -> None:
    raise _Stopped()


class GroundServer:
    def __init__(
        self, config: ServerConfig, store: GroundStore | None = None, verbose: bool = False,
        openers: dict[str, Callable[[], Any]] | None = None, clock: Clock = WALL, stepped: bool = False,
    ) -> None:  # fmt: skip
        """openers: spacecraft name -> what opens its byte link instead of the config's URL (a test
        bench that puts loss or a probe between the server and the port). stepped: the links run
        no thread; their driver calls `link.step()` on `clock` (ground.twin_ground: the twin's)."""
        if not config.spacecraft:
            raise ConfigError("config names no [[spacecraft]]: the server would own no link")
        self.config = config
        self.log_handler = setup_logging(config.log_file, verbose) if config.log_file else None
        self.store = store if store is not None else SqliteStore(config.archive)
        self.hub = LiveHub()
        self.auth = Authenticator(config.users)
        self.sessions = SessionStore()  # the web console's logins
        self.links: dict[str, SpacecraftLink] = {}
        try:
            for sc in config.spacecraft:
                opener = (openers or {}).get(sc.name)
                files = str(Path(config.archive).parent / "transfers" / sc.name)  # beside the archive
                self.links[sc.name] = SpacecraftLink(sc, self.store, self.hub, clock, opener, files)
        except GroundServerError:
            self.store.close()
            raise
        self.app = create_app(self)
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.stepped = stepped
        self._links_started = False
        self._closed = False

    def start_links(self) -> None:
        """The links' COP-1 (and their threads unless stepped); once."""
        if not self._links_started:
            self._links_started = True
            for link in self.links.values():
                link.start(thread=not self.stepped)

    def live_record(self, cid: int) -> dict[str, Any] | None:
        """A command still tracked in memory (any link), as a dict. Never waits for a link's lock:
        the API's event loop calls it (a link busy archiving must not stall every client)."""
        for link in self.links.values():
            rec = link.records.get(cid)
            if rec is not None and rec.snapshot is not None:
                return rec.snapshot
        return None

    def _socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET6 if ":" in self.config.bind else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.bind, self.config.port))
        except OSError as exc:
            sock.close()
            raise ConfigError(
                "cannot listen on %s:%d: %s" % (self.config.bind, self.config.port, exc.strerror or exc)
            ) from None
        sock.listen(128)  # clients queue from here on, before uvicorn serves
        return sock

    def _prepare(self) -> socket.socket:
        sock = self._socket()
        host, port = sock.getsockname()[:2]
        self.url = "http://%s:%d" % ("[%s]" % host if ":" in host else host, port)
        self.start_links()
        cfg = uvicorn.Config(
            self.app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
        self._uvicorn = uvicorn.Server(cfg)
        log.info("ground server listening", extra={"fields": {"url": self.url, "links": sorted(self.links)}})
        return sock

    def serve(self, announce: Callable[[str], None] | None = None) -> None:
        """Run in the foreground until SIGINT/SIGTERM, then stop the links and close the archive.

        announce(url) is called once the API socket is bound (before requests are served)."""
        # the process is ours: a thread that wakes for a packet or a request gets the GIL within
        # 0.5 ms instead of Python's 5 ms (eleven threads share it; latency beats throughput here)
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        sock = self._prepare()
        if announce is not None:
            announce(self.url)
        # uvicorn handles SIGINT/SIGTERM while it serves and raises them again when it is done:
        # ours turn that into a normal return, after the links are stopped and the archive closed
        old = {sig: signal.signal(sig, _stop_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            assert self._uvicorn is not None
            self._uvicorn.run(sockets=[sock])
        except _Stopped:
            pass
        finally:
            sock.close()
            self._shutdown()
            for sig, handler in old.items():
                signal.signal(sig, handler)

    def start(self, timeout: float = 10.0) -> str:
        """Links and API running on a background thread; returns the API's base URL."""
        sock = self._prepare()
        server = self._uvicorn
        assert server is not None
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.stop()
                raise GroundServerError("the API did not start within %g s" % timeout)
            time.sleep(0.01)
        self._sock = sock
        return self.url

    def stop(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._shutdown()

    def _shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        for link in self.links.values():
            link.stop()
        self.store.close()
        log.info("ground server stopped")
        remove_logging(self.log_handler)
        self.log_handler = None
