"""The board on the bench as a bench plan sees it (board_tools/bench/plan.py): the PowerTarget
protocol, and TwinPowerTarget, the flight twin behind a power supervisor on a (simulated) supply."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from board_tools.bench.instruments import BenchError
from board_tools.bench.plan_file import TargetError
from flight.boot import BROWN_OUT, POWER_ON
from flight.params import ParamError
from ground.flight_twin import FlightTwin


@dataclass(frozen=True)
class TargetStatus:
    powered: bool
    boot_count: int | None = None
    reset_cause: int | None = None
    mode: int | None = None


class PowerTarget(Protocol):
    """The board on the bench, as the plan runner sees it.

    TwinPowerTarget implements it on the flight-software twin (simulated time). A hardware
    target would implement the same five members over its serial port and the ground link:
    advance() sleeps in real time, status() decodes boot_count / reset_cause / mode from the
    housekeeping stream (powered: telemetry seen recently), set_param() / get_param() are
    PUS-20 telecommands verified through ground.commanding.
    """

    name: str

    def now_ms(self) -> int: ...

    def advance(self, ms: int) -> None: ...

    def status(self) -> TargetStatus: ...

    def set_param(self, pid: int, value: float) -> float: ...

    def get_param(self, pid: int) -> float: ...


class SupplyProbe(Protocol):
    def output_state(self) -> tuple[bool, float]: ...


class TwinPowerTarget:
    """The flight twin behind a power supervisor, powered from a (simulated) bench supply.

    Every slice of time (at most one 100 ms tick) starts by reading the supply's output state
    and measured voltage, the way the board's supervisor watches its rail:
      - output disabled: the rail is gone, the board stops at once;
      - rail below brownout_v for longer than brownout_ms: the supervisor holds the MCU in
        reset (shorter dips are ridden through on the bulk capacitance);
      - unpowered boards are not stepped; the environment (orbit, battery) flies on;
      - rail back above brownout_v: one reset, `power_cycle(brown_out=...)`, then ticks again.
        The cause is a brown-out if the rail stayed above por_v, else a power-on reset.
    The twin is built at the first power-up, so the first boot is a power-on boot.
    """

    name = "flight twin"

    def __init__(
        self,
        flash_dir: str | Path,
        supply: SupplyProbe,
        *,
        brownout_v: float = 5.5,
        brownout_ms: float = 50.0,
        por_v: float = 2.0,
        tick_ms: int = 100,
        twin_factory: Callable[..., FlightTwin] = FlightTwin,
    ) -> None:
        if not 0 <= por_v <= brownout_v:
            raise BenchError("target: need 0 <= por_v <= brownout_v")
        self.flash_dir = Path(flash_dir)
        self.flash_dir.mkdir(parents=True, exist_ok=True)  # the flight HostFs creates one level only
        self.supply = supply
        self.brownout_v = brownout_v
        self.brownout_ms = brownout_ms
        self.por_v = por_v
        self.tick_ms = tick_ms
        self.twin_factory = twin_factory
        self.twin: FlightTwin | None = None
        self.powered = False
        self.power_ups = 0
        self.samples = 0  # supply reads
        self._now_ms = 0
        self._phase_ms = 0  # powered time since the last tick
        self._low_ms = 0.0  # how long the rail has been below brownout_v while running
        self._low_min = math.inf
        self._cause = POWER_ON  # reset cause the supervisor will report at the next power-up

    def now_ms(self) -> int:
        return self._now_ms

    def advance(self, ms: int) -> None:
        remaining = int(ms)
        while remaining > 0:
            chunk = min(remaining, self.tick_ms - self._phase_ms)
            on, volts = self.supply.output_state()
            self.samples += 1
            self._supervise(on, volts, chunk)
            if self.powered:
                assert self.twin is not None
                self._phase_ms += chunk
                if self._phase_ms >= self.tick_ms:
                    self.twin.step()
                    self._phase_ms = 0
            elif self.twin is not None:
                self.twin.world.advance(chunk)
            self._now_ms += chunk
            remaining -= chunk

    def _supervise(self, on: bool, volts: float, chunk: int) -> None:
        if self.powered:
            if not on:
                self._power_lost(POWER_ON)
            elif volts < self.brownout_v:
                self._low_ms += chunk
                self._low_min = min(self._low_min, volts)
                if self._low_ms > self.brownout_ms:
                    self._power_lost(BROWN_OUT if self._low_min >= self.por_v else POWER_ON)
            else:
                self._low_ms, self._low_min = 0.0, math.inf
        elif on and volts >= self.brownout_v:
            self._power_up()
        elif not on or volts < self.por_v:
            self._cause = POWER_ON  # the rail went all the way down: a cold start

    def _power_lost(self, cause: int) -> None:
        self.powered = False
        self._cause = cause
        self._phase_ms = 0
        self._low_ms, self._low_min = 0.0, math.inf

    def _power_up(self) -> None:
        if self.twin is None:
            self.twin = self.twin_factory(self.flash_dir, tick_ms=self.tick_ms)
        else:
            self.twin.power_cycle(brown_out=self._cause == BROWN_OUT)
        self.powered = True
        self.power_ups += 1

    def _app(self) -> Any:
        if not self.powered or self.twin is None:
            raise TargetError("%s is not powered" % self.name)
        return self.twin.app

    def status(self) -> TargetStatus:
        if not self.powered or self.twin is None:
            return TargetStatus(False)
        app = self.twin.app
        return TargetStatus(True, app.boot.count, app.boot.cause, app.modes.mode)

    def set_param(self, pid: int, value: float) -> float:
        try:
            return float(self._app().params.set(pid, value))
        except ParamError as exc:  # e.g. heater on point above the off point: the board refuses
            raise TargetError("%s refused parameter %d = %g: %s" % (self.name, pid, value, exc)) from None

    def get_param(self, pid: int) -> float:
        return float(self._app().params.get(pid))
