"""Simulated Semtech SX1276 (LoRa mode) behind SPI; hal.sim.env.radio_medium carries its packets.

The model follows the SX1276/77/78/79 datasheet (rev. 7, section 4.1 LoRa modem, 6.4 register
map): an SPI transaction is an address byte (bit 7 = write) then data bytes with address
auto-increment, except RegFifo (0x00), which reads/writes the 256-byte FIFO at RegFifoAddrPtr.
LongRangeMode only changes in Sleep; the FIFO is cleared in Sleep; TX sends RegPayloadLength
bytes from RegFifoTxBaseAddr and returns to Standby with TxDone after the time on air; RX
continuous writes each packet at the RX pointer, sets RxDone (+ PayloadCrcError on a bad CRC)
and stays in RX; RxSingle gives RxTimeout after RegSymbTimeout symbols. IRQ flags clear by
writing 1; DIO0 follows RegDioMapping1 (00 RxDone, 01 TxDone, 10 CadDone).

Time comes from the injected clock (VirtualClock in the twin) and is evaluated lazily: every
SPI transaction first brings the radios up to date; a twin calls `medium.update()` each step
so DIO0 interrupts fire on time.

Faults: `hang()` freezes the modem state machine (TX never finishes, nothing is received;
SPI still answers), `upset()` silently reloads power-on register values (a brown-out or SEU),
a low RESET pin holds the chip in reset; after RESET rises the chip ignores SPI for 5 ms.
"""

try:
    from micropython import const
except ImportError:  # CPython: a board never loads this
    from protocols._const import const

from hal.clock import ticks_add, ticks_diff
from hal.sim.buses.live_pin import LivePin
from hal.sim.chips import sx1276_modem as modem

REG_FIFO = 0x00
REG_OP_MODE = 0x01
REG_FIFO_ADDR_PTR = 0x0D
REG_FIFO_TX_BASE = 0x0E
REG_FIFO_RX_BASE = 0x0F
REG_FIFO_RX_CURRENT = 0x10
REG_IRQ_FLAGS_MASK = 0x11
REG_IRQ_FLAGS = 0x12
REG_RX_NB_BYTES = 0x13
REG_RX_PACKET_CNT_MSB = 0x16
REG_RX_PACKET_CNT_LSB = 0x17
REG_PKT_SNR = 0x19
REG_PKT_RSSI = 0x1A
REG_RSSI = 0x1B
REG_HOP_CHANNEL = 0x1C
REG_PAYLOAD_LENGTH = 0x22
REG_FIFO_RX_BYTE_ADDR = 0x25
REG_DIO_MAPPING1 = 0x40
REG_VERSION = 0x42

MODE_SLEEP = 0
MODE_STDBY = 1
MODE_TX = 3
MODE_RX_CONTINUOUS = 5
MODE_RX_SINGLE = 6
MODE_CAD = 7

IRQ_RX_TIMEOUT = 0x80
IRQ_RX_DONE = 0x40
IRQ_PAYLOAD_CRC_ERROR = 0x20
IRQ_VALID_HEADER = 0x10
IRQ_TX_DONE = 0x08
IRQ_CAD_DONE = 0x04

# register fields, datasheet section 6.4 (as hal.drivers.sx1276 names them)
_WRITE = const(0x80)  # SPI address byte: bit 7 set for a write
_ADDR_MASK = const(0x7F)
_REG_MODEM_STAT = const(0x18)
_LONG_RANGE = const(0x80)  # RegOpMode LongRangeMode
_MODE_MASK = const(0x07)  # RegOpMode Mode[2:0]
_STAT_DETECTED_RX_ONGOING = const(0x05)  # RegModemStat: signal detected + RX on-going
_STAT_MODEM_CLEAR = const(0x10)  # RegModemStat: modem clear
_DIO0_SHIFT = const(6)  # RegDioMapping1 Dio0Mapping[1:0] in bits 7:6
_CRC_ON_PAYLOAD = const(0x40)  # RegHopChannel CrcOnPayload

