"""The simulated board the twin flies: the RP2040 layout with every chip simulated."""

from hal.boards.rp2040_flight import BOARD as _RP2040

BOARD = dict(_RP2040)
BOARD["name"] = "sim-twin"
BOARD["simulated"] = True
BOARD["sun_adc"] = (26, 27, 28, 29, 30, 31)  # all six faces, for the coarse sun sensor
