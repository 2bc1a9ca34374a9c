"""UF2 images (microsoft/uf2): 512-byte self-contained blocks, each naming its target address.

Block: magic0 0x0A324655 ("UF2\\n"), magic1 0x9E5D5157, flags, target address, payload size,
block number, number of blocks, family ID (flag 0x2000) or file size, 476 data bytes,
magic end 0x0AB16F30. A bootloader drops blocks of a foreign family, so a wrong-family image
"flashes" silently and does nothing (pico-feedback#488): we refuse it before copying.
"""

from __future__ import annotations

import struct
from pathlib import Path

from board_tools.errors import BoardToolsError

MAGIC0 = 0x0A324655
MAGIC1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_NOT_MAIN_FLASH = 0x00000001
FLAG_FAMILY_ID = 0x00002000
BLOCK = 512
DATA_AREA = 476

FAMILIES = {  # utils/uf2families.json
    "RP2040": 0xE48BFF56,
    "RP2350-ARM-S": 0xE48BFF59,
    "SAMD21": 0x68ED2B88,
    "SAMD51": 0x55114460,
    "STM32F4": 0x57755A57,
    "STM32F7": 0x53B80F00,
    "ESP32S2": 0xBFDD4EEE,
}
FLASH_BASE = {"RP2040": 0x10000000, "SAMD51": 0x00000000, "SAMD21": 0x00000000}


class Uf2Error(BoardToolsError, ValueError):
    pass


def encode(image: bytes, family: str, base: int | None = None, payload: int = 256) -> bytes:
    if family not in FAMILIES:
        raise Uf2Error("unknown family %r; known: %s" % (family, ", ".join(sorted(FAMILIES))))
    if not 0 < payload <= DATA_AREA:
        raise Uf2Error("payload size must be 1..476")
    base = FLASH_BASE.get(family, 0) if base is None else base
    nblocks = (len(image) + payload - 1) // payload
    out = bytearray()
    for i in range(nblocks):
        chunk = image[i * payload : (i + 1) * payload]
        header = struct.pack(
            "<IIIIIIII",
            MAGIC0,
            MAGIC1,
            FLAG_FAMILY_ID,
            base + i * payload,
            len(chunk),
            i,
            nblocks,
            FAMILIES[family],
        )
        out += header + chunk + bytes(DATA_AREA - len(chunk)) + struct.pack("<I", MAGIC_END)
    return bytes(out)


def decode(data: bytes, expect_family: str | None = None) -> tuple[int, bytes, str | None]:
    """(start address, flash image, family) of a UF2 file; raises Uf2Error on any inconsistency."""
    if len(data) == 0 or len(data) % BLOCK:
        raise Uf2Error("UF2 size %d is not a multiple of 512" % len(data))
    want = FAMILIES.get(expect_family) if expect_family else None
    if expect_family and want is None:
        raise Uf2Error("unknown family %r" % expect_family)
    blocks = []
    families = set()
    total = None
    for n in range(len(data) // BLOCK):
        blk = data[n * BLOCK : (n + 1) * BLOCK]
        m0, m1, flags, addr, size, no, count, fam = struct.unpack_from("<IIIIIIII", blk)
        (end,) = struct.unpack_from("<I", blk, BLOCK - 4)
        if m0 != MAGIC0 or m1 != MAGIC1 or end != MAGIC_END:
            raise Uf2Error("block %d: bad magic" % n)
        if size > DATA_AREA:
            raise Uf2Error("block %d: payload %d exceeds 476" % (n, size))
        if flags & FLAG_NOT_MAIN_FLASH:
            continue
        if total is None:
            total = count
        elif count != total:
            raise Uf2Error("block %d: block count %d, earlier blocks said %d" % (n, count, total))
        if flags & FLAG_FAMILY_ID:
            families.add(fam)
        blocks.append((no, addr, bytes(blk[32 : 32 + size])))
    if want is not None and families != {want}:
        names = [k for k, v in FAMILIES.items() if v in families] or [
            "none" if not families else hex(min(families))
        ]
        raise Uf2Error(
            "image is for family %s, the board is %s: refusing to flash" % ("/".join(names), expect_family)
        )
    blocks.sort()
    if [b[0] for b in blocks] != list(range(total or 0)):
        raise Uf2Error("blocks missing or duplicated")
    start = blocks[0][1]
    image = bytearray()
    for _, addr, chunk in blocks:
        if addr != start + len(image):
            raise Uf2Error("non-contiguous block at 0x%08X" % addr)
        image += chunk
    family = next((k for k, v in FAMILIES.items() if {v} == families), None)
    return start, bytes(image), family


def flash_to_drive(uf2: bytes, drive: Path, board_family: str) -> Path:
    """Copy a checked image to a mounted bootloader drive (RPI-RP2 / PYCUBEDBOOT ...)."""
    decode(uf2, expect_family=board_family)
    check_drive(drive, board_family)
    target = drive / "firmware.uf2"
    try:
        target.write_bytes(uf2)
    except OSError as exc:
        raise Uf2Error("cannot write %s: %s" % (target, exc.strerror or exc)) from None
    return target


def check_drive(drive: Path, board_family: str) -> str:
    """The drive's INFO_UF2.TXT, if it is a UF2 bootloader drive of this family; Uf2Error otherwise.

    Every UF2 bootloader exposes INFO_UF2.TXT on its drive; a plain folder (or the board's
    CIRCUITPY / MicroPython drive) has none, and a file copied there flashes nothing."""
    info = drive / "INFO_UF2.TXT"
    try:
        text = info.read_text(errors="replace")
    except FileNotFoundError:
        raise Uf2Error(
            "%s is not a UF2 bootloader drive (no INFO_UF2.TXT): put the board in bootloader mode "
            "(hold BOOTSEL/double-tap RESET) and pass the drive it mounts, e.g. /media/$USER/RPI-RP2" % drive
        ) from None
    except OSError as exc:
        raise Uf2Error("cannot read %s: %s" % (info, exc.strerror or exc)) from None
    # what each bootloader writes there: the RP2040 boot ROM says "Board-ID: RPI-RP2", the SAMD51
    # and STM32 UF2 bootloaders name their chip in Board-ID
    token = {"RP2040": "RPI-RP2", "RP2350-ARM-S": "RP2350"}.get(board_family, board_family.split("-")[0])
    if token not in text:
        board_id = next((ln.strip() for ln in text.splitlines() if ln.startswith("Board-ID")), "no Board-ID")
        raise Uf2Error(
            "%s does not look like a %s bootloader (INFO_UF2.TXT: %s); pass --family for that board"
            % (drive, board_family, board_id)
        )
    return text
