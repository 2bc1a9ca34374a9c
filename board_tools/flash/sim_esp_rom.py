"""A simulated ESP32 ROM serial bootloader behind a pty, so esptool runs without a board.

    with SimEspRom() as rom:
        flash_esp32(rom.port, image, before="no-reset")
        assert rom.flash[0x1000 : 0x1000 + len(image)] == image

A background thread reads SLIP frames from the pty master and answers like the ESP32 ROM
loader (esptool --no-stub): SYNC (eight replies), READ_REG / WRITE_REG over a register file
that holds the chip-detect magic, eFuse words (revision, package, MAC) and the SPI0
peripheral, whose user-command trigger runs RDID / SFDP / status commands against the
simulated flash chip; SPI_ATTACH, SPI_SET_PARAMS, CHANGE_BAUDRATE, FLASH_BEGIN /
FLASH_DATA / FLASH_END, FLASH_DEFL_BEGIN / FLASH_DEFL_DATA / FLASH_DEFL_END (zlib, as the
ROM inflates) and SPI_FLASH_MD5. Replies carry the ESP32 ROM's four status bytes; data
packets are checked against the XOR-0xEF checksum of the request header.

The flash chip (`chip`, board_tools/flash/sim_spi_flash.py) is NOR: FLASH_BEGIN erases whole
4 KiB sectors to 0xFF and programming only clears bits. Errors use the ROM codes:
0x05 invalid message / unknown command, 0x06 failed to act (flash not attached, not in
flash mode, wrong sequence number, unaligned or out-of-range region), 0x07 bad checksum,
0x08 flash write error (past the end of the chip), 0x09 flash read error, 0x0B inflate
error. Which of 0x06/0x08/0x09 the real ROM picks for a bad region is a guess.

Not simulated: DTR/RTS (a pty has no modem lines, so esptool must connect with
before="no-reset" and its hard reset only logs a warning), RAM loading (MEM_*; the esptool
stub cannot run, so flash with stub=False), encrypted writes, secure download mode.
FLASH_END / FLASH_DEFL_END leave the loader like the real chip: `left` says how
("reboot" or "run") and later commands get no answer.
"""

from __future__ import annotations

import os
import select
import struct
import threading
import tty
import zlib

from board_tools.flash.sim_spi_flash import SECTOR, WINBOND_4MB, SimSpiFlash

# Request op codes (esptool loader.ESP_CMDS).
FLASH_BEGIN, FLASH_DATA, FLASH_END = 0x02, 0x03, 0x04
SYNC, WRITE_REG, READ_REG = 0x08, 0x09, 0x0A
SPI_SET_PARAMS, SPI_ATTACH, CHANGE_BAUDRATE = 0x0B, 0x0D, 0x0F
FLASH_DEFL_BEGIN, FLASH_DEFL_DATA, FLASH_DEFL_END, SPI_FLASH_MD5 = 0x10, 0x11, 0x12, 0x13

# ROM error codes (second status byte).
ERR_INVALID, ERR_FAILED, ERR_CHECKSUM, ERR_WRITE, ERR_READ, ERR_INFLATE = 0x05, 0x06, 0x07, 0x08, 0x09, 0x0B

SYNC_PAYLOAD = b"\x07\x07\x12\x20" + b"\x55" * 32
ROM_VALUE = 0x20120707  # the "value" word a ROM puts in replies that carry no register

# ESP32 register map (esptool targets/esp32.py).
CHIP_DETECT_MAGIC_REG = 0x40001000
MAGIC = {"esp32": 0x00F01D83, "esp32s2": 0x000007C6, "esp8266": 0xFFF0C101}
EFUSE_BASE = 0x3FF5A000
APB_CTL_DATE = 0x3FF6607C
UART_CLKDIV_REG = 0x3FF40014
RTCCALICFG1 = 0x3FF5F06C
SPI_BASE = 0x3FF42000
SPI_CMD, SPI_ADDR, SPI_USR, SPI_USR1, SPI_USR2 = (SPI_BASE + o for o in (0x00, 0x04, 0x1C, 0x20, 0x24))
SPI_MISO_DLEN, SPI_W0 = SPI_BASE + 0x2C, SPI_BASE + 0x80
SPI_CMD_USR = 1 << 18


