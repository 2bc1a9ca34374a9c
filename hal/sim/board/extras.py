"""Puts the burn wire, thruster valves and switched loads on a simulated board (board.SimBoard), so
flight code reaches them through the same pins as on hardware. The SPI chips (the radio) are the
board's own: SimBoard attaches them from its definition when it is given a clock.

    clock = VirtualClock()
    board = SimBoard(definition("sim-twin"), None, clock, RadioMedium(clock))
    wire = add_burnwire(board, clock)                # at defn["burnwire"]; board.pin(switch) is live
    valves = add_thrusters(board, clock, THRUSTERS)  # torque lands in board.env.thruster_torque
    unit = add_propulsion_unit(board, clock)         # or behind defn["propulsion_unit"] (Modbus)
    pins = add_loads(board)                          # defn["loads"] draw from the battery when on

The twin advances `clock` together with the environment and calls `medium.update()` each step.
"""

from hal.sim.buses.device_uart import DeviceUART
from hal.sim.chips.burnwire import SimBurnWire
from hal.sim.chips.modbus_propulsion import SimModbusPropulsion
from hal.sim.chips.thruster import SimThrusterValve, ThrusterCluster

# An example layout: four 10 mN cold-gas nozzles on the -Z face, 5 cm off axis, firing along +Z
# in pairs gives +-X and +-Y torques (pins are free GPIOs of the RP2040 flight board).
EXAMPLE_THRUSTERS = (
    {"arm": 6, "fire": 7, "thrust_n": 0.01, "position_m": (0.05, 0.0, -0.15), "direction": (0.0, 0.0, 1.0)},
    {"arm": 6, "fire": 8, "thrust_n": 0.01, "position_m": (-0.05, 0.0, -0.15), "direction": (0.0, 0.0, 1.0)},
    {"arm": 6, "fire": 0, "thrust_n": 0.01, "position_m": (0.0, 0.05, -0.15), "direction": (0.0, 0.0, 1.0)},
    {"arm": 6, "fire": 1, "thrust_n": 0.01, "position_m": (0.0, -0.05, -0.15), "direction": (0.0, 0.0, 1.0)},
)


def add_burnwire(board, clock, melt_ms=2500):
    dev = board.defn["burnwire"]
    wire = SimBurnWire(
        board.pin(dev["enable"]), board.pin(dev["fire"]), clock, melt_ms, sense_id=dev["switch"]
    )
    board.live_pin(wire.sense_pin)
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


def add_propulsion_unit(board, clock, layout=EXAMPLE_THRUSTERS):
    """The definition's "propulsion_unit" on its RS-485 UART (board.uart): `layout`'s valves behind
    a controller that speaks Modbus RTU; their torque lands in board.env.thruster_torque. The
    owner calls the unit's update() as time passes (its safety limit)."""
    spec = board.defn["propulsion_unit"]
    unit = SimModbusPropulsion(clock, layout, spec["unit"])
    baud = board.defn["uart"][spec["uart"]]["baud"]
    board.attach_uart(spec["uart"], DeviceUART(unit, clock, baud, board.faults))
    board.chips["propulsion_unit"] = unit
    board.thrusters = ThrusterCluster(unit.valves, board.env)
    return unit


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
