"""Everything a flight computer sees in the twin, on one virtual clock.

    world = SimWorld()                      # environment, sim-twin board, radio, valves, loads
    app = FlightApp(world.board, world.clock, fs, world.link, watchdog=world.watchdog,
                    rtc_s=world.rtc_s, reset_cause=world.reset_cause)
    world.advance(100)                      # 100 ms of simulated time for everything
    world.link.ground_write(cltus); world.link.ground_read()

The flight side never imports this module: it only gets the board, clock, link and watchdog.
`reset()` models what a watchdog bite or power cycle does to the hardware: the chips keep their
physics (the environment flies on), pins fall to their reset state, and the cause is recorded.
"""

from hal.boards import definition
from hal.clock import ticks_diff
from hal.sim.board.board import SimBoard
from hal.sim.board.extras import EXAMPLE_THRUSTERS, add_loads, add_propulsion_unit, add_thrusters
from hal.sim.buses.clock import VirtualClock
from hal.sim.env.environment import Environment
from hal.sim.env.radio_medium import RadioMedium


class BytePipe:
    """The flight link as two byte queues: flight reads what the ground wrote and vice versa."""

    def __init__(self):
        self._up = bytearray()
        self._down = bytearray()

    def read(self):  # flight side (UART.read semantics: None when empty)
        if not self._up:
            return None
        data = bytes(self._up)
        self._up = bytearray()
        return data

    def write(self, data):
        self._down += data
        return len(data)

    def ground_write(self, data):
        self._up += data

    def ground_read(self):
        data = bytes(self._down)
        self._down = bytearray()
        return data


class SimWatchdog:
    """machine.WDT on the virtual clock: `expired()` once `timeout_ms` pass without a feed."""

    def __init__(self, clock, timeout_ms=5000):
        self.clock = clock
        self.timeout_ms = timeout_ms
        self.last = clock.ticks_ms()
        self.feeds = 0

    def feed(self):
        self.last = self.clock.ticks_ms()
        self.feeds += 1

    def expired(self):
        return ticks_diff(self.clock.ticks_ms(), self.last) > self.timeout_ms


class SimWorld:
    def __init__(self, env=None, board="sim-twin", watchdog_ms=5000):
        self.clock = VirtualClock()
        self.env = env if env is not None else Environment()
        self.medium = RadioMedium(self.clock)
        self.link = BytePipe()
        self.reset_cause = 0  # power-on
        self.resets = 0
        self._defn = definition(board)
        self.watchdog_ms = watchdog_ms
        self._build()

    def _build(self):
        self.board = SimBoard(self._defn, self.env, self.clock, self.medium)
        if "propulsion_unit" in self._defn:
            add_propulsion_unit(self.board, self.clock, EXAMPLE_THRUSTERS)
        else:
            add_thrusters(self.board, self.clock, EXAMPLE_THRUSTERS)
        self.env.switched = []
        self.loads = add_loads(self.board)
        self.watchdog = SimWatchdog(self.clock, self.watchdog_ms)

    @property
    def prop_unit(self):
        """The board's propulsion unit with its own controller (board.chips), or None."""
        return self.board.chips.get("propulsion_unit")

    def rtc_s(self):
        """The board's battery-backed RTC: seconds since the mission epoch, kept across resets."""
        return self.env.t

    def advance(self, ms):
        self.clock.advance_ms(ms)
        self.env.step(ms / 1000.0)
        self.medium.update()
        unit = self.prop_unit
        if unit is not None:
            unit.update()

    def reset(self, cause):
        """Hardware reset: fresh chips and pins on the same environment (coils off, valves shut)."""
        self.reset_cause = cause
        self.resets += 1
        self.env.coils = None
        self.env.magnetorquer_dipole = (0.0, 0.0, 0.0)
        self.env.thruster_torque = (0.0, 0.0, 0.0)
        self._build()
