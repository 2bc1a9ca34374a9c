"""Semtech SX1276 LoRa radio on SPI (also HopeRF RFM95/96/98 modules), explicit header + CRC.

    radio = SX1276(spi, cs_pin, reset=reset_pin, clock=clock, dio0=dio0_pin, frequency_hz=437200000, sf=9)
    radio.start_receive()                  # continuous RX, returns at once
    event = radio.poll()                   # call every tick: NONE, TX_DONE, RX_DONE, ...
    if event == SX1276.RX_DONE:
        handle(radio.packet(), radio.rssi_dbm, radio.snr_db)   # memoryview into a fixed buffer
    radio.start_send(frame)                # non-blocking; TX_DONE (or TX_TIMEOUT) comes from poll()

(Blocking `send`/`recv` for ground tools and tests: hal/drivers/sx1276_blocking.py.)

Register map and formulas: SX1276/77/78/79 datasheet rev. 7, section 4.1 (LoRa modem) and 6.4.
Nothing waits without a bound: a TX that has not raised TxDone by time-on-air + margin counts
as a hung modem, is reported as TX_TIMEOUT and the chip is reset and reconfigured;
`health_check()` catches the silent failure where the chip lost its configuration (brown-out,
upset) or left RX, which otherwise looks like a quiet channel.
"""

try:
    from micropython import const
except ImportError:  # CPython: a board never loads this
    from protocols._const import const

from hal import drivers as _reg
from hal.clock import ticks_add, ticks_diff
from hal.errors import ConfigError, DeviceNotFoundError

_REG_FIFO = const(0x00)
_REG_OP_MODE = const(0x01)
_REG_FRF_MSB = const(0x06)
_REG_FRF_MID = const(0x07)
_REG_FRF_LSB = const(0x08)
_REG_PA_CONFIG = const(0x09)
_REG_OCP = const(0x0B)
_REG_LNA = const(0x0C)
_REG_FIFO_ADDR_PTR = const(0x0D)
_REG_FIFO_TX_BASE = const(0x0E)
_REG_FIFO_RX_BASE = const(0x0F)
_REG_FIFO_RX_CURRENT = const(0x10)
_REG_IRQ_FLAGS_MASK = const(0x11)
_REG_IRQ_FLAGS = const(0x12)
_REG_RX_NB_BYTES = const(0x13)
_REG_RX_PACKET_CNT_MSB = const(0x16)
_REG_MODEM_STAT = const(0x18)
_REG_PKT_SNR = const(0x19)
_REG_PKT_RSSI = const(0x1A)
_REG_MODEM_CONFIG1 = const(0x1D)
_REG_MODEM_CONFIG2 = const(0x1E)
_REG_PREAMBLE_MSB = const(0x20)
_REG_PREAMBLE_LSB = const(0x21)
_REG_PAYLOAD_LENGTH = const(0x22)
_REG_MODEM_CONFIG3 = const(0x26)
_REG_SYNC_WORD = const(0x39)
_REG_DIO_MAPPING1 = const(0x40)
_REG_VERSION = const(0x42)
_REG_PA_DAC = const(0x4D)

_VERSION = const(0x12)
_WRITE = const(0x80)  # address MSB: 1 write, 0 read
# RegOpMode: LongRangeMode - - - LowFrequencyModeOn Mode[2:0]
_LONG_RANGE = const(0x80)
_LOW_FREQ = const(0x08)
_MODE_MASK = const(0x07)
_MODE_SLEEP = const(0)
_MODE_STDBY = const(1)
_MODE_TX = const(3)
_MODE_RX_CONTINUOUS = const(5)
# RegPaConfig: PaSelect MaxPower[2:0] OutputPower[3:0]; RegPaDac: PaDac[2:0] in bits 2:0
_PA_SELECT_BOOST = const(0x80)
_MAX_POWER_7 = const(0x70)
_PA_DAC_DEFAULT = const(0x84)
_PA_DAC_20DBM = const(0x87)  # +20 dBm on PA_BOOST
# RegOcp: OcpOn OcpTrim[4:0]; RegLna: LnaGain[2:0] - LnaBoostLf[1:0] - LnaBoostHf[1:0]
_OCP_ON = const(0x20)
_OCP_TRIM_140MA = const(17)  # Imax = -30 + 10 * OcpTrim mA
_LNA_G1 = const(0x20)  # maximum gain
_LNA_BOOST_HF = const(0x03)  # 150% LNA current, HF port only
# RegModemConfig1: Bw[3:0] CodingRate[2:0] ImplicitHeaderModeOn
_BW_SHIFT = const(4)
_CR_SHIFT = const(1)  # CodingRate
# RegModemConfig2: SpreadingFactor[3:0] TxContinuousMode RxPayloadCrcOn SymbTimeout[9:8]
_SF_SHIFT = const(4)
_CRC_ON = const(0x04)  # RxPayloadCrcOn
# RegModemConfig3: - - - - LowDataRateOptimize AgcAutoOn - -
_LOW_DATA_RATE_OPTIMIZE = const(0x08)
_AGC_AUTO_ON = const(0x04)

