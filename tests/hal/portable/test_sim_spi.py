"""SimSPI: machine.SPI semantics (write/read/readinto/write_readinto), routing by chip select,
floating MISO, and the injected faults."""

from _check import raises

from hal.sim.buses.bus import ETIMEDOUT, Fault, FaultSet, SimPin
from hal.sim.buses.spi import SimSPI


class EchoChip:
    """Answers each byte with the previous one + 1; records selects and traffic."""

    def __init__(self):
        self.selects = 0
        self.deselects = 0
        self.seen = bytearray()
        self._last = 0

    def select(self):
        self.selects += 1

    def deselect(self):
        self.deselects += 1

    def exchange(self, byte):
        self.seen.append(byte)
        out = (self._last + 1) & 0xFF
        self._last = byte
        return out


def _bus():
    faults = FaultSet()
    spi = SimSPI(faults)
    chips = []
    pins = []
    for name in ("cs0", "cs1"):
        pin = SimPin(name, SimPin.OUT, 1)
        chip = EchoChip()
        spi.attach(pin, chip)
        chips.append(chip)
        pins.append(pin)
    return spi, faults, chips, pins


def test_only_the_selected_chip_sees_the_bytes():
    spi, _f, chips, pins = _bus()
    pins[1].value(0)
    buf = bytearray(3)
    spi.write_readinto(b"\x10\x20\x30", buf)
    pins[1].value(1)
    assert bytes(chips[1].seen) == b"\x10\x20\x30" and chips[0].seen == bytearray()
    assert bytes(buf) == b"\x01\x11\x21"
    assert (chips[1].selects, chips[1].deselects) == (1, 1) and chips[0].selects == 0


def test_read_sends_the_fill_byte_and_readinto_fills_the_buffer():
    spi, _f, chips, pins = _bus()
    pins[0].value(0)
    assert spi.read(2, 0xAA) == b"\x01\xab"
    buf = bytearray(2)
    spi.readinto(buf)
    pins[0].value(1)
    assert bytes(chips[0].seen) == b"\xaa\xaa\x00\x00" and bytes(buf) == b"\xab\x01"


def test_nothing_selected_reads_ff_and_lengths_must_match():
    spi, _f, chips, _pins = _bus()
    assert spi.read(3) == b"\xff\xff\xff"
    assert chips[0].seen == bytearray() and chips[1].seen == bytearray()
    raises(ValueError, spi.write_readinto, b"\x00\x00", bytearray(3))


def test_faults_absent_stuck_bitflip_timeout():
    spi, faults, chips, pins = _bus()
    pins[0].value(0)
    faults.inject("cs0", Fault(Fault.NACK, count=1))
    assert spi.read(2) == b"\xff\xff" and chips[0].seen == bytearray()  # absent: chip never clocked
    faults.inject("cs0", Fault(Fault.STUCK, value=0x5A, count=1))
    assert spi.read(2) == b"\x5a\x5a"
    faults.inject("cs0", Fault(Fault.BITFLIP, probability=1.0, count=1))
    got = spi.read(2)
    # the chip answered 0x01 then 0x01; each byte arrives with exactly one bit flipped
    assert [bin(b ^ 0x01).count("1") for b in got] == [1, 1]
    faults.inject("cs0", Fault(Fault.TIMEOUT, count=1))
    exc = raises(OSError, spi.read, 1)
    assert exc.args[0] == ETIMEDOUT
    assert spi.read(1) == b"\x01"  # transient faults are gone
    pins[0].value(1)
