"""The MicroPython programs `cubesat heap` (board_tools/board_heap.py, which says the method) sends
to the emulated board's raw REPL: the simulated world with wrappers that count what the simulator
allocates, the flight's boot with the tick meter, and the list of the modules the flight loads.
"""

from __future__ import annotations

from board_tools.board_heap_probes import TICK_MS, HeapMeasureError, run

# The measuring program, sent to the board's raw REPL once after SETUP; `run(n)` flies n ticks.
# The simulated world, and wrappers around every method of its buses, pins, clock, watchdog and
# link: what the simulator allocates while flight code calls into it (chip physics, the in-memory
# link growing) is the simulator's, so each wrapper adds its allocation to S and run() takes it out
# of the tick. All of it is counted in `sim`. gc.mem_alloc() scans the heap, so the wrappers are on
# only for the first minutes (`tick_window_s`), in short chunks; exclude(False) takes them off.
SIM = """from hal.sim.buses import bus, spi, live_pin, clock
from hal.sim.board import world, board
S = [0]
_F = type(lambda: 0)
_ORIG = []
def _wrap(f):
    def w(*a, **k):
        s = gc.mem_alloc()
        try:
            return f(*a, **k)
        finally:
            S[0] += gc.mem_alloc() - s
    return w
for cls in (bus.SimI2C, spi.SimSPI, bus.SimPin, bus.SimPWM, bus.SimADC, bus.SimUART, live_pin.LivePin,
            world.BytePipe, world.SimWatchdog, board.SimBoard, clock.VirtualClock):
    for name in dir(cls):
        f = getattr(cls, name)
        if not name.startswith('__') and type(f) is _F and (cls, name) not in _ORIG:
            _ORIG.append((cls, name, f))
def exclude(on):
    for cls, name, f in _ORIG:
        setattr(cls, name, _wrap(f) if on else f)
exclude(True)
sy = SimWorld(board=BOARD)
"""


def sim(board: str) -> str:
    """The simulated world of the board definition `board` (any definition: the simulator builds
    the chips it names), with the wrappers on."""
    return "from hal.sim.board.world import SimWorld\nBOARD = %r\n" % board + SIM


# The code only boot runs (flight.assembly, which builds the application, and hal.boards) is
# released after boot: held here (_A) until the heap at the end of boot is measured with it
# (boot_peak), then let go
BOOT = """import flight.main
import flight.assembly
import hal.boards
_A = (flight.assembly, hal.boards)
sy, app = flight.main.boot('sim-twin', 'flash', system=sy)
W = [0, 0, 0]  # worst tick after the first, ticks, the first tick
def run(n, measure):
    if not measure:
        for _ in range(n):
            app.step()
            W[1] += 1
            sy.advance(%d)
        return
    for _ in range(n):
        s = S[0]
        a = gc.mem_alloc()
        app.step()
        d = gc.mem_alloc() - a - (S[0] - s)
        if W[1] == 0:
            W[2] = d
        elif d > W[0]:
            W[0] = d
        W[1] += 1
        sy.advance(%d)
""" % (TICK_MS, TICK_MS)


# Which modules the flight application loads on a board: a first boot lists them; the definition
# modules and the machine layer (hal.boards.*) are the board's, measured on their own.
LIST = """import sys
print(repr(sorted(m for m in sys.modules if m.split('.')[0] in ('flight', 'protocols', 'hal')
                  and not m.startswith(('hal.sim', 'hal.boards.')))))
"""


def import_first(modules: list[str]) -> str:
    """Code that imports the flight's `modules` and fails if that pulled in any of the simulator."""
    return "import sys\n%s\nassert not [m for m in sys.modules if m.startswith('hal.sim')]\n" % "\n".join(
        "import " + m for m in modules
    )


def boot(t, name: str) -> None:
    out = run(t, BOOT + "print('booted')")
    if "booted" not in out:
        raise HeapMeasureError("flight did not boot on %s: %s" % (name, out.strip()[-300:]))
