"""Shared by the flight-application tests: a twin, an operator terminal, and the loop between."""

from __future__ import annotations

from pathlib import Path

from ground.flight_twin import FlightTwin, default_environment
from ground.terminal import Terminal


class Rig:
    def __init__(
        self,
        flash: Path,
        tumble_dps: float = 0.3,
        soc: float = 0.8,
        key: bytes | None = None,
        admin_key: bytes | None = None,
        board: str = "sim-twin",
    ) -> None:
        self.twin = FlightTwin(
            flash, default_environment(tumble_dps, soc), key=key, admin_key=admin_key, board=board
        )
        self.term = Terminal(key=key)
        self.ms = 0
        self.term.start(0)

    def run(self, seconds: float, uplink=None) -> None:
        """Fly `seconds` of mission time with the link up (uplink: optional byte filter)."""
        for _ in range(int(seconds * 10)):
            up = self.term.uplink(self.ms)
            if up:
                self.twin.link.ground_write(uplink(up) if uplink else up)
            self.twin.step()
            down = self.twin.link.ground_read()
            if down:
                self.term.downlink(down, self.ms)
            self.ms += 100

    def until(self, predicate, max_s: float = 120.0) -> bool:
        for _ in range(int(max_s)):
            if predicate():
                return True
            self.run(1.0)
        return predicate()

    def send(self, name: str, values: dict | None = None, max_s: float = 30.0) -> list[int]:
        req = self.term.command(name, values)
        assert self.until(lambda: self.term.done(req), max_s), "%s: no verdict, got %s" % (
            name,
            self.term.verdict(req),
        )
        return self.term.verdict(req)

    def send_tc(self, tc, max_s: float = 30.0) -> tuple[list[int], int | None]:
        req = self.term.send_tc(tc)
        assert self.until(lambda: self.term.done(req), max_s)
        return self.term.verdict(req), self.term.failures.get(req, (None, ""))[0]

    def code(self, name: str, values: dict | None = None) -> int | None:
        req = self.term.command(name, values)
        assert self.until(lambda: self.term.done(req), 30.0)
        return self.term.failures.get(req, (None, ""))[0]

    @property
    def app(self):
        return self.twin.app

    def nominal(self) -> None:
        """Boot -> SAFE -> (dwell) -> DETUMBLE -> NOMINAL, autonomously."""
        assert self.until(lambda: self.app.modes.mode == 3, 900), "mode %d" % self.app.modes.mode
