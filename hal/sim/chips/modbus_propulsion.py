"""Simulated propulsion unit with its own controller on RS-485, Modbus RTU (the far end of
hal.drivers.modbus_rtu). It switches the same simulated valves as the GPIO ones
(hal.sim.chips.thruster) from its registers, so the physics and the records are theirs.

Holding registers (03 read, 06 write one, 16 write several):
  0        ARM switch: 1 closed (power to the valve drivers), 0 open
  1..N     valve i-1: 1 commanded open, 0 closed (it opens only while ARM is closed)
  16       safety limit in ms: the unit closes a valve commanded open longer (default 1000)
Input registers (04):
  0        status: bit 0 ARM closed, bit 1+i valve i open
  1        valves the unit closed on its safety limit
  2        requests answered with an exception
Exceptions: 01 function not supported, 02 address outside the map, 03 a switch value other than
0/1 or a limit outside 1..60000 ms. A frame with a bad CRC, too short or for another unit gets no
answer, as on a shared bus; unit 0 (broadcast) writes and is never answered.
"""

import struct

from hal.clock import ticks_diff
from hal.sim.buses.bus import SimPin
from hal.sim.chips.thruster import SimThrusterValve

LIMIT_REG = 16


def crc16(data):
    """CRC-16/MODBUS, bit by bit (the driver's is table-driven: an independent reference)."""
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


class SimModbusPropulsion:
    def __init__(self, clock, layout, unit=1, limit_ms=1000):
        self.clock = clock
        self.unit = unit
        self.arm_pin = SimPin("prop_arm")
        self.valve_pins = [SimPin("prop_valve%d" % i) for i in range(len(layout))]
        self.valves = [
            SimThrusterValve(self.arm_pin, pin, clock, t["thrust_n"], t["position_m"], t["direction"])
            for pin, t in zip(self.valve_pins, layout)
        ]
        self.limit_ms = limit_ms
        self._opened = [None] * len(layout)  # ticks_ms of each open command still in force
        self.safety_closes = 0
        self.exceptions = 0
        self.frames = 0
        self.ignored = 0  # bad CRC, too short or another unit's

    # --- the register map -----------------------------------------------------------------------
    def _holding(self, addr):
        if addr == 0:
            return self.arm_pin.value()
        if 1 <= addr <= len(self.valve_pins):
            return self.valve_pins[addr - 1].value()
        if addr == LIMIT_REG:
            return self.limit_ms
        return None

    def _input(self, addr):
        if addr == 0:
            bits = self.arm_pin.value()
            for i, v in enumerate(self.valves):
                bits |= (1 if v.is_open else 0) << (1 + i)
            return bits
        return {1: self.safety_closes, 2: self.exceptions}.get(addr)

    def _check_write(self, addr, value):
        """The exception code for writing `value` at `addr`, or 0."""
        if self._holding(addr) is None:
            return 2
        if addr == LIMIT_REG:
            return 0 if 1 <= value <= 60000 else 3
        return 0 if value in (0, 1) else 3

    def _write(self, addr, value):
        if addr == 0:
            self.arm_pin.value(value)
        elif addr == LIMIT_REG:
            self.limit_ms = value
        else:
            self.valve_pins[addr - 1].value(value)
            self._opened[addr - 1] = self.clock.ticks_ms() if value else None

    def update(self):
        """The unit's own timer: close a valve held open past the safety limit."""
        now = self.clock.ticks_ms()
        for i, t in enumerate(self._opened):
            if t is not None and ticks_diff(now, t) >= self.limit_ms:
                self.valve_pins[i].value(0)
                self._opened[i] = None
                self.safety_closes += 1

    # --- Modbus RTU -----------------------------------------------------------------------------
    def receive(self, frame):
        """One request frame from the bus; returns the response frame, or None for no answer."""
        self.update()
        if len(frame) < 4 or crc16(frame[:-2]) != frame[-2] | frame[-1] << 8:
            self.ignored += 1
            return None
        unit = frame[0]
        if unit not in (0, self.unit):
            self.ignored += 1
            return None
        self.frames += 1
        pdu = self._pdu(frame[1:-2])
        if unit == 0:
            return None
        body = bytes((self.unit,)) + pdu
        c = crc16(body)
        return body + bytes((c & 0xFF, c >> 8))

    def _exception(self, fn, code):
        self.exceptions += 1
        return bytes((fn | 0x80, code))

    def _pdu(self, req):
        fn = req[0]
        if fn in (3, 4) and len(req) == 5:
            addr, count = struct.unpack(">HH", req[1:5])
            read = self._holding if fn == 3 else self._input
            values = [read(a) for a in range(addr, addr + count)] if 1 <= count <= 125 else [None]
            if None in values:
                return self._exception(fn, 2)
            return struct.pack(">BB", fn, 2 * count) + b"".join(struct.pack(">H", v) for v in values)
        if fn == 6 and len(req) == 5:
            addr, value = struct.unpack(">HH", req[1:5])
            code = self._check_write(addr, value)
            if code:
                return self._exception(fn, code)
            self._write(addr, value)
            return req
        if fn == 16 and len(req) >= 6:
            addr, count, nbytes = struct.unpack(">HHB", req[1:6])
            if not 1 <= count <= 123 or nbytes != 2 * count or len(req) != 6 + nbytes:
                return self._exception(fn, 3)
            values = struct.unpack(">%dH" % count, req[6:])
            for i, value in enumerate(values):
                code = self._check_write(addr + i, value)
                if code:
                    return self._exception(fn, code)
            for i, value in enumerate(values):
                self._write(addr + i, value)
            return req[:5]
        return self._exception(fn, 1)
