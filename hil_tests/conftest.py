"""One hardware-in-the-loop suite, three targets:

    pytest hil_tests                          # --target twin (default): flight software on CPython
    pytest hil_tests --target emulated        # the flight bundle deployed into real MicroPython (WebAssembly)
    pytest hil_tests --target serial --port /dev/ttyACM0 [--key-file k.hex]   # a real board

Every test talks to the target the same way: an operator terminal (ground.terminal) sends
dictionary commands through COP-1 as CLTUs and reads CADUs back, over a pty or serial line.
Target-specific actions (reset, fault injection) are methods of `Target`; a test that needs one
the target cannot do is skipped with the reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ground.terminal import Terminal
from ground.transport import open_link

KEY = bytes(range(0x40, 0x60))  # the SDLS key of the twin and of the emulated board


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware-in-the-loop target")
    group.addoption("--target", default="twin", choices=("twin", "emulated", "serial"), help="what to test")
    group.addoption("--port", default=None, help="serial port of the board (--target serial)")
    group.addoption("--key-file", default=None, help="SDLS key (hex) of the board (--target serial)")


class Target:
    """A spacecraft behind a byte link, with an operator terminal attached."""

    kind = "?"
    speed = 1.0  # mission seconds per wall second
    keyed = False

    def __init__(self, url: str, key: bytes | None) -> None:
        self.link = open_link(url)
        self.term = Terminal(key=key, t1_ms=1500)
        self.start = time.monotonic()
        self.drop_uplink: Callable[[bytes], bool] | None = None  # return True to drop a CLTU burst
        self.dropped = 0
        self.term.start(self.now_ms())

    def now_ms(self) -> int:
        return int((time.monotonic() - self.start) * 1000)

    def pump(self, seconds: float, until: Callable[[], bool] | None = None) -> bool:
        """Exchange link traffic for up to `seconds` of wall time, or until `until()` holds."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if until is not None and until():
                return True
            now = self.now_ms()
            up = self.term.uplink(now)
            if up:
                if self.drop_uplink is not None and self.drop_uplink(up):
                    self.dropped += 1
                else:
                    self.link.write(up)
            data = self.link.read(0.02)
            if data:
                self.term.downlink(data, self.now_ms())
        return until() if until is not None else True

    def mission_s(self, seconds: float) -> float:
        """Wall seconds for `seconds` of mission time on this target."""
        return seconds / self.speed

    def send(
        self, name: str, values: dict | None = None, timeout: float = 30.0
    ) -> tuple[list[int], int | None]:
        req = self.term.command(name, values)
        assert self.pump(timeout, lambda: self.term.done(req)), "%s: no verdict (%s)" % (
            name,
            self.term.verdict(req),
        )
        return self.term.verdict(req), self.term.failures.get(req, (None, ""))[0]

    def events(self, name: str) -> list[dict]:
        return [aux for _t, n, aux in self.term.events if n == name]

    def wait_event(self, name: str, timeout: float) -> dict:
        assert self.pump(timeout, lambda: bool(self.events(name))), "no %s event in %.0f s" % (name, timeout)
        return self.events(name)[-1]

    # target-specific: overridden where the target can do it
    def reset(self) -> None:
        pytest.skip("the %s target cannot be reset from the test" % self.kind)

    def battery_low(self) -> None:
        pytest.skip("the %s target has no battery to drain from the test" % self.kind)

    def close(self) -> None:
        self.link.close()


class TwinTarget(Target):
    kind = "twin"
    speed = 20.0
    keyed = True

    def __init__(self, flash: Path) -> None:
        from ground.twin import TwinServer

        self.server = TwinServer(use_pty=True, speed=self.speed, key=KEY, flash_dir=str(flash))
        self.thread = threading.Thread(target=self.server.serve, daemon=True)
        self.thread.start()
        super().__init__(self.server.pty_path, KEY)

    def reset(self) -> None:
        self.server.request_reset(0)

    def battery_low(self) -> None:
        self.server.twin.env.battery.soc = 0.15

    def close(self) -> None:
        super().close()
        self.server.stop()
        self.thread.join(5)
        self.server.close()


class EmulatedTarget(Target):
    """The project's bundle for the emulated board, deployed with the A/B deployer into real
    MicroPython (WebAssembly); flight.main runs the flight application there on the simulated
    board and environment, its ground link on the board's flight UART."""

    kind = "emulated"
    keyed = True

    def __init__(self, flash: Path, bundle: Path) -> None:
        from ground.emuboard import EmulatedBoard
        from ground.flash.deploy import deploy

        # provision the SDLS key the way a team would: a file in the board's flash, read at boot
        (flash / "flash").mkdir(parents=True, exist_ok=True)
        (flash / "flash" / "sdls_key.hex").write_text(KEY.hex())
        self.board = EmulatedBoard(flash, uart_pty=True)
        self.board.__enter__()
        try:
            self.deployed = deploy(self.board.port, bundle, entry="flight.main", boot_timeout=120)
        except BaseException:
            self.board.__exit__(None, None, None)
            raise
        super().__init__(self.board.uart_port, KEY)

    def reset(self) -> None:
        self.link.close()
        self.board.restart()
        self.link = open_link(self.board.uart_port)

    def close(self) -> None:
        super().close()
        self.board.__exit__(None, None, None)


class SerialTarget(Target):
    kind = "serial"


@pytest.fixture(scope="session")
def emulated_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from firmware_builds.build import build

    out = tmp_path_factory.mktemp("dist")
    build("emulated", out)
    return out / "emulated"


@pytest.fixture
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    kind = request.config.getoption("--target")
    if kind == "twin":
        t: Target = TwinTarget(tmp_path / "flash")
    elif kind == "emulated":
        t = EmulatedTarget(tmp_path / "flash", request.getfixturevalue("emulated_bundle"))
    else:
        port = request.config.getoption("--port")
        if not port:
            pytest.skip("--target serial needs --port")
        key_file = request.config.getoption("--key-file")
        key = bytes.fromhex(Path(key_file).read_text().strip()) if key_file else None
        t = SerialTarget(port, key)
        t.keyed = key is not None
    try:
        assert t.pump(30, lambda: t.term.fop._init_frame is None), "COP-1: Set V(R) never confirmed"
        yield t
    finally:
        t.close()
