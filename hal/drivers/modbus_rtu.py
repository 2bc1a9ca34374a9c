"""Modbus RTU client for RS-485 peripherals, MicroPython-friendly.

For a peripheral with a Modbus interface on the board's RS-485 UART (the definitions' "rs485"
role). The flight application drives a propulsion unit with its own controller through it where
the board's definition has a "propulsion_unit" (flight/assembly.py): each of the unit's switches
is a `RegisterSwitch`, which the thruster valve driver (hal.drivers.thruster) drives as it drives
a GPIO. tests/hal checks the client against pymodbus as the peer.

    mb = ModbusRtuClient(uart, clock, de_pin=None, timeout_ms=200, retries=2)
    mb.read_holding_registers(unit=1, address=0, count=4)   -> list of ints
    mb.write_single_register(1, 10, 1234)
    mb.write_multiple_registers(1, 20, [1, 2, 3])
    arm = RegisterSwitch(mb, 1, 0); arm.value(1)             # holding register 0 of unit 1 := 1

With `holdoff_ms`, a unit that timed out is not asked again for that long: each request fails at
once with DeviceTimeoutError, so a dead peer costs a flight loop one timeout, not one per request.

Frames: unit | function | data | CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF, low byte
first). An exception response (function | 0x80, code) raises ModbusExceptionError with the code;
a silent or garbled peer raises DeviceTimeoutError / ModbusFrameError after the retries.
"""

import struct

from hal.clock import ticks_diff
from hal.errors import DeviceTimeoutError, HalError

READ_HOLDING = 0x03
READ_INPUT = 0x04
WRITE_SINGLE = 0x06
WRITE_MULTIPLE = 0x10

EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    6: "server device busy",
}


class ModbusExceptionError(HalError):
    def __init__(self, unit, function, code):
        super().__init__(
            "modbus unit %d function 0x%02X: exception %d (%s)"
            % (unit, function, code, EXCEPTION_NAMES.get(code, "unknown"))
        )
        self.unit = unit
        self.function = function
        self.code = code


class ModbusFrameError(HalError):
    """A response with a bad CRC, a wrong unit/function or a wrong length."""


# CRC-16/MODBUS (reflected 0xA001, init 0xFFFF) a nibble at a time: a 16-entry table, where the
# usual 256-entry one would hold about 1 KB of a board's heap
_NIBBLE = (
    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
    0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
)  # fmt: skip


