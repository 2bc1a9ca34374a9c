"""The simulated board the twin flies: the RP2040 layout with every chip simulated."""

from hal.boards.rp2040_flight import BOARD as _RP2040

BOARD = dict(_RP2040)
BOARD["name"] = "sim-twin"
BOARD["simulated"] = True
BOARD["sun_adc"] = (26, 27, 28, 29, 30, 31)  # all six faces, for the coarse sun sensor
# switched loads on the EPS (virtual GPIOs of its I/O expander) and what each draws in the simulation
BOARD["loads"] = {"payload": 40, "heater": 41, "radio_pa": 42, "adcs": 43}
BOARD["load_watts"] = {"payload": 1.2, "heater": 3.0, "radio_pa": 0.6, "adcs": 0.4}
# the four cold-gas valves of hal.sim.board.extras.EXAMPLE_THRUSTERS: one shared ARM switch
BOARD["thrusters"] = (
    {"arm": 6, "fire": 7},
    {"arm": 6, "fire": 8},
    {"arm": 6, "fire": 0},
    {"arm": 6, "fire": 1},
)
# the emulated boards' heaps grow (WebAssembly) or are set on the command line (unix port): no budget
BOARD["heap_budget"] = None
BOARD["heap_source"] = "emulated: no fixed heap"
