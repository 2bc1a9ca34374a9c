"""Board definitions: which chip sits on which bus, at which address, on which pins.

Plain dicts so they cost nothing on MicroPython and the ground can read them. `open_board`
returns the same accessors for a real board (machine.*) and for the simulated one. A definition
module is imported only when its board is asked for, so a flight board loads its own alone.
"""

from hal.errors import HalError

# board name -> (module under hal.boards, attribute)
_DEFINITIONS = {
    "rp2040-flight": ("rp2040_flight", "BOARD"),
    "samd51-pycubed": ("samd51_pycubed", "BOARD"),
    "stm32f4-pyboard": ("stm32_pyboard", "BOARD"),
    "stm32f7-pyboard": ("stm32_pyboard", "BOARD_F7"),
    "esp32-flight": ("esp32_flight", "BOARD"),
    "esp32c3-flight": ("esp32_flight", "BOARD_C3"),
    "sim-twin": ("sim_twin", "BOARD"),
    "sim-modbus-prop": ("sim_modbus_prop", "BOARD"),
}

# sys.platform of the MicroPython ports that fly, when the port alone names the board
_PORT_BOARDS = {"rp2": "rp2040-flight", "samd": "samd51-pycubed"}

# interpreters that are no flight hardware and fly the simulated board: the WebAssembly port and
# the unix port (the emulated boards); CPython (the twin) is recognised by its implementation
SIMULATED_PLATFORMS = ("webassembly", "linux", "darwin", "win32")


class UnknownBoardError(HalError):
    """This interpreter runs on hardware that no board definition describes."""


def names():
    return sorted(_DEFINITIONS)


def definition(name):
    try:
        module, attr = _DEFINITIONS[name]
    except KeyError:
        raise KeyError("unknown board %r; known: %s" % (name, ", ".join(names()))) from None
    return getattr(__import__("hal.boards." + module, None, None, (attr,)), attr)


def open_board(name, env=None):
    """Buses for the board: machine.* on hardware, simulated chips on `env` otherwise."""
    defn = definition(name)
    if env is not None or defn.get("simulated"):
        from hal.sim.board.board import SimBoard

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
        from hal.sim.board.world import SimWorld

        world = SimWorld(board=name)
        if link is not None:
            world.link = link
        return world
    from hal.boards.machine_board import MachineSystem

    return MachineSystem(defn, link)


def board_for(platform, machine="", implementation="micropython"):
    """The board definition for a `sys.platform` and `os.uname().machine` ("<board> with <MCU>").

    CPython (the twin) and the emulated boards get the simulated board; a real port that no
    definition describes raises UnknownBoardError: hardware never flies the simulator.
    """
    if implementation != "micropython" or platform in SIMULATED_PLATFORMS:
        return "sim-twin"
    name = _PORT_BOARDS.get(platform)
    parts = machine.rsplit(" with ", 1)
    mcu = parts[-1].upper().replace("-", "").replace("_", "")
    if platform == "pyboard" and parts[0].upper().startswith("PYB"):
        # the stm32 port says "pyboard" on every board; the definitions use pyboard pin names
        # (X1..., Y1...), so only the pyboards themselves (PYBv1.x, PYBLITEv1.0, PYBD-SFx) match
        name = {"STM32F4": "stm32f4-pyboard", "STM32F7": "stm32f7-pyboard"}.get(mcu[:7])
    elif platform == "esp32" and mcu.startswith("ESP32"):
        # "ESP32", "ESP32PICOD4", "ESP32D0WD": the ESP32; "ESP32C3", "ESP32C3FH4": the C3;
        # "ESP32" + S2/S3/C6/H2/P4...: chips no definition describes
        variant = mcu[5:7]
        name = "esp32c3-flight" if variant == "C3" else None if variant[1:2].isdigit() else "esp32-flight"
    if name is None:
        raise UnknownBoardError(
            "no board definition for sys.platform %r on %r (known: %s)"
            % (platform, machine, ", ".join(names()))
        )
    return name


def _machine_name():
    try:
        import os

        return os.uname().machine
    except (ImportError, AttributeError):
        pass
    import sys

    return getattr(sys.implementation, "_machine", "")


def detect():
    """The board this interpreter runs on, from sys.platform and, for ports that serve several
    chips (esp32, pyboard), the MCU in os.uname().machine. The twin and emulators: sim-twin."""
    import sys

    impl = sys.implementation.name
    if impl != "micropython" or sys.platform in SIMULATED_PLATFORMS:
        return board_for(sys.platform, "", impl)
    return board_for(sys.platform, _machine_name(), impl)
