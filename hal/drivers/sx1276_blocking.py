"""The SX1276 driver with bounded blocking `send` and `recv`, for ground tools, benches and tests.

A flight never blocks on its radio: it polls the driver (hal/drivers/sx1276.py) from its tasks,
so boards do not load this module and its code costs them no heap.

    radio = BlockingSX1276(spi, cs, reset=reset_pin, clock=clock, sf=7)
    radio.send(frame)                      # returns on TxDone; DeviceTimeoutError past the budget
    data = radio.recv(timeout_ms=500)      # bytes of the next good packet, or None
"""

from hal.clock import ticks_diff
from hal.drivers.sx1276 import SX1276, TX_MARGIN_MS
from hal.errors import DeviceTimeoutError


class BlockingSX1276(SX1276):
    def send(self, data, timeout_ms=None):
        """Transmit and wait for TxDone, up to time on air + twice the driver's margin."""
        self.start_send(data)
        if timeout_ms is None:
            timeout_ms = self.time_on_air_us(len(data)) // 1000 + 2 * TX_MARGIN_MS
        step = max(1, self.time_on_air_us(len(data)) // 20000)
        start = self.clock.ticks_ms()
        while ticks_diff(self.clock.ticks_ms(), start) <= timeout_ms:
            event = self.poll()
            if event == SX1276.TX_DONE:
                return
            if event == SX1276.TX_TIMEOUT:
                break
            self.clock.sleep_ms(step)
        raise DeviceTimeoutError("SX1276", "TxDone", timeout_ms)

    def recv(self, timeout_ms, step_ms=5):
        """Wait up to timeout_ms for a good packet; returns bytes or None."""
        if self.busy() or not self.listening:  # not in continuous RX: enter it
            self.start_receive()
        start = self.clock.ticks_ms()
        while ticks_diff(self.clock.ticks_ms(), start) <= timeout_ms:
            if self.poll() == SX1276.RX_DONE:
                return bytes(self.packet())
            self.clock.sleep_ms(step_ms)
        return None