_IRQ_RX_DONE = const(0x40)
_IRQ_CRC_ERROR = const(0x20)
_IRQ_TX_DONE = const(0x08)
_IRQ_ALL = const(0xFF)
_STAT_SIGNAL_DETECTED = const(0x01)  # RegModemStat bit 0
_STAT_RX_ONGOING = const(0x04)  # RegModemStat bit 2
_DIO0_RX_DONE = const(0x00)  # RegDioMapping1 Dio0Mapping[1:0] in bits 7:6
_DIO0_TX_DONE = const(0x40)

_HF_RSSI_OFFSET = const(-157)  # section 5.5.5, high-frequency port
_LF_RSSI_OFFSET = const(-164)
_LF_LIMIT_HZ = const(525000000)
_RESET_LOW_MS = const(1)  # datasheet 7.2.2: > 100 us low
_RESET_READY_MS = const(10)  # then 5 ms before the chip is ready
TX_MARGIN_MS = const(50)  # beyond the time on air, before a TX counts as hung
_IDLE = const(0)  # driver states (self._state)
_TX = const(1)
_RX = const(2)

# bandwidth in Hz -> RegModemConfig1 Bw code (register map, RegModemConfig1 bits 7-4)
_BW_CODES = {
    7800: 0,
    10400: 1,
    15600: 2,
    20800: 3,
    31250: 4,
    41700: 5,
    62500: 6,
    125000: 7,
    250000: 8,
    500000: 9,
}


