"""The SPI NOR flash chip behind a simulated ESP32 (board_tools/flash/sim_esp_rom.py): erase by
4 KiB sectors to 0xFF, programming that can only clear bits (a skipped erase shows up as wrong
data), an optional weak cell, and the answers to the SPI user commands esptool sends through the
ROM's SPI0 registers (RDID, SFDP, RDSR)."""

from __future__ import annotations

import hashlib

SECTOR = 0x1000
WINBOND_4MB = 0x1640EF  # RDID as esptool reads it: manufacturer | type << 8 | capacity << 16
# The SFDP header and first parameter header of a Winbond part: what esptool reads of it
_SFDP = b"SFDP\x06\x01\x01\xff\x00\x06\x01\x10\x80\x00\x00\xff\xef"


class SimSpiFlash:
    def __init__(self, size: int, jedec_id: int = WINBOND_4MB, initial: bytes | None = None) -> None:
        # A board that already ran firmware: flash holds old data, so skipped erases show up.
        self.data = bytearray(b"\xff" * size)
        if initial is not None:
            self.data[: len(initial)] = initial
        self.jedec_id = jedec_id
        self.declared: int | None = None  # the size SPI_SET_PARAMS declared
        self.erased: list[tuple[int, int]] = []  # (offset, length) of each erase
        self.weak_byte: int | None = None  # an address that reads back with bit 4 flipped

    def size(self) -> int:
        """The usable size: the chip's, or less if the loader was told so."""
        return min(self.declared or len(self.data), len(self.data))

    def erase(self, offset: int, end: int) -> None:
        """Whole sectors from `offset` to `end` (both sector-aligned) back to 0xFF."""
        self.data[offset:end] = b"\xff" * (end - offset)
        self.erased.append((offset, end - offset))

    def program(self, addr: int, data: bytes) -> bool:
        """NOR programming: bits only go from 1 to 0. False if past the end of the chip."""
        if addr + len(data) > self.size():
            return False
        old = self.data[addr : addr + len(data)]
        anded = int.from_bytes(old, "little") & int.from_bytes(data, "little")
        self.data[addr : addr + len(data)] = anded.to_bytes(len(data), "little")
        if self.weak_byte is not None and addr <= self.weak_byte < addr + len(data):
            self.data[self.weak_byte] ^= 0x10
        return True

    def md5_hex(self, addr: int, size: int) -> bytes | None:
        """The MD5 of a region as 32 hex characters (what the ROM sends), None past the end."""
        if addr + size > self.size():
            return None
        return hashlib.md5(self.data[addr : addr + size]).hexdigest().encode()

    def user_command(self, cmd: int, addr: int) -> int:
        """The 32-bit word a SPI user command reads back: RDID, SFDP at the 24-bit `addr`, and 0
        for the rest (RDSR: idle, no protection; write-enable and reset read nothing)."""
        if cmd == 0x9F:
            return self.jedec_id
        if cmd == 0x5A:
            raw = (_SFDP[addr : addr + 4] if addr < len(_SFDP) else b"") + b"\xff" * 4
            return int.from_bytes(raw[:4], "little")
        return 0
