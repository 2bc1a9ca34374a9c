"""The HIL targets: a spacecraft behind a byte link with an operator terminal attached (twin,
emulated board, real board), plus the ground's SDLS anti-replay counter for a pytest session.
Used by conftest.py (the `target` fixture) and the test modules (helpers and constants)."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from flight.dictionary import HK_SETS, PARAM_IDS
from ground.sdls_counter import clock_floor
from ground.server.decode import decode_tm
from ground.terminal import Terminal
from ground.transport import ReconnectingLink, open_link

KEY = bytes(range(0x40, 0x60))  # the SDLS key of the twin and of the emulated board
OK = [1, 3, 7]  # PUS-1: accepted, started, completed


class SequenceNumbers:
    """The ground's SDLS anti-replay counter across tests and runs.

    The spacecraft keeps the last accepted sequence number (persisted across resets) and rejects
    anything not above it, so a fresh terminal per test must not start again at 0, nor a new run
    below where the last one stopped. Like `cubesat send`, the counter starts from a clock (0.1 s
    since 2026-01-01), but a run sends more than 10 frames a second, so with a `path` the last
    number used is also kept in a file and the next run starts above it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.last = 0
        if path is not None and path.exists():
            self.last = int(path.read_text().strip() or 0)
        self.floor()

    def floor(self) -> int:
        self.last = max(self.last, clock_floor())  # the same clock floor as `cubesat send`
        return self.last

    def used(self, sn: int) -> None:
        self.last = max(self.last, sn)
        if self.path is not None:
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text("%d\n" % self.last)
            tmp.replace(self.path)  # never a half-written counter, even if the run is killed


class LinkNoise:
    """Seeded uplink loss on the test's side of the link (`--hil-link-loss P`, `--hil-seed N`): each
    CLTU burst the terminal sends is dropped with probability P, and COP-1 has to recover it. The
    same seed drops the same bursts (the 3rd, the 17th, ...) in every run. Only the uplink: COP-1
    makes it reliable, while telemetry and events are sent once (a lost BOOT event is not a bug)."""

    def __init__(self, loss: float = 0.0, seed: int = 0) -> None:
        self.loss = loss
        self.rng = random.Random(seed)
        self.sent = 0  # uplink bursts offered
        self.dropped: list[int] = []  # their indexes that were dropped

    def drop_up(self) -> bool:
        self.sent += 1
        if self.loss and self.rng.random() < self.loss:
            self.dropped.append(self.sent)
            return True
        return False


