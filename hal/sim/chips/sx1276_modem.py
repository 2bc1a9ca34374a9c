"""LoRa modem arithmetic of the simulated SX1276 (hal/sim/chips/sx1276.py), from the register file
as the driver programmed it: carrier frequency, RSSI offset, channel, symbol time, time on air and
the RxSingle window. Functions of `regs` (the chip's 128-byte register bytearray): the numbers
depend on nothing else, so the chip module stays the SPI and state-machine model.
"""

try:
    from micropython import const
except ImportError:  # CPython: a board never loads this
    from protocols._const import const

# registers and fields, datasheet section 6.4 (as hal.drivers.sx1276 names them)
_REG_FRF_MSB = const(0x06)
_REG_FRF_MID = const(0x07)
_REG_FRF_LSB = const(0x08)
_REG_MODEM_CONFIG1 = const(0x1D)
_REG_MODEM_CONFIG2 = const(0x1E)
_REG_SYMB_TIMEOUT_LSB = const(0x1F)
_REG_PREAMBLE_MSB = const(0x20)
_REG_PREAMBLE_LSB = const(0x21)
_REG_MODEM_CONFIG3 = const(0x26)
_REG_SYNC_WORD = const(0x39)
_BW_SHIFT = const(4)  # RegModemConfig1 Bw[3:0]
_CR_SHIFT = const(1)  # RegModemConfig1 CodingRate[2:0]
_CR_MASK = const(0x07)
_IMPLICIT_HEADER = const(0x01)  # RegModemConfig1 ImplicitHeaderModeOn
_SF_SHIFT = const(4)  # RegModemConfig2 SpreadingFactor[3:0]
_CRC_ON = const(0x04)  # RegModemConfig2 RxPayloadCrcOn
_SYMB_TIMEOUT_MSB = const(0x03)  # RegModemConfig2 SymbTimeout[9:8]
_LOW_DATA_RATE_OPTIMIZE = const(0x08)  # RegModemConfig3

_BW_HZ = (7800, 10400, 15600, 20800, 31250, 41700, 62500, 125000, 250000, 500000)


def _frf(regs):
    return (regs[_REG_FRF_MSB] << 16) | (regs[_REG_FRF_MID] << 8) | regs[_REG_FRF_LSB]


def channel(regs):
    """(Frf, SF, BW code, sync word): radios hear each other only when all four match."""
    return (
        _frf(regs),
        regs[_REG_MODEM_CONFIG2] >> _SF_SHIFT,
        regs[_REG_MODEM_CONFIG1] >> _BW_SHIFT,
        regs[_REG_SYNC_WORD],
    )


def crc_on(regs):
    return bool(regs[_REG_MODEM_CONFIG2] & _CRC_ON)


def frequency_hz(regs):
    return _frf(regs) * 32e6 / 524288


def rssi_offset(regs):
    """Section 5.5.5: RSSI (dBm) = offset + register, -157 on the HF port, -164 below 525 MHz."""
    return -164 if frequency_hz(regs) < 525e6 else -157


def symbol_us(regs):
    sf = regs[_REG_MODEM_CONFIG2] >> _SF_SHIFT
    code = regs[_REG_MODEM_CONFIG1] >> _BW_SHIFT
    bw = _BW_HZ[code] if code < len(_BW_HZ) else 125000
    return (1 << sf) * 1e6 / bw


def rx_single_us(regs):
    """RxSingle gives up after RegSymbTimeout (10 bits) symbols."""
    symbols = ((regs[_REG_MODEM_CONFIG2] & _SYMB_TIMEOUT_MSB) << 8) | regs[_REG_SYMB_TIMEOUT_LSB]
    return int(symbols * symbol_us(regs))


def time_on_air_us(regs, n):
    """Datasheet section 4.1.1.7, for an n-byte payload."""
    sf = regs[_REG_MODEM_CONFIG2] >> _SF_SHIFT
    cr = (regs[_REG_MODEM_CONFIG1] >> _CR_SHIFT) & _CR_MASK
    implicit = regs[_REG_MODEM_CONFIG1] & _IMPLICIT_HEADER
    crc = 1 if crc_on(regs) else 0
    de = 1 if regs[_REG_MODEM_CONFIG3] & _LOW_DATA_RATE_OPTIMIZE else 0
    preamble = (regs[_REG_PREAMBLE_MSB] << 8) | regs[_REG_PREAMBLE_LSB]
    num = 8 * n - 4 * sf + 28 + 16 * crc - 20 * implicit
    den = 4 * (sf - 2 * de)
    extra = max(-(-num // den) * (cr + 4), 0)
    symbols = preamble + 4.25 + 8 + extra
    return int(symbols * symbol_us(regs) + 0.5)
