"""The twin's board with its thrusters behind a propulsion unit that has its own controller: the
flight switches the valves through the unit's registers, Modbus RTU on the RS-485 UART
(hal.drivers.modbus_rtu), where the sim-twin switches them by GPIO. The simulated unit is
hal/sim/chips/modbus_propulsion.py, with the same four valves."""

from hal.boards.sim_twin import BOARD as _TWIN

BOARD = dict(_TWIN)
BOARD["name"] = "sim-modbus-prop"
del BOARD["thrusters"]
# the UART (its "rs485" entry: baud, DE pin), the unit's address on the bus, the valves it switches
BOARD["propulsion_unit"] = {"uart": 1, "unit": 1, "valves": 4}
