"""UF2: layout per the spec, round trips, and refusal of wrong-family images."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from board_tools.flash import uf2


def test_block_layout_by_the_spec() -> None:
    image = bytes(range(256)) * 3
    data = uf2.encode(image, "RP2040")
    assert len(data) == 3 * 512
    m0, m1, flags, addr, size, no, count, fam = struct.unpack_from("<IIIIIIII", data, 512)
    assert (m0, m1) == (0x0A324655, 0x9E5D5157) and data[:4] == b"UF2\n"
    assert flags == 0x2000 and fam == 0xE48BFF56  # family ID present, RP2040
    assert (addr, size, no, count) == (0x10000100, 256, 1, 3)
    assert struct.unpack_from("<I", data, 1024 - 4)[0] == 0x0AB16F30


def test_round_trip_and_family() -> None:
    image = bytes((i * 7) & 0xFF for i in range(1000))
    start, back, family = uf2.decode(uf2.encode(image, "SAMD51", base=0x4000), expect_family="SAMD51")
    assert (start, back, family) == (0x4000, image, "SAMD51")


def test_wrong_family_is_refused(tmp_path: Path) -> None:
    data = uf2.encode(b"\x00" * 300, "RP2040")
    with pytest.raises(uf2.Uf2Error, match="refusing"):
        uf2.decode(data, expect_family="SAMD51")
    drive = tmp_path / "PYCUBEDBOOT"
    drive.mkdir()
    with pytest.raises(uf2.Uf2Error):
        uf2.flash_to_drive(data, drive, "SAMD51")
    assert not (drive / "firmware.uf2").exists()
    (drive / "INFO_UF2.TXT").write_text("UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n")
    with pytest.raises(uf2.Uf2Error, match="does not look like"):  # right image, wrong board plugged in
        uf2.flash_to_drive(uf2.encode(b"\x00" * 300, "SAMD51"), drive, "SAMD51")
    rp = tmp_path / "RPI-RP2"
    rp.mkdir()
    # what the RP2040 boot ROM writes (verbatim)
    (rp / "INFO_UF2.TXT").write_text("UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n")
    assert uf2.flash_to_drive(data, rp, "RP2040").read_bytes() == data


def test_corrupt_files_are_rejected() -> None:
    data = bytearray(uf2.encode(b"\xaa" * 600, "RP2040"))
    with pytest.raises(uf2.Uf2Error, match="multiple of 512"):
        uf2.decode(bytes(data[:-1]))
    bad = bytearray(data)
    bad[0] ^= 1
    with pytest.raises(uf2.Uf2Error, match="magic"):
        uf2.decode(bytes(bad))
    with pytest.raises(uf2.Uf2Error, match="missing"):
        uf2.decode(bytes(data[:512]) + bytes(data[:512]))  # block 0 twice, block 1 missing