class Target:
    """A spacecraft behind a byte link, with an operator terminal attached."""

    kind = "?"
    speed = 1.0  # mission seconds per wall second
    # what the test bench can do to this target beyond commanding it ("reset", "battery")
    can: frozenset[str] = frozenset()
    persistent = False  # its state outlives the test: changes are undone at teardown

    def __init__(self, link, key: bytes | None, sns: SequenceNumbers, noise: LinkNoise | None = None) -> None:
        self.link = link
        self.noise = noise or LinkNoise()
        self.key = key
        self.term = Terminal(key=key, t1_ms=1500)
        self.sns = sns
        if self.term.sa is not None:
            self.term.sa.last_sn = sns.floor()
        self.start = time.monotonic()
        self.drop_uplink: Callable[[bytes], bool] | None = None  # return True to drop a CLTU burst
        self.dropped = 0  # bursts drop_uplink dropped (the link noise counts its own)
        self.undo: list[Callable[[], None]] = []  # run in reverse at teardown on persistent targets
        self._restored: set[str] = set()
        self.term.start(self.now_ms())

    def now_ms(self) -> int:
        return int((time.monotonic() - self.start) * 1000)

    def pump(self, seconds: float, until: Callable[[], bool] | None = None) -> bool:
        """Exchange link traffic for up to `seconds` of wall time, or until `until()` holds."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if until is not None and until():
                return True
            up = self.term.uplink(self.now_ms())
            if up:
                if self.drop_uplink is not None:  # a test's own drops replace the noise
                    if self.drop_uplink(up):
                        self.dropped += 1
                    else:
                        self.link.write(up)
                elif not self.noise.drop_up():
                    self.link.write(up)
            data = self.link.read(0.02)
            if data:
                self.term.downlink(data, self.now_ms())
        return until() if until is not None else True

    def mission_s(self, seconds: float) -> float:
        """Wall seconds for `seconds` of mission time on this target."""
        return seconds / self.speed

    def link_ready(self) -> bool:
        """COP-1 is initialised: the spacecraft confirmed Set V(R) and the AD service runs."""
        fop = self.term.fop
        return fop._init_frame is None and not fop.suspended

    def wait_link(self, timeout: float = 30.0) -> None:
        assert self.pump(timeout, self.link_ready), "COP-1: Set V(R) never confirmed (%s)" % (
            self.term.fop.alerts or "no CLCW answered it"
        )

    def send(
        self, name: str, values: dict | None = None, timeout: float = 30.0
    ) -> tuple[list[int], int | None]:
        """Send a command and wait for its final verdict: (PUS-1 subtypes, failure code or None)."""
        req = self.term.command(name, values)
        assert self.pump(timeout, lambda: self.term.done(req)), "%s: no verdict in %.0f s (got %s)" % (
            name,
            timeout,
            self.term.verdict(req),
        )
        return self.term.verdict(req), self.term.failures.get(req, (None, ""))[0]

    def ok(self, name: str, values: dict | None = None, timeout: float = 30.0) -> None:
        req = self.term.command(name, values)
        assert self.pump(timeout, lambda: self.term.done(req)), "%s: no verdict in %.0f s" % (name, timeout)
        assert self.term.verdict(req) == OK, "%s: %s, %s" % (
            name,
            self.term.verdict(req),
            self.term.describe_failure(req),
        )

    def events(self, name: str, since: int = 0) -> list[dict]:
        return [aux for _t, n, aux in self.term.events[since:] if n == name]

    def wait_event(self, name: str, timeout: float, since: int = 0) -> dict:
        """The latest `name` event among those after index `since` of the terminal's event list."""
        got = self.pump(timeout, lambda: bool(self.events(name, since)))
        assert got, "no %s event in %.0f s (saw %s)" % (
            name,
            timeout,
            [n for _t, n, _a in self.term.events[since:]],
        )
        return self.events(name, since)[-1]

    def hk(self, sid: int, timeout: float = 15.0) -> dict:
        """A fresh housekeeping report of set `sid`, asked for now (hk_oneshot)."""
        n = len(self.term.hk)
        self.ok("hk_oneshot", {"sid": sid})
        fresh = lambda: any(s == sid for _t, s, _v in self.term.hk[n:])  # noqa: E731
        assert self.pump(timeout, fresh), "no housekeeping set %d in %.0f s" % (sid, timeout)
        return [v for _t, s, v in self.term.hk[n:] if s == sid][-1]

    def get_param(self, name: str) -> float:
        pid = PARAM_IDS[name]
        n = len(self.term.tm)
        self.ok("param_get", {"param_id": pid})
        reports = lambda: [tm for tm in self.term.tm[n:] if (tm.service, tm.subtype) == (20, 2)]  # noqa: E731
        assert self.pump(10, lambda: bool(reports())), "no parameter report TM(20,2) for %s" % name
        params = decode_tm(reports()[-1])["params"]  # the ground's decoder: the dictionary's layout
        assert [p["id"] for p in params] == [pid], params
        return params[0]["value"]

    def set_param(self, name: str, value: float) -> None:
        """param_set; on a persistent target the value it had first is put back at teardown."""
        if self.persistent and name not in self._restored:
            before = self.get_param(name)
            self._restored.add(name)
            self.undo.append(lambda: self.ok("param_set", {"param_id": PARAM_IDS[name], "value": before}))
        self.ok("param_set", {"param_id": PARAM_IDS[name], "value": value})

    def set_hk_interval(self, sid: int, seconds: int) -> None:
        if self.persistent:
            default = HK_SETS[sid][1]
            self.undo.append(lambda: self.ok("hk_interval", {"sid": sid, "interval_s": default}))
        self.ok("hk_interval", {"sid": sid, "interval_s": seconds})

    def require(self, what: str) -> None:
        """Skip the test, before it changes anything, if this target cannot do `what`."""
        why = {
            "reset": "cannot be reset from the test (--reset-cmd)",
            "battery": "has no battery the test can drain",
            "key": "runs without an SDLS key (--key-file)",
        }
        if what not in self.can:
            pytest.skip("the %s target %s" % (self.kind, why[what]))

    # target-specific: overridden where `can` says so
    def reset(self) -> None:
        raise NotImplementedError

    def battery_low(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        if self.term.sa is not None:
            self.sns.used(self.term.sa.last_sn)
        self.link.close()


class TwinTarget(Target):
    """flight.app on CPython and the simulated spacecraft (ground.twin), its link on a pty."""

    kind = "twin"
    speed = 20.0
    can = frozenset({"reset", "battery", "key"})

    def __init__(self, flash: Path, sns: SequenceNumbers, noise: LinkNoise | None = None) -> None:
        from ground.twin import TwinServer

        self.server = TwinServer(use_pty=True, speed=self.speed, key=KEY, flash_dir=str(flash))
        self.thread = threading.Thread(target=self.server.serve, name="hil-twin", daemon=True)
        self.thread.start()
        super().__init__(open_link(self.server.pty_path), KEY, sns, noise)

    def reset(self) -> None:
        # twin.power_cycle() done by the serving thread at a tick boundary: calling it from here
        # would rebuild the flight application while that thread is inside a tick
        self.server.request_reset(0)

    def battery_low(self) -> None:
        self.server.twin.env.battery.soc = 0.15  # a float store: atomic for the serving thread

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
    can = frozenset({"reset", "key"})

    def __init__(
        self, flash: Path, bundle: Path, sns: SequenceNumbers, noise: LinkNoise | None = None
    ) -> None:
        from ground.emuboard import EmulatedBoard
        from ground.flash.deploy import deploy

        # provision the SDLS key the way a team would: a file in the board's flash, read at boot
        (flash / "flash").mkdir(parents=True, exist_ok=True)
        (flash / "flash" / "sdls_key.hex").write_text(KEY.hex())
        self.board = EmulatedBoard(flash, uart_pty=True, log_console=True)
        self.board.start()
        try:
            self.deployed = deploy(self.board.port, bundle, entry="flight.main", boot_timeout=120)
            # deploy returns at boot_select's "slot X good", which flight.main prints (mark_good) just
            # before its own line: wait for that line on the console, with a deadline
            self.boot_log = self.wait_boot_line(60)
            link = open_link(self.board.uart_port)
        except BaseException:
            self.board.close()
            raise
        super().__init__(link, KEY, sns, noise)

    def wait_boot_line(self, timeout: float) -> str:
        """The console of the last boot, from boot_select's first line to flight.main's `flight: boot`."""
        good = self.board.wait_console(rb"boot_select: slot %s good" % self.deployed.slot.encode(), timeout)
        line = self.board.wait_console(rb"flight: boot \d+, mode \d+, running", timeout, since=good.start())
        con = bytes(self.board.console_log)
        start = max(con.rfind(b"boot_select: trying slot", 0, good.start()), 0)
        return con[start : line.end()].decode(errors="replace")

    def reset(self) -> None:
        # a power cycle (node exits, flash written back, boots again); the ptys stay, so the link
        # stays open and nothing the new boot sends is flushed by a reopen
        self.board.restart()

    def close(self) -> None:
        super().close()
        self.board.close()


class SerialTarget(Target):
    """A real board running flight.main, its ground-link UART on --port."""

    kind = "serial"
    persistent = True

    def __init__(
        self,
        port: str,
        key: bytes | None,
        speed: float,
        reset_cmd: str | None,
        sns: SequenceNumbers,
        noise: LinkNoise | None = None,
    ) -> None:
        self.speed = speed
        self.can = frozenset({"reset"} if reset_cmd else set()) | ({"key"} if key is not None else set())
        self.reset_cmd = reset_cmd
        # a USB CDC port disappears while the board resets: reopen it instead of failing the test
        super().__init__(ReconnectingLink(lambda: open_link(port)), key, sns, noise)

    def reset(self) -> None:
        assert self.reset_cmd
        subprocess.run(self.reset_cmd, shell=True, check=True, timeout=60, capture_output=True)