# power-on values of the registers the model uses (datasheet table 41, LoRa column)
_POR = {
    0x01: 0x09,
    0x06: 0x6C,
    0x07: 0x80,
    0x08: 0x00,
    0x09: 0x4F,
    0x0A: 0x09,
    0x0B: 0x2B,
    0x0C: 0x20,
    0x0E: 0x80,
    0x0F: 0x00,
    0x1D: 0x72,
    0x1E: 0x70,
    0x1F: 0x64,
    0x20: 0x00,
    0x21: 0x08,
    0x22: 0x01,
    0x23: 0xFF,
    0x24: 0x00,
    0x26: 0x04,
    0x39: 0x12,
    0x42: 0x12,
    0x4D: 0x84,
}
_READ_ONLY = (
    REG_FIFO_RX_CURRENT,
    REG_RX_NB_BYTES,
    REG_PKT_SNR,
    REG_PKT_RSSI,
    REG_RSSI,
    REG_HOP_CHANNEL,
    REG_FIFO_RX_BYTE_ADDR,
    REG_VERSION,
    0x14,
    0x15,
    0x16,
    0x17,
    0x18,
)
_RESET_READY_US = 5000


class SimSX1276:
    """One radio. `medium` (hal.sim.env.radio_medium.RadioMedium) connects it to others. Without a
    `dio0_pin` the chip makes its own LivePin (`self.dio0`, id `name + "_dio0"`), which brings the
    radios up to date when read; a plain SimPin passed in only moves when something updates the
    medium (the twin's step)."""

    def __init__(self, clock, medium=None, reset_pin=None, dio0_pin=None, name="sx1276"):
        self.clock = clock
        self.name = name
        self.medium = medium
        self.dio0 = dio0_pin if dio0_pin is not None else LivePin(name + "_dio0", self._catch_up)
        self.regs = bytearray(128)
        self.fifo = bytearray(256)
        self.hung = False
        self.in_reset = False
        self.sent = 0
        self.received = 0
        self._reset_at = None
        self._addr = None
        self._write_op = False
        self._tx_end = None
        self._rx_single_end = None
        self._rx_ptr = 0
        self.noise_rssi_dbm = -120
        self._por()
        if medium is not None:
            medium.attach(self)
        if reset_pin is not None:
            reset_pin.listeners.append(self._on_reset_pin)

    # --- power and faults -------------------------------------------------------------------
    def _por(self):
        for i in range(128):
            self.regs[i] = _POR.get(i, 0)
        for i in range(256):
            self.fifo[i] = 0
        self._tx_end = None
        self._rx_single_end = None
        self._update_dio0()

    def _on_reset_pin(self, pin, level):
        if level:
            self.in_reset = False
            self.hung = False
            self._por()
            self._reset_at = self.clock.ticks_us()
        else:
            self.in_reset = True

    def hang(self):
        """Freeze the modem: TX never completes and nothing is received until a reset."""
        self.hung = True

    def upset(self):
        """Silently reload power-on values (the driver does not know)."""
        self._por()

    # --- SPI ------------------------------------------------------------------------------------
    def _responsive(self):
        if self.in_reset:
            return False
        if self._reset_at is not None:
            if 0 <= ticks_diff(self.clock.ticks_us(), self._reset_at) < _RESET_READY_US:
                return False
            self._reset_at = None
        return True

    def _catch_up(self):
        if self.medium is not None:
            self.medium.update()
        else:
            self.tick()

    def select(self):
        self._addr = None

    def deselect(self):
        self._addr = None

    def exchange(self, byte):
        if not self._responsive():
            return 0x00
        if self._addr is None:
            self._catch_up()
            self._write_op = bool(byte & _WRITE)
            self._addr = byte & _ADDR_MASK
            return 0x00
        addr = self._addr
        if addr != REG_FIFO:
            self._addr = (addr + 1) & _ADDR_MASK
        if self._write_op:
            self._write(addr, byte)
            return 0x00
        return self._read(addr)

    def _fifo_accessible(self):
        return self.mode() != MODE_SLEEP or not self.lora()

    def _read(self, addr):
        if addr == REG_FIFO:
            if not self._fifo_accessible():
                return 0x00
            ptr = self.regs[REG_FIFO_ADDR_PTR]
            self.regs[REG_FIFO_ADDR_PTR] = (ptr + 1) & 0xFF
            return self.fifo[ptr]
        if addr == REG_RSSI:
            return max(0, min(255, self.noise_rssi_dbm - self.rssi_offset()))
        if addr == _REG_MODEM_STAT:  # signal detected + RX on-going while a packet is in the air
            busy = self.medium is not None and self.listening() and self.medium.in_air(self)
            return _STAT_DETECTED_RX_ONGOING if busy else _STAT_MODEM_CLEAR
        return self.regs[addr]

    def _write(self, addr, value):
        if addr == REG_FIFO:
            if self._fifo_accessible():
                ptr = self.regs[REG_FIFO_ADDR_PTR]
                self.fifo[ptr] = value
                self.regs[REG_FIFO_ADDR_PTR] = (ptr + 1) & 0xFF
            return
        if addr == REG_OP_MODE:
            self._set_op_mode(value)
            return
        if addr == REG_IRQ_FLAGS:
            self.regs[REG_IRQ_FLAGS] &= ~value & 0xFF
            self._update_dio0()
            return
        if addr in _READ_ONLY:
            return
        self.regs[addr] = value
        if addr == REG_DIO_MAPPING1:
            self._update_dio0()

    # --- modem state machine -------------------------------------------------------------------
    def mode(self):
        return self.regs[REG_OP_MODE] & _MODE_MASK

    def lora(self):
        return bool(self.regs[REG_OP_MODE] & _LONG_RANGE)

    def _set_op_mode(self, value):
        old = self.regs[REG_OP_MODE]
        if old & _MODE_MASK != MODE_SLEEP:
            value = (value & ~_LONG_RANGE & 0xFF) | (old & _LONG_RANGE)  # changes only in Sleep
        self.regs[REG_OP_MODE] = value
        mode = value & _MODE_MASK
        if old & _MODE_MASK == mode:
            return
        self._tx_end = None
        self._rx_single_end = None
        if mode == MODE_SLEEP and self.lora():
            for i in range(256):
                self.fifo[i] = 0
        if not self.lora():
            return
        now = self.clock.ticks_us()
        if mode == MODE_TX:
            n = self.regs[REG_PAYLOAD_LENGTH]
            base = self.regs[REG_FIFO_TX_BASE]
            payload = bytes(self.fifo[(base + i) & 0xFF] for i in range(n))
            self._tx_end = ticks_add(now, self.time_on_air_us(n))
            if self.medium is not None and not self.hung:
                self.medium.transmit(self, payload, self.crc_on(), self._tx_end)
        elif mode in (MODE_RX_CONTINUOUS, MODE_RX_SINGLE):
            self.regs[REG_RX_PACKET_CNT_MSB] = 0  # counts valid packets since entering RX
            self.regs[REG_RX_PACKET_CNT_LSB] = 0
            self._rx_ptr = self.regs[REG_FIFO_RX_BASE]
            self.regs[REG_FIFO_RX_BYTE_ADDR] = self._rx_ptr
            if mode == MODE_RX_SINGLE:
                self._rx_single_end = ticks_add(now, modem.rx_single_us(self.regs))
        elif mode == MODE_CAD:
            self._raise_irq(IRQ_CAD_DONE)
            self.regs[REG_OP_MODE] = (value & ~_MODE_MASK & 0xFF) | MODE_STDBY

    def tick(self):
        """Finish a transmission or an RxSingle window whose time has come."""
        if self.hung or self.in_reset:
            return
        now = self.clock.ticks_us()
        if self._tx_end is not None and ticks_diff(now, self._tx_end) >= 0:
            self._tx_end = None
            self.sent += 1
            self.regs[REG_OP_MODE] = (self.regs[REG_OP_MODE] & ~_MODE_MASK & 0xFF) | MODE_STDBY
            self._raise_irq(IRQ_TX_DONE)
        if self._rx_single_end is not None and ticks_diff(now, self._rx_single_end) >= 0:
            self._rx_single_end = None
            self.regs[REG_OP_MODE] = (self.regs[REG_OP_MODE] & ~_MODE_MASK & 0xFF) | MODE_STDBY
            self._raise_irq(IRQ_RX_TIMEOUT)

    def _raise_irq(self, bit):
        if not self.regs[REG_IRQ_FLAGS_MASK] & bit:
            self.regs[REG_IRQ_FLAGS] |= bit
        self._update_dio0()

    def _update_dio0(self):
        mapping = self.regs[REG_DIO_MAPPING1] >> _DIO0_SHIFT
        flags = self.regs[REG_IRQ_FLAGS]
        source = (IRQ_RX_DONE, IRQ_TX_DONE, IRQ_CAD_DONE, 0)[mapping]
        self.dio0.drive(1 if flags & source else 0)

    # --- what the medium needs -----------------------------------------------------------------
    def listening(self):
        return (
            not self.hung
            and not self.in_reset
            and self.lora()
            and self.mode() in (MODE_RX_CONTINUOUS, MODE_RX_SINGLE)
        )

    # the modem arithmetic is in hal/sim/chips/sx1276_modem.py
    def channel(self):
        """(Frf, SF, BW code, sync word): radios hear each other only when all four match."""
        return modem.channel(self.regs)

    def crc_on(self):
        return modem.crc_on(self.regs)

    def frequency_hz(self):
        return modem.frequency_hz(self.regs)

    def rssi_offset(self):
        return modem.rssi_offset(self.regs)

    def symbol_us(self):
        return modem.symbol_us(self.regs)

    def time_on_air_us(self, n):
        """Datasheet section 4.1.1.7, from the registers as programmed."""
        return modem.time_on_air_us(self.regs, n)

    def deliver(self, payload, crc_ok, has_crc, rssi_dbm, snr_db):
        """A packet ends while we listen: write it to the FIFO and raise the flags."""
        start = self._rx_ptr
        for i in range(len(payload)):
            self.fifo[(start + i) & 0xFF] = payload[i]
        self._rx_ptr = (start + len(payload)) & 0xFF
        self.regs[REG_FIFO_RX_CURRENT] = start
        self.regs[REG_FIFO_RX_BYTE_ADDR] = self._rx_ptr
        self.regs[REG_RX_NB_BYTES] = len(payload)
        self.regs[REG_HOP_CHANNEL] = _CRC_ON_PAYLOAD if has_crc else 0x00
        snr_q = int(snr_db * 4)
        self.regs[REG_PKT_SNR] = snr_q & 0xFF
        self.regs[REG_PKT_RSSI] = max(0, min(255, int(rssi_dbm - self.rssi_offset())))
        if crc_ok or not has_crc:
            count = ((self.regs[REG_RX_PACKET_CNT_MSB] << 8) | self.regs[REG_RX_PACKET_CNT_LSB]) + 1
            self.regs[REG_RX_PACKET_CNT_MSB] = (count >> 8) & 0xFF
            self.regs[REG_RX_PACKET_CNT_LSB] = count & 0xFF
        self.received += 1
        self._raise_irq(IRQ_VALID_HEADER)
        if has_crc and not crc_ok:
            self._raise_irq(IRQ_PAYLOAD_CRC_ERROR)
        self._raise_irq(IRQ_RX_DONE)
        if self.mode() == MODE_RX_SINGLE:
            self._rx_single_end = None
            self.regs[REG_OP_MODE] = (self.regs[REG_OP_MODE] & ~_MODE_MASK & 0xFF) | MODE_STDBY