def time_on_air_us(payload_len, sf, bw_hz, cr=5, preamble=8, crc=True, explicit_header=True):
    """Packet duration in microseconds (datasheet 4.1.1.6-4.1.1.7); LowDataRateOptimize is on
    when a symbol lasts more than 16 ms, as the datasheet requires."""
    t_sym = (1 << sf) * 1000000 / bw_hz
    de = 1 if _long_symbols(sf, bw_hz) else 0
    num = 8 * payload_len - 4 * sf + 28 + (16 if crc else 0) - (0 if explicit_header else 20)
    den = 4 * (sf - 2 * de)
    extra = -(-num // den) * cr  # ceil, times (CR + 4) with cr given as 5..8
    if extra < 0:
        extra = 0
    return int((preamble + 4.25 + 8 + extra) * t_sym + 0.5)


def _long_symbols(sf, bw_hz):
    """Symbol time 2^SF / BW above 16 ms: LowDataRateOptimize is mandatory (small ints only)."""
    return (1 << sf) * 1000 > 16 * bw_hz


def frf_from_hz(freq_hz):
    """RegFrf = f * 2^19 / 32 MHz = f * 256 / 15625, rounded, in small-int arithmetic."""
    whole, rest = divmod(freq_hz, 15625)
    return whole * 256 + (rest * 256 + 7812) // 15625


class SX1276:
    """A LoRa modem driven through poll(); `send`/`recv` are bounded blocking helpers."""

    # fault counters as class defaults: an instance holds only those that ever counted (heap)
    crc_errors = 0
    rx_missed = 0  # packets overwritten in the FIFO before poll() could take them
    tx_timeouts = 0
    recoveries = 0

    NONE = 0
    TX_DONE = 1
    RX_DONE = 2
    RX_CRC_ERROR = 3
    TX_TIMEOUT = 4

    def __init__(
        self,
        spi,
        cs,
        reset=None,
        clock=None,
        dio0=None,
        frequency_hz=437000000,
        sf=9,
        bw_hz=125000,
        cr=5,
        tx_power_dbm=14,
        preamble=8,
        crc=True,
        sync_word=0x12,
        rx_silence_ms=None,
    ):
        if not 137000000 <= frequency_hz <= 1020000000:
            raise ConfigError("SX1276 frequency must be 137-1020 MHz, got %d Hz" % frequency_hz)
        if not 7 <= sf <= 12:
            raise ConfigError("SX1276 spreading factor must be 7..12 in explicit-header mode, got %r" % (sf,))
        if bw_hz not in _BW_CODES:
            raise ConfigError("SX1276 bandwidth must be one of %s Hz, got %r" % (sorted(_BW_CODES), bw_hz))
        if not 5 <= cr <= 8:
            raise ConfigError("SX1276 coding rate must be 5..8 (4/5..4/8), got %r" % (cr,))
        if not 2 <= tx_power_dbm <= 20:
            raise ConfigError("SX1276 PA_BOOST power must be 2..20 dBm, got %r" % (tx_power_dbm,))
        if not 6 <= preamble <= 65535:
            raise ConfigError("SX1276 preamble must be 6..65535 symbols, got %r" % (preamble,))
        if clock is None:
            from hal.clock import RealClock

            clock = RealClock()
        self.spi = spi
        self.cs = cs
        self.reset_pin = reset
        self.dio0 = dio0
        self.clock = clock
        self.frequency_hz = frequency_hz
        self.sf = sf
        self.bw_hz = bw_hz
        self.cr = cr
        self.tx_power_dbm = tx_power_dbm
        self.preamble = preamble
        self.crc = crc
        self.sync_word = sync_word
        self.rx_silence_ms = rx_silence_ms
        self._last_rx = 0
        self._two = bytearray(2)
        self._rx_valid = 0  # valid packets taken since entering RX (the chip counts them too)
        self.rx_buf = bytearray(256)
        self.rx_len = 0
        self.rssi_dbm = 0
        self.snr_db = 0.0
        self.listening = False
        self._state = _IDLE
        self._tx_deadline = 0
        # counters for housekeeping telemetry
        self.tx_count = 0
        self.rx_count = 0
        cs.value(1)
        self.reset()
        self._probe()
        self.configure()

    # --- register access: one tiny shim -----------------------------------------------------------
    def _read(self, reg):
        return _reg.spi_read_u8(self.spi, self.cs, reg)

    def _write(self, reg, value):
        _reg.spi_write_u8(self.spi, self.cs, reg | _WRITE, value)

    def _burst(self, reg, buf, write):
        _reg.spi_burst(self.spi, self.cs, reg | _WRITE if write else reg, buf, write)

    def _write_checked(self, reg, value):
        """Write and read back: catches a dead or corrupting bus at configuration time."""
        self._write(reg, value)
        got = self._read(reg)
        if got != value:
            raise DeviceNotFoundError(
                "SX1276", "register 0x%02x reads 0x%02x after writing 0x%02x" % (reg, got, value)
            )

    def _set_mode(self, mode):
        low = _LOW_FREQ if self.frequency_hz < _LF_LIMIT_HZ else 0
        self._write(_REG_OP_MODE, _LONG_RANGE | low | mode)

    # --- bring-up ---------------------------------------------------------------------------------
    def reset(self):
        """Pulse RESET low (if wired) and wait until the chip is ready again (bounded: ~11 ms)."""
        if self.reset_pin is None:
            return
        self.reset_pin.value(0)
        self.clock.sleep_ms(_RESET_LOW_MS)
        self.reset_pin.value(1)
        self.clock.sleep_ms(_RESET_READY_MS)

    def _probe(self):
        version = self._read(_REG_VERSION)
        if version != _VERSION:
            raise DeviceNotFoundError("SX1276", "RegVersion is 0x%02x, expected 0x%02x" % (version, _VERSION))

    def configure(self):
        """Program every setting (after power-up, reset or recovery); leaves the modem in standby."""
        low = _LOW_FREQ if self.frequency_hz < _LF_LIMIT_HZ else 0
        self._write(_REG_OP_MODE, low | _MODE_SLEEP)  # LongRangeMode may only change in Sleep
        self._write_checked(_REG_OP_MODE, _LONG_RANGE | low | _MODE_SLEEP)
        frf = frf_from_hz(self.frequency_hz)
        self._write_checked(_REG_FRF_MSB, frf >> 16)
        self._write_checked(_REG_FRF_MID, (frf >> 8) & 0xFF)
        self._write_checked(_REG_FRF_LSB, frf & 0xFF)
        # PA_BOOST: Pout = 2 + OutputPower (2..17 dBm); +20 dBm needs PaDac 0x87 and Pout = 5 + OutputPower
        if self.tx_power_dbm > 17:
            self._write(_REG_PA_DAC, _PA_DAC_20DBM)
            self._write_checked(_REG_PA_CONFIG, _PA_SELECT_BOOST | _MAX_POWER_7 | (self.tx_power_dbm - 5))
        else:
            self._write(_REG_PA_DAC, _PA_DAC_DEFAULT)
            self._write_checked(_REG_PA_CONFIG, _PA_SELECT_BOOST | _MAX_POWER_7 | (self.tx_power_dbm - 2))
        self._write(_REG_OCP, _OCP_ON | _OCP_TRIM_140MA)
        self._write(_REG_LNA, _LNA_G1 | _LNA_BOOST_HF if not low else _LNA_G1)
        ldro = _LOW_DATA_RATE_OPTIMIZE if _long_symbols(self.sf, self.bw_hz) else 0
        self._write_checked(
            _REG_MODEM_CONFIG1, _BW_CODES[self.bw_hz] << _BW_SHIFT | (self.cr - 4) << _CR_SHIFT
        )
        self._write_checked(_REG_MODEM_CONFIG2, (self.sf << _SF_SHIFT) | (_CRC_ON if self.crc else 0))
        self._write_checked(_REG_MODEM_CONFIG3, ldro | _AGC_AUTO_ON)
        self._write(_REG_PREAMBLE_MSB, self.preamble >> 8)
        self._write(_REG_PREAMBLE_LSB, self.preamble & 0xFF)
        self._write_checked(_REG_SYNC_WORD, self.sync_word)
        self._write(_REG_FIFO_TX_BASE, 0)  # whole FIFO for either direction: 255-byte packets
        self._write(_REG_FIFO_RX_BASE, 0)
        self._write(_REG_IRQ_FLAGS_MASK, 0)
        self._write(_REG_IRQ_FLAGS, _IRQ_ALL)
        self._set_mode(_MODE_STDBY)
        self._state = _IDLE

    def time_on_air_us(self, payload_len):
        return time_on_air_us(payload_len, self.sf, self.bw_hz, self.cr, self.preamble, self.crc)

    # --- non-blocking operation -------------------------------------------------------------------
    def start_send(self, data):
        n = len(data)
        if not 1 <= n <= 255:
            raise ValueError("SX1276 payload must be 1..255 bytes, got %d" % n)
        self._set_mode(_MODE_STDBY)
        self._write(_REG_FIFO_ADDR_PTR, 0)
        self._burst(_REG_FIFO, data, True)
        self._write(_REG_PAYLOAD_LENGTH, n)
        self._write(_REG_DIO_MAPPING1, _DIO0_TX_DONE)
        self._write(_REG_IRQ_FLAGS, _IRQ_ALL)
        self._set_mode(_MODE_TX)
        budget_ms = self.time_on_air_us(n) // 1000 + TX_MARGIN_MS
        self._tx_deadline = ticks_add(self.clock.ticks_ms(), budget_ms)
        self._state = _TX

    def start_receive(self):
        """Continuous RX; the radio returns to it after every transmission until `sleep()`."""
        self.listening = True
        self._set_mode(_MODE_STDBY)
        self._write(_REG_FIFO_ADDR_PTR, 0)
        self._write(_REG_DIO_MAPPING1, _DIO0_RX_DONE)
        self._write(_REG_IRQ_FLAGS, _IRQ_ALL)
        self._set_mode(_MODE_RX_CONTINUOUS)
        self._state = _RX
        self._rx_valid = 0
        self._last_rx = self.clock.ticks_ms()

    def sleep(self):
        self.listening = False
        self._set_mode(_MODE_SLEEP)
        self._state = _IDLE

    def busy(self):
        return self._state == _TX

    def poll(self):
        """Check the IRQ flags once; returns one event constant. Never blocks. With DIO0 wired,
        an idle poll costs one pin read and no SPI traffic."""
        quiet = self.dio0 is not None and not self.dio0.value()
        if self._state == _TX:
            flags = 0 if quiet else self._read(_REG_IRQ_FLAGS)
            if flags & _IRQ_TX_DONE:
                self._write(_REG_IRQ_FLAGS, _IRQ_ALL)
                self.tx_count += 1
                self._state = _IDLE
                if self.listening:
                    self.start_receive()
                return SX1276.TX_DONE
            if ticks_diff(self.clock.ticks_ms(), self._tx_deadline) > 0:
                self.tx_timeouts += 1
                self.recover()
                return SX1276.TX_TIMEOUT
            return SX1276.NONE
        if self._state == _RX:
            if quiet:
                return SX1276.NONE
            flags = self._read(_REG_IRQ_FLAGS)
            if not flags & _IRQ_RX_DONE:
                return SX1276.NONE
            self._write(_REG_IRQ_FLAGS, _IRQ_ALL)
            if flags & _IRQ_CRC_ERROR:
                self.crc_errors += 1
                return SX1276.RX_CRC_ERROR
            n = self._read(_REG_RX_NB_BYTES)
            self._write(_REG_FIFO_ADDR_PTR, self._read(_REG_FIFO_RX_CURRENT))
            self._burst(_REG_FIFO, memoryview(self.rx_buf)[:n], False)
            self.rx_len = n
            snr = self._read(_REG_PKT_SNR)
            self.snr_db = (snr - 256 if snr > 127 else snr) / 4
            offset = _LF_RSSI_OFFSET if self.frequency_hz < _LF_LIMIT_HZ else _HF_RSSI_OFFSET
            rssi = offset + self._read(_REG_PKT_RSSI)
            if self.snr_db < 0:
                rssi += self.snr_db  # section 5.5.5: below the noise floor the SNR adds in
            self.rssi_dbm = rssi
            self.rx_count += 1
            self._last_rx = self.clock.ticks_ms()
            # RegRxPacketCnt counts valid packets since RX began: more than we took means the
            # FIFO was overwritten between polls (poll faster, or wire DIO0 to an IRQ)
            self._burst(_REG_RX_PACKET_CNT_MSB, self._two, False)
            chip_count = (self._two[0] << 8) | self._two[1]
            self._rx_valid += 1
            if chip_count > self._rx_valid:
                self.rx_missed += chip_count - self._rx_valid
                self._rx_valid = chip_count
            return SX1276.RX_DONE
        return SX1276.NONE

    def packet(self):
        """The last received payload (a view into the driver's buffer; copy it to keep it)."""
        return memoryview(self.rx_buf)[: self.rx_len]

    def channel_busy(self):
        """True while the modem, listening, hears a LoRa packet in progress (RegModemStat: signal
        detected or RX on-going, section 4.1.6): listen before talk on a half-duplex channel."""
        if self._state != _RX:
            return False
        return bool(self._read(_REG_MODEM_STAT) & (_STAT_SIGNAL_DETECTED | _STAT_RX_ONGOING))

    # --- supervision ------------------------------------------------------------------------------
    def health_check(self):
        """True when the chip still holds our mode and configuration; otherwise recover and
        return False. Cheap (3 register reads): run it every few seconds. With `rx_silence_ms`
        set, hearing nothing for that long while listening also counts as a failure (a modem
        frozen in RX looks exactly like a quiet channel from its registers)."""
        version = self._read(_REG_VERSION)
        op = self._read(_REG_OP_MODE)
        sync = self._read(_REG_SYNC_WORD)
        ok = version == _VERSION and op & _LONG_RANGE and sync == self.sync_word
        if ok and self._state == _RX:
            ok = op & _MODE_MASK == _MODE_RX_CONTINUOUS
            if ok and self.rx_silence_ms is not None:
                ok = ticks_diff(self.clock.ticks_ms(), self._last_rx) <= self.rx_silence_ms
        if ok:
            return True
        self.recover()
        return False

    def recover(self):
        """Reset the chip, check it answers, reprogram it and resume RX if we were listening.
        Raises DeviceNotFoundError if the chip is still not answering."""
        self.recoveries += 1
        listening = self.listening
        self.reset()
        self._probe()
        self.configure()
        if listening:
            self.start_receive()