def slip_encode(packet: bytes) -> bytes:
    return b"\xc0" + packet.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc") + b"\xc0"


def rom_checksum(data: bytes) -> int:
    state = 0xEF
    for b in data:
        state ^= b
    return state


class SimEspRom:
    def __init__(
        self,
        flash_size: int = 4 * 1024 * 1024,
        chip: str = "esp32",
        mac: bytes = bytes.fromhex("240ac4123456"),
        initial: bytes | None = None,
        jedec_id: int = WINBOND_4MB,
    ) -> None:
        if chip not in MAGIC:
            raise ValueError("chip must be one of %s" % ", ".join(MAGIC))
        self.chip = SimSpiFlash(flash_size, jedec_id, initial)
        self.flash = self.chip.data  # what esptool wrote, as the chip holds it
        self.erased = self.chip.erased
        self.regs: dict[int, int] = {CHIP_DETECT_MAGIC_REG: MAGIC[chip]}
        self._set_efuses(mac)
        self.commands: list[int] = []  # every op answered or refused, in order
        self.errors: list[tuple[int, int]] = []  # (op, ROM error code) of refused requests
        self.synced = False
        self.attached = False
        self.baud = 115200
        self.left: str | None = None  # "reboot" / "run" once FLASH_END left the loader
        # Fault injection.
        self.noise_on_block: int | None = None  # received block with this seq arrives with a flipped byte
        self.noise_repeats = -1  # how many times (-1: every retransmission too)
        self._flash_mode: str | None = None  # "raw" / "defl" between *_BEGIN and the end
        self._begin = (0, 0, 0, 0)  # erase size, blocks, block size, offset
        self._seq = 0
        self._inflate: zlib._Decompress | None = None
        self._defl_pos = 0
        self._master = -1
        self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.crash: Exception | None = None
        self.port = ""

    def _set_efuses(self, mac: bytes) -> None:
        # Revision v3.0 (eFuse bits + APB date bit), package D0WD, CK8M and RTC calibration
        # that make esptool's ESP32 change_baud workaround compute exactly 40 MHz.
        words = {
            1: int.from_bytes(mac[2:6], "big"),
            2: mac[0] << 8 | mac[1],
            3: 1 << 15 | 1 << 9,
            4: 50,
            5: 1 << 20,
        }
        for n, value in words.items():
            self.regs[EFUSE_BASE + 4 * n] = value
        self.regs[APB_CTL_DATE] = 1 << 31
        self.regs[RTCCALICFG1] = 2048 << 7
        self.regs[UART_CLKDIV_REG] = 40_000_000 // 115200

    # --- pty and thread ---------------------------------------------------------------------------
    def start(self) -> SimEspRom:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo or line editing before esptool configures the port
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._run, name="sim-esp-rom", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    def __enter__(self) -> SimEspRom:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        frame: bytearray | None = None
        escape = False
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return
            for b in chunk:
                if frame is None:
                    if b == 0xC0:
                        frame = bytearray()
                    continue  # the ROM drops bytes between frames
                if escape:
                    escape = False
                    frame.append({0xDC: 0xC0, 0xDD: 0xDB}.get(b, b))
                elif b == 0xDB:
                    escape = True
                elif b == 0xC0:
                    if frame:
                        try:
                            self._packet(bytes(frame))
                        except Exception as exc:  # a simulator bug: keep it for the test to see
                            self.crash = exc
                            raise
                        frame = None
                    else:
                        frame = bytearray()  # back-to-back delimiters: stay in a frame
                else:
                    frame.append(b)

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stop.is_set():
            try:
                n = os.write(self._master, view)
                view = view[n:]
            except BlockingIOError:
                select.select([], [self._master], [], 0.05)  # nobody reads: wait, give up on close
            except OSError:
                return

    def _reply(self, op: int, value: int = ROM_VALUE, data: bytes = b"", error: int = 0) -> None:
        body = data + bytes((1 if error else 0, error, 0, 0))
        self._send(slip_encode(struct.pack("<BBHI", 1, op, len(body), value) + body))

    def _fail(self, op: int, error: int) -> None:
        self.errors.append((op, error))
        self._reply(op, error=error)

    # --- command dispatch -------------------------------------------------------------------------
    def _packet(self, pkt: bytes) -> None:
        if self.left is not None:
            return  # running the application: the loader is gone
        if len(pkt) < 8:
            return
        direction, op, size, chk = struct.unpack_from("<BBHI", pkt)
        data = pkt[8:]
        if direction != 0:
            return
        if not self.synced and op != SYNC:
            return  # before autobaud and SYNC the ROM does not listen
        self.commands.append(op)
        if size != len(data):
            return self._fail(op, ERR_INVALID)
        handler = self._handlers.get(op)
        if handler is None:
            return self._fail(op, ERR_INVALID)
        handler(self, op, data, chk)

    def _sync(self, op: int, data: bytes, chk: int) -> None:
        if data != SYNC_PAYLOAD:
            return
        self.synced = True
        for _ in range(8):  # the ROM answers every SYNC eight times; esptool drains them
            self._reply(op)

    def _read_reg(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 4:
            return self._fail(op, ERR_INVALID)
        (addr,) = struct.unpack("<I", data)
        self._reply(op, value=self.regs.get(addr, 0))

    def _write_reg(self, op: int, data: bytes, chk: int) -> None:
        if not data or len(data) % 16:
            return self._fail(op, ERR_INVALID)
        for i in range(0, len(data), 16):
            addr, value, mask, _delay = struct.unpack_from("<IIII", data, i)
            self.regs[addr] = (self.regs.get(addr, 0) & ~mask | value & mask) & 0xFFFFFFFF
            if addr == SPI_CMD and self.regs[addr] & SPI_CMD_USR:
                self._spi_user_command()
        self._reply(op)

    def _spi_user_command(self) -> None:
        """The SPI0 "user command" esptool builds from registers (RDID, SFDP, RDSR, reset)."""
        cmd = self.regs.get(SPI_USR2, 0) & 0xFF
        read_bits = self.regs.get(SPI_MISO_DLEN, 0) + 1 if self.regs.get(SPI_USR, 0) & 1 << 28 else 0
        result = 0xFFFFFFFF  # MISO floats high when the flash is not attached
        if self.attached:  # an address (SFDP) is sent 24-bit MSB-first in SPI_ADDR
            result = self.chip.user_command(cmd, self.regs.get(SPI_ADDR, 0) >> 8)
        if read_bits and read_bits < 32:
            result &= (1 << read_bits) - 1
        self.regs[SPI_W0] = result
        self.regs[SPI_CMD] &= ~SPI_CMD_USR  # command complete

    def _spi_attach(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 8:  # ESP32 ROM: pin config word + "is legacy" word
            return self._fail(op, ERR_INVALID)
        self.attached = True
        self._reply(op)

    def _spi_set_params(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 24:
            return self._fail(op, ERR_INVALID)
        _fl_id, total, _block, sector, _page, _mask = struct.unpack("<IIIIII", data)
        if sector != SECTOR:
            return self._fail(op, ERR_FAILED)
        self.chip.declared = total
        self._reply(op)

    def _change_baud(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 8:
            return self._fail(op, ERR_INVALID)
        self._reply(op)  # answered at the old rate, then the UART switches
        self.baud = struct.unpack("<II", data)[0]

    def _begin_region(self, op: int, data: bytes) -> bool:
        if len(data) not in (16, 20):
            self._fail(op, ERR_INVALID)
            return False
        if not self.attached:
            self._fail(op, ERR_FAILED)
            return False
        size, blocks, block_size, offset = struct.unpack_from("<IIII", data)
        end = offset + (size + SECTOR - 1) // SECTOR * SECTOR
        if offset % SECTOR or end > self.chip.size() or block_size == 0:
            self._fail(op, ERR_FAILED)
            return False
        if size:
            self.chip.erase(offset, end)
        self._begin = (size, blocks, block_size, offset)
        self._seq = 0
        return True

    def _flash_begin(self, op: int, data: bytes, chk: int) -> None:
        if self._begin_region(op, data):
            self._flash_mode = "raw"
            self._reply(op)

    def _defl_begin(self, op: int, data: bytes, chk: int) -> None:
        if self._begin_region(op, data):
            self._flash_mode = "defl"
            self._inflate = zlib.decompressobj()
            self._defl_pos = self._begin[3]
            self._reply(op)

    def _block(self, op: int, data: bytes, chk: int) -> bytes | None:
        """Checks shared by FLASH_DATA and FLASH_DEFL_DATA; the block payload, or None if refused."""
        if len(data) < 16:
            self._fail(op, ERR_INVALID)
            return None
        length, seq, _, _ = struct.unpack_from("<IIII", data)
        payload = bytearray(data[16:])
        if seq == self.noise_on_block and self.noise_repeats != 0 and payload:
            payload[len(payload) // 2] ^= 0x20  # a bit flipped on the wire
            self.noise_repeats -= 1
        if length != len(payload):
            self._fail(op, ERR_INVALID)
            return None
        if rom_checksum(payload) != chk & 0xFF:
            self._fail(op, ERR_CHECKSUM)
            return None
        want = "raw" if op == FLASH_DATA else "defl"
        if self._flash_mode != want or seq != self._seq:
            self._fail(op, ERR_FAILED)
            return None
        return bytes(payload)

    def _flash_data(self, op: int, data: bytes, chk: int) -> None:
        payload = self._block(op, data, chk)
        if payload is None:
            return
        _, _, block_size, offset = self._begin
        if len(payload) != block_size:
            return self._fail(op, ERR_INVALID)
        if not self.chip.program(offset + self._seq * block_size, payload):
            return self._fail(op, ERR_WRITE)
        self._seq += 1
        self._reply(op)

    def _defl_data(self, op: int, data: bytes, chk: int) -> None:
        payload = self._block(op, data, chk)
        if payload is None or self._inflate is None:
            return
        try:
            out = self._inflate.decompress(payload)
        except zlib.error:
            self._flash_mode = None
            return self._fail(op, ERR_INFLATE)
        if not self.chip.program(self._defl_pos, out):
            return self._fail(op, ERR_WRITE)
        self._defl_pos += len(out)
        self._seq += 1
        self._reply(op)

    def _flash_end(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 4:
            return self._fail(op, ERR_INVALID)
        (run_user_code,) = struct.unpack("<I", data)
        self._flash_mode = None
        self._reply(op)
        self.left = "run" if run_user_code else "reboot"

    def _md5(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 16:
            return self._fail(op, ERR_INVALID)
        if not self.attached:
            return self._fail(op, ERR_FAILED)
        addr, size, _, _ = struct.unpack("<IIII", data)
        digest = self.chip.md5_hex(addr, size)
        if digest is None:
            return self._fail(op, ERR_READ)
        self._reply(op, data=digest)

    _handlers = {
        SYNC: _sync,
        READ_REG: _read_reg,
        WRITE_REG: _write_reg,
        SPI_ATTACH: _spi_attach,
        SPI_SET_PARAMS: _spi_set_params,
        CHANGE_BAUDRATE: _change_baud,
        FLASH_BEGIN: _flash_begin,
        FLASH_DATA: _flash_data,
        FLASH_END: _flash_end,
        FLASH_DEFL_BEGIN: _defl_begin,
        FLASH_DEFL_DATA: _defl_data,
        FLASH_DEFL_END: _flash_end,
        SPI_FLASH_MD5: _md5,
    }
