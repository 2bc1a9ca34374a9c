"""flash_esp32: real esptool sessions against the simulated ESP32 ROM loader over a pty."""

from __future__ import annotations

import hashlib
import os
import random
import time
from pathlib import Path

import pytest
from esptool.bin_image import ELFSection, ESP32FirmwareImage, ESP32S3FirmwareImage

from board_tools.flash.esp import (
    EspChipError,
    EspConnectError,
    EspImageError,
    EspVerifyError,
    EspWriteError,
    flash_esp32,
    inspect_image,
)
from board_tools.flash.sim_esp_rom import (
    CHANGE_BAUDRATE,
    FLASH_BEGIN,
    FLASH_DATA,
    FLASH_DEFL_BEGIN,
    FLASH_DEFL_DATA,
    SimEspRom,
)

GET_SECURITY_INFO = 0x14  # esptool probes it first; the ESP32 ROM does not know it
OLD = bytes(range(256)) * 2048  # 512 KiB of a previous firmware: skipped erases would show


def _app(cls: type[ESP32FirmwareImage], payload: bytes) -> bytes:
    img = cls()
    img.entrypoint = 0x40080000
    img.segments = [
        ELFSection(b".iram0.text", 0x40080000, payload, 0),
        ELFSection(b".dram0.data", 0x3FFB0000, b"MicroPython data " * 64, 0),
    ]
    return img.save(None)


