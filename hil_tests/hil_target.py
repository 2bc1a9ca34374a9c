"""The HIL targets: a spacecraft behind a byte link (twin, emulated board, real board), owned by
the ground server operators run (`cubesat ground`), which the tests drive through its scripting
API (`target.gs`, ground.server.client.GroundClient over HTTP). Used by conftest.py (the `target`
fixture) and the test modules (helpers and constants)."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flight.dictionary import HK_SETS
from ground.server.auth import new_token
from ground.server.client import GroundClient
from ground.server.config import parse_config
from ground.server.scripting import CommandResult
from ground.server.server import GroundServer
from ground.transport import open_link

KEY = bytes(range(0x40, 0x60))  # the SDLS key of the twin and of the emulated board
OK = [1, 3, 7]  # PUS-1: accepted, started, completed
CRAFT = "sat"
T1_MS = 1500  # COP-1 retransmission timer: a round trip on a pty is far shorter


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


class NoisyUplink:
    """The server's link to the target with the bench in between: each CLTU burst the server
    sends up may be dropped (the seeded noise, or a test's own `drop_uplink`)."""

    def __init__(self, link: Any, target: Target) -> None:
        self.link = link
        self.target = target

    def write(self, data: bytes) -> None:
        t = self.target
        if t.drop_uplink is not None:  # a test's own drops replace the noise
            if t.drop_uplink(data):
                t.dropped += 1
                return
        elif t.noise.drop_up():
            return
        self.link.write(data)

    def read(self, timeout: float = 0.0) -> bytes:
        return self.link.read(timeout)

    def close(self) -> None:
        self.link.close()


class Target:
    """A spacecraft behind a byte link at `address` (pty or serial port), owned by a ground server
    in this process with its archive and log in `folder`; the tests use `gs`, its scripting API."""

    kind = "?"
    speed = 1.0  # mission seconds per wall second
    # what the test bench can do to this target beyond commanding it ("reset", "battery")
    can: frozenset[str] = frozenset()
    persistent = False  # its state outlives the test: changes are undone at teardown

    def __init__(
        self,
        address: str,
        link_type: str,
        key_file: Path | None,
        folder: Path,
        noise: LinkNoise | None = None,
    ) -> None:
        self.noise = noise or LinkNoise()
        self.key = bytes.fromhex(key_file.read_text().strip()) if key_file is not None else None
        self.drop_uplink: Callable[[bytes], bool] | None = None  # return True to drop a CLTU burst
        self.dropped = 0  # bursts drop_uplink dropped (the link noise counts its own)
        self.undo: list[Callable[[], None]] = []  # run in reverse at teardown on persistent targets
        self._restored: set[str] = set()
        token, line = new_token("hil")
        craft: dict[str, Any] = {"name": CRAFT, "scid": 42, "link": {"type": link_type, "address": address}}
        craft["t1_ms"] = T1_MS
        if key_file is not None:  # its anti-replay counter is KEY_FILE.sn, as for `cubesat send`
            craft["key_file"] = str(key_file)
        else:
            craft["insecure"] = True
        config = {
            "server": {"port": 0, "archive": "ground.sqlite", "log_file": "ground.log"},
            "spacecraft": [craft],
            "users": [{"name": "hil", "role": "admin", "token_hash": line.split('"')[1]}],
        }
        folder.mkdir(parents=True, exist_ok=True)
        self.server = GroundServer(
            parse_config(config, folder), openers={CRAFT: lambda: NoisyUplink(open_link(address), self)}
        )
        self.gs = GroundClient(self.server.start(), token, CRAFT)
        self.link = self.server.links[CRAFT]  # the server's own link: COP-1 state, raw access for forgeries

    def mission_s(self, seconds: float) -> float:
        """Wall seconds for `seconds` of mission time on this target."""
        return seconds / self.speed

    def mark(self) -> float:
        """Now, as the archive's ground receive time: pass as `since` for what comes after."""
        return time.time()

    def pump(self, seconds: float, until: Callable[[], bool] | None = None) -> bool:
        """Let up to `seconds` of wall time pass, or until `until()` holds (checked every 50 ms)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if until is not None and until():
                return True
            time.sleep(0.05)
        return until() if until is not None else True

    def link_ready(self) -> bool:
        """COP-1 is initialised: the spacecraft confirmed Set V(R) and the AD service runs."""
        cop1 = self.gs.status()["stats"]["cop1"]
        return cop1["initialized"] and not cop1["suspended"]

    def wait_link(self, timeout: float = 30.0) -> None:
        assert self.pump(timeout, self.link_ready), "COP-1: Set V(R) never confirmed (%s)" % (
            self.gs.status()["stats"]["cop1"]["alerts"] or "no CLCW answered it"
        )

    def command(self, name: str, values: dict | None = None, timeout: float = 30.0) -> CommandResult:
        """Send a command (as the bench's admin, confirmed) and wait for its end."""
        return self.gs.send(name, values or {}, wait="done", timeout=timeout, confirm=True)

    def send(
        self, name: str, values: dict | None = None, timeout: float = 30.0
    ) -> tuple[list[int], int | None]:
        """Send a command and wait for its final verdict: (PUS-1 subtypes, failure code or None)."""
        r = self.command(name, values, timeout)
        return [s["subtype"] for s in r.data["stages"] if s["subtype"]], (r.failure or {}).get("code")

    def ok(self, name: str, values: dict | None = None, timeout: float = 30.0) -> CommandResult:
        r = self.command(name, values, timeout)
        assert r.ok, "%s: %s" % (name, r.describe())
        return r

    def events(self, name: str, since: float) -> list[dict]:
        """The arguments of each `name` event received since `since` (a `mark()`)."""
        return [e["args"] for e in self.gs.events(since, limit=100_000) if e["name"] == name]

    def wait_event(self, name: str, timeout: float, since: float) -> dict:
        """The arguments of the first `name` event received since `since`."""
        return self.gs.wait_event(name, timeout, since, poll=0.05)["args"]

    def hk(self, sid: int) -> dict:
        """A fresh housekeeping report of set `sid`, asked for now (hk_oneshot; its reply)."""
        reply = self.ok("hk_oneshot", {"sid": sid}).reply
        assert reply is not None and reply["sid"] == sid, reply
        return reply["values"]

    def get_param(self, name: str) -> float:
        """param_get by name; the value from its TM(20,2) reply, laid out by the dictionary."""
        params = (self.ok("param_get", {"param_id": name}).reply or {}).get("params")
        assert params is not None and [p["name"] for p in params] == [name], params
        return params[0]["value"]

    def set_param(self, name: str, value: float) -> None:
        """param_set; on a persistent target the value it had first is put back at teardown."""
        if self.persistent and name not in self._restored:
            before = self.get_param(name)
            self._restored.add(name)
            self.undo.append(lambda: self.ok("param_set", {"param_id": name, "value": before}))
        self.ok("param_set", {"param_id": name, "value": value})

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
        self.server.stop()


class TwinTarget(Target):
    """flight.app on CPython and the simulated spacecraft (ground.twin), its link on a pty."""

    kind = "twin"
    speed = 20.0
    can = frozenset({"reset", "battery", "key"})

    def __init__(self, folder: Path, key_file: Path, noise: LinkNoise | None = None) -> None:
        from ground.twin import TwinServer

        self.twin = TwinServer(use_pty=True, speed=self.speed, key=KEY, flash_dir=str(folder / "flash"))
        self.thread = threading.Thread(target=self.twin.serve, name="hil-twin", daemon=True)
        self.thread.start()
        try:
            super().__init__(self.twin.pty_path, "pty", key_file, folder / "ground", noise)
        except BaseException:
            self._stop_twin()
            raise

    def reset(self) -> None:
        # twin.power_cycle() done by the serving thread at a tick boundary: calling it from here
        # would rebuild the flight application while that thread is inside a tick
        self.twin.request_reset(0)

    def battery_low(self) -> None:
        self.twin.twin.env.battery.soc = 0.15  # a float store: atomic for the serving thread

    def _stop_twin(self) -> None:
        self.twin.stop()
        self.thread.join(5)
        self.twin.close()

    def close(self) -> None:
        super().close()
        self._stop_twin()


class EmulatedTarget(Target):
    """The project's bundle for the emulated board, deployed with the A/B deployer into real
    MicroPython (WebAssembly); flight.main runs the flight application there on the simulated
    board and environment, its ground link on the board's flight UART."""

    kind = "emulated"
    can = frozenset({"reset", "key"})

    def __init__(self, folder: Path, bundle: Path, key_file: Path, noise: LinkNoise | None = None) -> None:
        from board_tools.emuboard import EmulatedBoard
        from board_tools.flash.deploy import deploy

        flash = folder / "flash"
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
            super().__init__(self.board.uart_port, "pty", key_file, folder / "ground", noise)
        except BaseException:
            self.board.close()
            raise

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
    """A real board running flight.main, its ground-link UART on --port. The server reopens the
    port when it drops (a USB CDC port disappears while the board resets)."""

    kind = "serial"
    persistent = True

    def __init__(
        self, port: str, key_file: Path | None, speed: float, reset_cmd: str | None, folder: Path,
        noise: LinkNoise | None = None,
    ) -> None:  # fmt: skip
        self.speed = speed
        has_key = {"key"} if key_file is not None else set()
        self.can = frozenset({"reset"} if reset_cmd else set()) | has_key
        self.reset_cmd = reset_cmd
        super().__init__(port, "serial", key_file, folder / "ground", noise)

    def reset(self) -> None:
        assert self.reset_cmd
        subprocess.run(self.reset_cmd, shell=True, check=True, timeout=60, capture_output=True)
