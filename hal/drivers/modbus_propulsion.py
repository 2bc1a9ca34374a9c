"""A propulsion unit with its own controller on the RS-485 UART, Modbus RTU (hal.drivers.modbus_rtu):
its register map, and its ARM switch and valves as switches the thruster valve driver drives.

    unit = ModbusPropulsion(uart, clock, de_pin, unit=1, valves=4)
    for arm, fire in unit.switches(): ThrusterValve(arm, fire, clock, ...)
    unit.status()          # bit 0 ARM closed, bit 1+i valve i open
    unit.set_limit_ms(500) # the unit closes a valve held open longer, whatever the flight does

Holding registers: ARM at 0, valve i at 1+i (1 open, 0 closed), the unit's safety limit in ms at
16. Input registers: status at 0, the valves the unit closed on its limit at 1. (The simulated unit,
hal/sim/chips/modbus_propulsion.py, answers the same map.) A silent unit costs a caller two 20 ms
attempts, then fails at once for a second (the client's holdoff).
"""

from hal.drivers.modbus_rtu import ModbusRtuClient, RegisterSwitch

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

_ARM = const(0)
_VALVE_0 = const(1)
_LIMIT = const(16)
_STATUS = const(0)


class ModbusPropulsion:
    def __init__(self, uart, clock, de_pin=None, unit=1, valves=4):
        self.bus = ModbusRtuClient(uart, clock, de_pin, timeout_ms=20, retries=1, holdoff_ms=1000)
        self.unit = unit
        self.valves = valves

    def switches(self):
        """(ARM, valve i) switch pairs, one per valve: the ARM switch is one, shared."""
        arm = RegisterSwitch(self.bus, self.unit, _ARM)
        return [(arm, RegisterSwitch(self.bus, self.unit, _VALVE_0 + i)) for i in range(self.valves)]

    def status(self):
        return self.bus.read_input_registers(self.unit, _STATUS, 1)[0]

    def set_limit_ms(self, ms):
        self.bus.write_single_register(self.unit, _LIMIT, ms)