def micropython_like(size: int = 160 * 1024, cls: type[ESP32FirmwareImage] = ESP32FirmwareImage) -> bytes:
    """Layout of MicroPython's combined ESP32 .bin flashed at 0x1000: bootloader, partition table
    at flash 0x8000, application at flash 0x10000; half random, half compressible."""
    rng = random.Random(size)
    code = rng.randbytes(size // 2) + b"mp_obj_t mp_call_function_n_kw " * (size // 64)
    boot = _app(cls, rng.randbytes(4000))
    image = bytearray(boot.ljust(0x7000, b"\xff"))
    image += b"\xaa\x50" + b"nvs-phy-factory".ljust(0x0FFE, b"\xff")
    image = image.ljust(0xF000, b"\xff") + _app(cls, code)
    return bytes(image)


def _flash(rom: SimEspRom, image: bytes | Path, lines: list[str] | None = None, **kw):
    kw.setdefault("before", "no-reset")  # a pty has no DTR/RTS: the sim is always in download mode
    return flash_esp32(rom.port, image, log=None if lines is None else lines.append, **kw)


def test_image_written_byte_exact_and_verified(tmp_path: Path) -> None:
    image = micropython_like()
    path = tmp_path / "ESP32_GENERIC.bin"
    path.write_bytes(image)
    lines: list[str] = []
    with SimEspRom(initial=OLD) as rom:
        result = _flash(rom, path, lines, after="soft-reset")
    end = 0x1000 + len(image)
    assert bytes(rom.flash[0x1000:end]) == image
    assert bytes(rom.flash[:0x1000]) == OLD[:0x1000]  # sector 0 (before the address) kept
    sector_end = (end + 0xFFF) // 0x1000 * 0x1000
    assert rom.flash[end:sector_end] == b"\xff" * (sector_end - end)  # tail of the last erased sector
    assert bytes(rom.flash[sector_end : sector_end + 0x1000]) == OLD[sector_end : sector_end + 0x1000]
    assert rom.erased == [(0x1000, sector_end - 0x1000)]
    assert FLASH_DEFL_DATA in rom.commands and FLASH_DATA not in rom.commands  # deflated by default
    assert rom.baud == 460800 and CHANGE_BAUDRATE in rom.commands
    assert {op for op, _ in rom.errors} == {GET_SECURITY_INFO}  # only esptool's chip-id probe
    assert rom.left == "run" and result.reset  # soft reset: the ROM was told to run the new code
    assert rom.crash is None
    assert (result.chip, result.mac) == ("ESP32", "24:0a:c4:12:34:56")
    assert (result.address, result.size) == (0x1000, len(image))
    assert result.md5 == hashlib.md5(image).hexdigest()
    assert "ESP32-D0WD-V3 (revision v3.0)" in result.description
    assert any("Verified MD5 %s" % result.md5 in line for line in lines)


def test_uncompressed_write_survives_one_corrupted_block() -> None:
    image = micropython_like(64 * 1024)
    lines: list[str] = []
    with SimEspRom(initial=OLD) as rom:
        rom.noise_on_block = 3
        rom.noise_repeats = 1  # one bit flip on the wire; esptool resends the block
        result = _flash(rom, image, lines, compress=False, baud=115200)
    assert bytes(rom.flash[0x1000 : 0x1000 + len(image)]) == image
    assert (FLASH_DATA, 0x07) in rom.errors
    assert CHANGE_BAUDRATE not in rom.commands
    # The default hard reset is an RTS pulse a pty cannot carry: said, not pretended.
    assert rom.left is None and not result.reset
    assert any("was NOT reset" in line for line in lines)


@pytest.mark.parametrize("compress", [True, False])
def test_rom_checksum_error_fails_the_flash(compress: bool) -> None:
    image = micropython_like(64 * 1024)
    with SimEspRom(initial=OLD) as rom:
        rom.noise_on_block = 2  # every copy of block 2 arrives damaged
        with pytest.raises(EspWriteError, match=r"after seq 2 \(result was 0107: Checksum error\)"):
            _flash(rom, image, compress=compress)
    op = FLASH_DEFL_DATA if compress else FLASH_DATA
    assert [e for e in rom.errors if e[0] == op] == [(op, 0x07)] * 3  # esptool tried three times
    assert bytes(rom.flash[0x1000 : 0x1000 + len(image)]) != image
    assert rom.left is None


def test_md5_mismatch_is_reported() -> None:
    image = micropython_like(64 * 1024)
    with SimEspRom(initial=OLD) as rom:
        rom.chip.weak_byte = 0x1000 + 5000  # this cell does not hold what was programmed
        with pytest.raises(EspVerifyError) as info:
            _flash(rom, image, after="soft-reset")
    written = bytes(rom.flash[0x1000 : 0x1000 + len(image)])
    assert [i for i in range(len(image)) if written[i] != image[i]] == [5000]
    msg = str(info.value)
    assert "0x00001000-0x%08X" % (0x1000 + len(image) - 1) in msg
    assert hashlib.md5(image).hexdigest() in msg and hashlib.md5(written).hexdigest() in msg
    assert rom.left is None  # not restarted on a bad image


def test_wrong_chip_image_refused_before_any_write() -> None:
    image = micropython_like(32 * 1024, cls=ESP32S3FirmwareImage)
    assert inspect_image(image).chip == "ESP32-S3"
    refusal = r"image is for ESP32-S3 \(chip id 9\), the board is ESP32 \(chip id 0\): refusing"
    with SimEspRom(initial=OLD) as rom, pytest.raises(EspChipError, match=refusal):
        _flash(rom, image, address=0x0)
    assert rom.commands  # it did talk to the board to learn the chip...
    assert not {FLASH_BEGIN, FLASH_DEFL_BEGIN, CHANGE_BAUDRATE} & set(rom.commands)  # ...and stopped
    assert rom.erased == [] and bytes(rom.flash[: len(OLD)]) == OLD


def test_not_an_esp32_family_board() -> None:
    refusal = "board is ESP8266, not an ESP32-family chip"
    with SimEspRom(chip="esp8266") as rom, pytest.raises(EspChipError, match=refusal):
        _flash(rom, micropython_like(16 * 1024))
    assert rom.erased == []


def test_bad_magic_refused_unless_forced() -> None:
    data = b"\x00littlefs" + os.urandom(20000)
    with SimEspRom(initial=OLD) as rom:
        with pytest.raises(EspImageError, match="first byte 0x00; expected magic 0xE9"):
            _flash(rom, data, address=0x200000)
        assert rom.commands == []  # refused before opening the port
        with pytest.raises(EspImageError, match="not 4 KiB aligned"):
            _flash(rom, micropython_like(16 * 1024), address=0x1800)
        assert rom.commands == []
        _flash(rom, data, address=0x200000, force=True, after="no-reset")
    assert bytes(rom.flash[0x200000 : 0x200000 + len(data)]) == data


def test_image_beyond_the_flash_chip_is_refused_by_the_rom() -> None:
    # The flash chip claims 8 MB in its JEDEC id but only 4 MB exist: esptool lets the write
    # through, the ROM refuses the erase of a region past the end.
    with SimEspRom(jedec_id=0x1740EF) as rom, pytest.raises(EspWriteError, match="0106"):
        _flash(rom, micropython_like(64 * 1024), address=0x3F0000)
    assert (FLASH_DEFL_BEGIN, 0x06) in rom.errors and rom.erased == []


def test_dead_port_times_out_within_a_bound() -> None:
    master, slave = os.openpty()  # a port with nothing behind it
    try:
        t0 = time.monotonic()
        with pytest.raises(EspConnectError, match=r"no ESP ROM loader on /dev/.*download mode"):
            flash_esp32(os.ttyname(slave), micropython_like(16 * 1024), before="no-reset", connect_attempts=2)
        assert time.monotonic() - t0 < 4.0
    finally:
        os.close(master)
        os.close(slave)
    with pytest.raises(EspConnectError, match="/dev/nonexistent-esp"):
        flash_esp32("/dev/nonexistent-esp", micropython_like(16 * 1024), before="no-reset")
