"""Board definitions: which chip sits on which bus, at which address, on which pins.

Plain dicts so they cost nothing on MicroPython and the ground can read them. `open_board`
returns the same accessors for a real board (machine.*) and for the simulated one.
"""

from hal.boards.rp2040_flight import BOARD as RP2040_FLIGHT
from hal.boards.samd51_pycubed import BOARD as SAMD51_PYCUBED
from hal.boards.sim_twin import BOARD as SIM_TWIN

BOARDS = {b["name"]: b for b in (RP2040_FLIGHT, SAMD51_PYCUBED, SIM_TWIN)}


def definition(name):
    try:
        return BOARDS[name]
    except KeyError:
        raise KeyError("unknown board %r; known: %s" % (name, ", ".join(sorted(BOARDS)))) from None


def open_board(name, env=None):
    """Buses for the board: machine.* on hardware, simulated chips on `env` otherwise."""
    defn = definition(name)
    if env is not None or defn.get("simulated"):
        from hal.sim.board import SimBoard

        return SimBoard(defn, env)
    from hal.boards.machine_board import MachineBoard

    return MachineBoard(defn)


def open_system(name, link=None):
    """Everything the flight application is given: board, clock, link, watchdog, RTC, reset cause.

    Hardware: machine.* buses, the real clock, the ground-link UART, machine.WDT. Simulated
    boards: the hal.sim world (environment, simulated chips, virtual clock); `link` replaces its
    in-memory byte pipe (e.g. the emulated board's flight UART).
    """
    defn = definition(name)
    if defn.get("simulated"):
        from hal.sim.world import SimWorld

        world = SimWorld(board=name)
        if link is not None:
            world.link = link
        return world
    from hal.boards.machine_board import MachineSystem

    return MachineSystem(defn, link)


def detect():
    """The board this interpreter runs on, from sys.platform (the twin and emulators: sim-twin)."""
    import sys

    return {"rp2": "rp2040-flight", "samd": "samd51-pycubed"}.get(sys.platform, "sim-twin")
