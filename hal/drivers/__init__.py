"""Register-level chip drivers (MicroPython style: const register maps, preallocated buffers, SI units)."""

# Register access shared by the drivers (`from hal import drivers as _reg`;
# `_reg.read_u8(i2c, addr, reg)`, `_reg.spi_read_u8(spi, cs, command)`): Adafruit's register idea,
# MicroPython-sized. Functions of this
# package, not an object per driver nor a module of their own: the package loads with any driver
# anyway, so they cost a board no module, and they replace each driver's own _read/_write and
# scratch buffer (`cubesat heap`, 2026-12-01: the RP2040 needs 112 B less than with per-driver
# helpers; a separate hal/drivers/registers.py cost 370-560 B more). One- and two-byte transfers
# go through the scratch buffers below, shared by every driver: nothing allocates per access, an
# access completes before the next begins (drivers are not called from interrupts) and the value
# leaves the buffer before the function returns. Bursts read straight into the driver's own
# preallocated buffer with the bus's readfrom_mem_into; there is no read-modify-write helper
# because no driver needs one (read_into + update_bits measured 160-190 B). OSError propagates.

_B1 = bytearray(1)
_B2 = bytearray(2)


def read_u8(i2c, addr, reg):
    i2c.readfrom_mem_into(addr, reg, _B1)
    return _B1[0]


def write_u8(i2c, addr, reg, value):
    _B1[0] = value
    i2c.writeto_mem(addr, reg, _B1)


def read_u16(i2c, addr, reg):
    """A 16-bit big-endian register (TI parts)."""
    i2c.readfrom_mem_into(addr, reg, _B2)
    return _B2[0] << 8 | _B2[1]


def write_u16(i2c, addr, reg, value):
    _B2[0] = value >> 8
    _B2[1] = value & 0xFF
    i2c.writeto_mem(addr, reg, _B2)


# SPI: a command byte (the register address with the chip's read/write bit: SX127x sets bit 7 to
# write) then the data, chip select held low for the whole access (single or burst access).


def spi_read_u8(spi, cs, command):
    _B1[0] = command
    cs.value(0)
    try:
        spi.write(_B1)
        spi.readinto(_B1)
    finally:
        cs.value(1)
    return _B1[0]


def spi_write_u8(spi, cs, command, value):
    _B2[0] = command
    _B2[1] = value
    cs.value(0)
    try:
        spi.write(_B2)
    finally:
        cs.value(1)


def spi_burst(spi, cs, command, buf, write):
    """`command`, then all of `buf` written (`write`) or read into it."""
    _B1[0] = command
    cs.value(0)
    try:
        spi.write(_B1)
        if write:
            spi.write(buf)
        else:
            spi.readinto(buf)
    finally:
        cs.value(1)
