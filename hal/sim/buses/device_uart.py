"""A UART with a simulated device on its far end (an RS-485 peripheral behind a transceiver).

What the flight writes reaches the device as one message; the device's answer becomes readable
once the request and the answer have crossed the wire at the line's baud rate (10 bits a byte)
and the device has turned around, in the simulated clock's time. So a client that waits with
`clock.sleep_ms` sees the delays of the real line. Faults (FaultSet, key "rs485"): DROP loses
the request (the device hears nothing), BITFLIP/NOISE/STUCK corrupt it on the wire.

    uart = DeviceUART(unit, clock, baud=115200, faults=board.faults)
    uart.write(request); ...; uart.any(); uart.read(n)      # machine.UART semantics
"""

from hal.clock import ticks_add, ticks_diff
from hal.sim.buses.bus import Fault, SimUART

FAULT_KEY = "rs485"


class DeviceUART(SimUART):
    def __init__(self, device, clock, baud=115200, faults=None, turnaround_us=500):
        super().__init__(faults=faults, key=FAULT_KEY)
        self.device = device
        self.clock = clock
        self.baud = baud
        self.turnaround_us = turnaround_us
        self._pending = b""  # the device's answer, readable from _due on
        self._due = 0

    def _arrive(self):
        if self._pending and ticks_diff(self.clock.ticks_us(), self._due) >= 0:
            self._rx += self._pending
            self._pending = b""

    def any(self):
        self._arrive()
        return super().any()

    def read(self, n=-1):
        self._arrive()
        return super().read(n)

    def readinto(self, buf, n=-1):
        self._arrive()
        return super().readinto(buf, n)

    def write(self, buf):
        fault = self.faults.active(FAULT_KEY) if self.faults is not None else None
        if fault is not None and fault.kind == Fault.DROP:
            return len(buf)
        data = bytearray(buf)
        if fault is not None:
            self.faults.corrupt(fault, data)
        reply = self.device.receive(bytes(data))
        if reply:
            wire_us = (len(data) + len(reply)) * 10 * 1000000 // self.baud
            self._pending = reply
            self._due = ticks_add(self.clock.ticks_us(), wire_us + self.turnaround_us)
        return len(buf)