def crc16_modbus(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        crc = (crc >> 4) ^ _NIBBLE[crc & 0x0F]
        crc = (crc >> 4) ^ _NIBBLE[crc & 0x0F]
    return crc


def frame(unit, pdu):
    body = bytes((unit,)) + pdu
    c = crc16_modbus(body)
    return body + bytes((c & 0xFF, c >> 8))


class ModbusRtuClient:
    def __init__(self, uart, clock, de_pin=None, timeout_ms=200, retries=2, poll_ms=2, holdoff_ms=0):
        self.uart = uart
        self.clock = clock
        self.de_pin = de_pin
        self.timeout_ms = timeout_ms
        self.retries = retries
        self.poll_ms = poll_ms
        self.holdoff_ms = holdoff_ms
        self._down_at = None  # ticks_ms of the last timeout while holding off
        self.timeouts = 0
        self.crc_errors = 0
        self.exceptions = 0
        self._rx = bytearray(260)

    def _send(self, data):
        while self.uart.any():  # drop stale bytes from an earlier, abandoned exchange
            self.uart.read()
        if self.de_pin is not None:
            self.de_pin.value(1)
        self.uart.write(data)
        if self.de_pin is not None:
            self.de_pin.value(0)

    def _receive(self, unit, function, expect_len):
        """Read one response; returns its bytes (CRC checked) or raises."""
        got = 0
        need = expect_len
        waited = 0
        buf = self._rx
        while got < need:
            n = self.uart.any()
            if n:
                chunk = self.uart.read(min(n, len(buf) - got))
                buf[got : got + len(chunk)] = chunk
                got += len(chunk)
                if got >= 2 and buf[1] == function | 0x80:
                    need = 5  # exception response: unit, function|0x80, code, CRC
                continue
            if waited >= self.timeout_ms:
                raise DeviceTimeoutError(
                    "modbus unit %d" % unit, "response (%d of %d bytes)" % (got, need), waited
                )
            self.clock.sleep_ms(self.poll_ms)
            waited += self.poll_ms
        resp = bytes(buf[:need])
        if crc16_modbus(resp[:-2]) != resp[-2] | resp[-1] << 8:
            self.crc_errors += 1
            raise ModbusFrameError("modbus unit %d: response CRC mismatch" % unit)
        if resp[0] != unit:
            raise ModbusFrameError("modbus: response from unit %d, expected %d" % (resp[0], unit))
        if resp[1] == function | 0x80:
            self.exceptions += 1
            raise ModbusExceptionError(unit, function, resp[2])
        if resp[1] != function:
            raise ModbusFrameError(
                "modbus unit %d: function 0x%02X in reply to 0x%02X" % (unit, resp[1], function)
            )
        return resp

    def _transact(self, unit, pdu, expect_len):
        if self._down_at is not None:
            since = ticks_diff(self.clock.ticks_ms(), self._down_at)
            if since < self.holdoff_ms:
                raise DeviceTimeoutError("modbus unit %d" % unit, "an answer since its last timeout", since)
            self._down_at = None
        request = frame(unit, pdu)
        for attempt in range(self.retries + 1):
            self._send(request)
            try:
                return self._receive(unit, pdu[0], expect_len)
            except (DeviceTimeoutError, ModbusFrameError) as exc:
                if isinstance(exc, DeviceTimeoutError):
                    self.timeouts += 1
                if attempt == self.retries:
                    if self.holdoff_ms and isinstance(exc, DeviceTimeoutError):
                        self._down_at = self.clock.ticks_ms()
                    raise
        return None

    def _read_registers(self, function, unit, address, count):
        if not 1 <= count <= 125 or not 0 <= address <= 0xFFFF:
            raise ValueError("modbus: read of %r registers at %r out of range" % (count, address))
        resp = self._transact(unit, struct.pack(">BHH", function, address, count), 5 + 2 * count)
        if resp[2] != 2 * count:
            raise ModbusFrameError("modbus unit %d: byte count %d for %d registers" % (unit, resp[2], count))
        return [resp[3 + 2 * i] << 8 | resp[4 + 2 * i] for i in range(count)]

    def read_holding_registers(self, unit, address, count):
        return self._read_registers(READ_HOLDING, unit, address, count)

    def read_input_registers(self, unit, address, count):
        return self._read_registers(READ_INPUT, unit, address, count)

    def write_single_register(self, unit, address, value):
        if not 0 <= value <= 0xFFFF:
            raise ValueError("modbus: register value %r out of range" % (value,))
        pdu = struct.pack(">BHH", WRITE_SINGLE, address, value)
        resp = self._transact(unit, pdu, 8)
        if resp[1:6] != pdu:
            raise ModbusFrameError("modbus unit %d: write echo mismatch" % unit)

    def write_multiple_registers(self, unit, address, values):
        n = len(values)
        if not 1 <= n <= 123:
            raise ValueError("modbus: write of %d registers out of range" % n)
        pdu = struct.pack(">BHHB", WRITE_MULTIPLE, address, n, 2 * n) + b"".join(
            struct.pack(">H", v) for v in values
        )
        resp = self._transact(unit, pdu, 8)
        if resp[2:6] != pdu[1:5]:
            raise ModbusFrameError("modbus unit %d: write-multiple reply mismatch" % unit)


class RegisterSwitch:
    """One switch of a Modbus peripheral, with machine.Pin's `value`: value(1) / value(0) writes
    its holding register (function 06), value() is the level last written. A driver written for
    GPIO drives it unchanged; a peer that does not answer raises (HalError) where a pin cannot."""

    def __init__(self, client, unit, address):
        self.client = client
        self.unit = unit
        self.address = address
        self._level = 0

    def value(self, v=None):
        if v is None:
            return self._level
        level = 1 if v else 0
        self.client.write_single_register(self.unit, self.address, level)
        self._level = level
