"""The twin: the real flight application (flight.app) on simulated hardware, faster than real time.

    twin = FlightTwin(flash_dir)           # hal.sim world + FlightApp with its files in flash_dir
    twin.run_ms(1000)                      # ten 100 ms ticks: flight code, then physics
    twin.link.ground_write(cltu_bytes)     # uplink; twin.link.ground_read() -> CADU bytes

With `board_speed=F` the twin keeps a slower board's time: the executive times tasks on a clock
that advances by this interpreter's CPU time x F, and a tick whose flight code takes longer than
the tick moves the simulated clock by that much instead (docs/board-speed.md).

A watchdog bite (the executive stopped feeding it) or `power_cycle()` resets the board: the
flight application is built again from its persisted files, exactly as after a reset on
hardware, while the environment (orbit, attitude, battery) flies on.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

from flight.app import FlightApp
from flight.boot import BROWN_OUT, POWER_ON, SOFT, WATCHDOG
from flight.dictionary import APID
from flight.lora_link import LoraLink, carry_link
from flight.storage import HostFs
from ground import DEFAULT_SCID
from ground.lora_ground import LoraGroundStation
from hal.clock import ticks_diff
from hal.sim.board.world import SimWorld
from hal.sim.buses.clock import ScaledCpuClock
from hal.sim.env.attitude import RigidBody
from hal.sim.env.environment import EPOCH_UNIX, Environment
from hal.sim.env.orbit import CircularOrbit

if TYPE_CHECKING:
    from ground.passes import Station

SCID = DEFAULT_SCID


def default_environment(
    tumble_dps: float = 8.0, soc: float = 0.8, orbit=None, epoch_unix: float = EPOCH_UNIX
) -> Environment:
    """500 km noon-midnight sun-synchronous orbit (eclipses every orbit), a tumbling 3U.

    `orbit`: another orbit (e.g. ground.contact.TleOrbit), starting at `epoch_unix`."""
    rate = math.radians(tumble_dps) / math.sqrt(3.0)
    if orbit is None:
        orbit = CircularOrbit(altitude_km=500, inclination_deg=97.4, raan_deg=281.0)
    body = RigidBody(inertia=(0.03, 0.03, 0.01), omega=(rate, rate, -rate))
    env = Environment(orbit=orbit, body=body, epoch_unix=epoch_unix)
    env.battery.soc = soc
    return env


class FlightTwin:
    def __init__(
        self,
        flash_dir: str | Path,
        env: Environment | None = None,
        scid: int = SCID,
        key: bytes | None = None,
        tick_ms: int = 100,
        admin_key: bytes | None = None,
        interleave: int = 5,
        link: str = "uart",
        board_speed: float | None = None,
        station: Station | None = None,
        board: str = "sim-twin",
    ) -> None:
        if link not in ("uart", "lora"):
            raise ValueError("link must be 'uart' or 'lora', got %r" % (link,))
        if station is not None and link != "uart":
            raise ValueError("contact windows (station=) gate the uart link only")
        self.flash_dir = str(flash_dir)
        self.board_speed = board_speed
        # the executive's execution-time clock: this host's, or a board's `board_speed` times slower
        self.cpu_us = ScaledCpuClock(board_speed, _cpu_us).ticks_us if board_speed else _cpu_us
        self.slow_ticks = 0  # ticks whose flight code took longer than a tick at the board's speed
        self.world = SimWorld(env if env is not None else default_environment(), board=board)
        self.env = self.world.env
        self.link_kind = link
        self.flight_link = None  # flight.lora_link.LoraLink of the running application (LoRa)
        if link == "lora":
            # the ground station's radio on the world's medium; it outlives board resets
            self.link = LoraGroundStation(self.world.clock, self.world.medium)
        else:
            if station is not None:  # the link is up only while the station sees the spacecraft
                from ground.contact import ContactPipe

                self.world.link = ContactPipe(self.env, station)
            self.link = self.world.link
        self.scid = scid
        self.key = key
        self.admin_key = admin_key
        self.tick_ms = tick_ms
        self.interleave = interleave
        self.boots = 0
        self.hang_ms = 0  # fault injection: the next tick takes this long (starves the watchdog)
        self.app = self._boot(POWER_ON)

    def _boot(self, cause: int) -> FlightApp:
        self.boots += 1
        flight_link = LoraLink() if self.link_kind == "lora" else self.link
        app = FlightApp(
            self.world.board,
            self.world.clock,
            HostFs(self.flash_dir),
            flight_link,
            scid=self.scid,
            apid=APID,
            key=self.key,
            admin_key=self.admin_key,
            reset_cause=cause,
            cpu_us=self.cpu_us,
            rtc_s=self.world.rtc_s,
            tick_ms=self.tick_ms,
            watchdog=self.world.watchdog,
            interleave=self.interleave,
        )
        if self.link_kind == "lora":
            carry_link(flight_link, app, self.world.board, self.world.clock)  # as flight.main does
            self.flight_link = flight_link
        return app

    @property
    def t(self) -> float:
        return self.env.t

    def step(self) -> None:
        """One executive tick of flight code, then the world advances by one tick (at a board speed:
        by the board time the flight code took, when that is longer)."""
        advance = self.tick_ms
        if self.board_speed:
            t0 = self.cpu_us()
            self.app.step()
            used_ms = ticks_diff(self.cpu_us(), t0) / 1000.0
            if used_ms > advance:
                advance = used_ms
                self.slow_ticks += 1
        else:
            self.app.step()
        if self.hang_ms:
            # a task stuck in a loop: simulated time passes, the watchdog is not fed
            self.world.advance(self.hang_ms)
            self.hang_ms = 0
        self.world.advance(advance)
        if self.world.watchdog.expired():
            self.reset(WATCHDOG)
        elif getattr(self.world.board, "reset_requested", False):  # the flight commanded a reboot
            self.reset(SOFT)

    def run_ms(self, ms: int) -> None:
        for _ in range(max(1, ms // self.tick_ms)):
            self.step()

    def reset(self, cause: int) -> None:
        self.world.reset(cause)
        self.app = self._boot(cause)

    def power_cycle(self, brown_out: bool = False) -> None:
        self.reset(BROWN_OUT if brown_out else POWER_ON)


def _cpu_us() -> int:
    return time.perf_counter_ns() // 1000
