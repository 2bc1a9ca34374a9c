"""Puts the SPI radio, the burn wire and thruster valves on a simulated board (hal.sim.board.SimBoard)
from its definition, so flight code reaches them through the same pins and buses as on hardware.

    board = boards.open_board("sim-twin")
    clock = VirtualClock()
    medium = RadioMedium(clock)
    spi = add_radio(board, clock, medium)            # SimSX1276 at defn["spi"][0]["devices"]["sx1276"]
    wire = add_burnwire(board, clock)                # at defn["burnwire"]; board.pin(switch) is live
    valves = add_thrusters(board, clock, THRUSTERS)  # torque lands in board.env.thruster_torque

The twin advances `clock` together with the environment and calls `medium.update()` each step.
"""

from hal.sim.chips.burnwire import SimBurnWire
from hal.sim.chips.sx1276 import SimSX1276
from hal.sim.chips.thruster import SimThrusterValve, ThrusterCluster
from hal.sim.spi import SimSPI

# An example layout: four 10 mN cold-gas nozzles on the -Z face, 5 cm off axis, firing along +Z
# in pairs gives +-X and +-Y torques (pins are free GPIOs of the RP2040 flight board).
EXAMPLE_THRUSTERS = (
    {"arm": 6, "fire": 7, "thrust_n": 0.01, "position_m": (0.05, 0.0, -0.15), "direction": (0.0, 0.0, 1.0)},
    {"arm": 6, "fire": 8, "thrust_n": 0.01, "position_m": (-0.05, 0.0, -0.15), "direction": (0.0, 0.0, 1.0)},
    {"arm": 6, "fire": 0, "thrust_n": 0.01, "position_m": (0.0, 0.05, -0.15), "direction": (0.0, 0.0, 1.0)},
    {"arm": 6, "fire": 1, "thrust_n": 0.01, "position_m": (0.0, -0.05, -0.15), "direction": (0.0, 0.0, 1.0)},
)


def _register_pin(board, pin):
    """Make board.pin(id) return `pin` (a live input the simulation drives)."""
    pins = getattr(board, "_pins", None)
    if pins is not None:
        pins[pin.id] = pin


def add_radio(board, clock, medium=None, bus_id=0, name="sx1276"):
    """A SimSX1276 wired as the definition says; returns the SimSPI for board.spi(bus_id), or None
    on a board without one (the ESP32-C3 definition has no radio)."""
    dev = board.defn.get("spi", {}).get(bus_id, {}).get("devices", {}).get("sx1276")
    if dev is None:
        return None
    spis = getattr(board, "sim_spi", None)
    if spis is None:
        spis = board.sim_spi = {}
    spi = spis.get(bus_id)
    if spi is None:
        spi = spis[bus_id] = SimSPI(board.faults)
    chip = SimSX1276(clock, medium, board.pin(dev["reset"]), None, name)
    chip.dio0.id = dev["dio0"]
    _register_pin(board, chip.dio0)
    spi.attach(board.pin(dev["cs"]), chip)
    board.chips[name] = chip
    return spi


def add_burnwire(board, clock, melt_ms=2500):
    dev = board.defn["burnwire"]
    wire = SimBurnWire(
        board.pin(dev["enable"]), board.pin(dev["fire"]), clock, melt_ms, sense_id=dev["switch"]
    )
    _register_pin(board, wire.sense_pin)
    board.chips["burnwire"] = wire
    return wire


def add_thrusters(board, clock, layout=EXAMPLE_THRUSTERS):
    valves = []
    for t in layout:
        valves.append(
            SimThrusterValve(
                board.pin(t["arm"]),
                board.pin(t["fire"]),
                clock,
                t["thrust_n"],
                t["position_m"],
                t["direction"],
            )
        )
    board.thrusters = ThrusterCluster(valves, board.env)
    return valves


def add_loads(board, loads=None):
    """Switched loads from defn["loads"] ({name: pin}) drawing defn["load_watts"][name] when on;
    the "heater" warms the payload node. Returns {name: pin}."""
    defn = board.defn
    loads = loads if loads is not None else defn.get("loads", {})
    watts = defn.get("load_watts", {})
    pins = {}
    for name, pin_id in loads.items():
        pin = board.pin(pin_id)
        pins[name] = pin
        board.env.switched.append((pin, watts.get(name, 0.0), name == "heater"))
    return pins
