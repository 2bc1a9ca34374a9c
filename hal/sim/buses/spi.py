"""Simulated SPI bus with MicroPython's `machine.SPI` API; chips are selected by their CS pin.

    spi = SimSPI(faults)
    cs = SimPin("cs_radio", SimPin.OUT, 1)
    spi.attach(cs, radio_chip)         # CS falling -> chip.select(), rising -> chip.deselect()
    cs(0); spi.write(b"\\x42"); spi.readinto(buf); cs(1)

A chip implements `select()`, `exchange(byte) -> byte` (one full-duplex byte while selected)
and `deselect()`. With no chip selected MISO floats high and reads 0xFF, as on a board with
the pull-up most SPI flash/radio boards carry; an absent chip therefore reads 0xFF too.

Faults are keyed by the CS pin id (FaultSet from hal.sim.buses.bus): `nack` makes the chip absent
(MISO reads 0xFF, writes are lost), `timeout` raises OSError(ETIMEDOUT) (a DMA transfer that
never completes), `stuck` holds MISO at `value`, `bitflip` flips received bits.
"""

from hal.sim.buses.bus import ETIMEDOUT, Fault, FaultSet


class SimSPI:
    """machine.SPI look-alike: write, read, readinto, write_readinto, init, deinit."""

    MSB = 0
    LSB = 1

    def __init__(self, faults=None, baudrate=1000000, polarity=0, phase=0):
        self.faults = faults if faults is not None else FaultSet()
        self.baudrate = baudrate
        self.polarity = polarity
        self.phase = phase
        self._chips = []  # (cs_pin, chip)
        self.bytes_transferred = 0

    def init(self, baudrate=None, polarity=None, phase=None, **kwargs):
        if baudrate is not None:
            self.baudrate = baudrate
        if polarity is not None:
            self.polarity = polarity
        if phase is not None:
            self.phase = phase

    def deinit(self):
        pass

    def attach(self, cs_pin, chip):
        """Connect a chip whose chip-select is `cs_pin` (a SimPin, active low)."""
        self._chips.append((cs_pin, chip))

        def on_cs(pin, level):
            if level:
                chip.deselect()
            else:
                chip.select()

        cs_pin.listeners.append(on_cs)
        if not cs_pin.value():
            chip.select()

    def _selected(self):
        for cs_pin, chip in self._chips:
            if not cs_pin.value():
                return cs_pin, chip
        return None, None

    def _transfer(self, out, into):
        """Clock bytes out (a buffer, or one int repeated while reading into `into`)."""
        cs_pin, chip = self._selected()
        fault = None
        if cs_pin is not None:
            fault = self.faults.active(cs_pin.id)
            if fault is not None and fault.kind == Fault.TIMEOUT:
                raise OSError(ETIMEDOUT)
            if fault is not None and fault.kind == Fault.NACK:
                chip = None
        fill = out if isinstance(out, int) else -1
        n = len(out) if into is None else len(into)
        for i in range(n):
            b = fill if fill >= 0 else out[i]
            miso = chip.exchange(b) & 0xFF if chip is not None else 0xFF
            if into is not None:
                into[i] = miso
        self.bytes_transferred += n
        if into is not None and fault is not None and fault.kind in (Fault.STUCK, Fault.BITFLIP):
            self.faults.corrupt(fault, into)

    def write(self, buf):
        self._transfer(buf, None)

    def readinto(self, buf, write=0x00):
        self._transfer(write, buf)

    def read(self, nbytes, write=0x00):
        buf = bytearray(nbytes)
        self._transfer(write, buf)
        return bytes(buf)

    def write_readinto(self, write_buf, read_buf):
        if len(write_buf) != len(read_buf):
            raise ValueError("buffers must be the same length")
        self._transfer(write_buf, read_buf)
