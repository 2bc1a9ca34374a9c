"""Flash MicroPython firmware to ESP32-family boards through esptool's library API.

    result = flash_esp32("/dev/ttyUSB0", "ESP32_GENERIC-20250415-v1.25.0.bin")

The image is checked before the port is opened: it must start with the ESP image magic
0xE9 and carry the 16-byte extended header; its chip id (offset 12) must name the chip the
ROM loader reports, so an ESP32-S3 build is refused on an ESP32 before anything is erased.
`force=True` skips these image checks (raw data such as a filesystem image) and esptool's
own safety checks, but never the board check: the board must be an ESP32-family chip.

esptool talks to the ROM loader only (no RAM stub): FLASH_BEGIN erases whole 4 KiB sectors,
so the address must be sector aligned. Data go deflate-compressed by default (the ESP32 ROM
inflates); esptool's write_flash always MD5-checks the padded range it wrote (verify=False
cannot turn that off), and `verify=True` adds an MD5 of exactly [address, address + len(image)).

before: "default-reset" pulses DTR/RTS (auto-reset circuit of dev boards) to enter the
loader; "no-reset" expects a board already held in download mode (BOOT low at reset), and
is the only mode a pty-backed simulator can use. after: "hard-reset" pulses RTS (on a port
without modem lines, e.g. a pty, it is skipped with a warning and FlashResult.reset is
False), "soft-reset" asks the ROM to run the flashed code (FLASH_END), "no-reset" stays in
the loader.

esptool logs through a process-wide logger; while a flash runs it is pointed at `log`, so
two flashes must not run in parallel threads of one process. One esptool warning escapes
it: "Chip was NOT reset" when before="default-reset" meets a port without DTR/RTS goes to
esptool's own console, once per process.
"""

from __future__ import annotations

import errno
import hashlib
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import serial
from esp_pylib.logger import EspLog, EspLogBase
from esptool.cmds import attach_flash, detect_chip, reset_chip, write_flash
from esptool.loader import ESPLoader
from esptool.targets import ROM_LIST
from esptool.util import FatalError

from board_tools.errors import BoardToolsError

ESP_IMAGE_MAGIC = 0xE9
HEADER_LEN = 24  # 8-byte common header + 16-byte extended header
SECTOR = 0x1000
ROM_BAUD = 115200
BEFORE_MODES = ("default-reset", "no-reset")
AFTER_MODES = ("hard-reset", "soft-reset", "no-reset")

# Image chip id -> chip name, from esptool's targets (ESP8266 images carry no chip id).
CHIP_IDS: dict[int, str] = {
    cls.IMAGE_CHIP_ID: cls.CHIP_NAME for cls in ROM_LIST if getattr(cls, "IMAGE_CHIP_ID", None) is not None
}


class EspFlashError(BoardToolsError):
    """Base of every failure of flash_esp32; the message says what was (not) done."""


class EspImageError(EspFlashError):
    """The image was refused before touching the board (not an ESP image, wrong size or address)."""


class EspChipError(EspFlashError):
    """Board and image do not match (wrong chip, not an ESP32-family board, chip revision)."""


class EspConnectError(EspFlashError):
    """No ROM loader answered, or the serial port failed."""


class EspWriteError(EspFlashError):
    """The ROM loader refused a command while erasing or writing."""


class EspVerifyError(EspFlashError):
    """The flash does not hold the image after writing."""


@dataclass
class EspImageInfo:
    chip_id: int | None  # None with force=True on data that is no ESP image
    chip: str | None
    segments: int
    min_rev_full: int
    max_rev_full: int


@dataclass
class FlashResult:
    chip: str
    description: str
    mac: str
    address: int
    size: int
    md5: str
    seconds: float
    reset: bool  # the board was told to start the new firmware (False: reset it by hand)
    log: list[str] = field(default_factory=list)


def inspect_image(image: bytes, force: bool = False) -> EspImageInfo:
    """Parse the ESP image header; refuse what is not one unless force."""
    if len(image) == 0:
        raise EspImageError("image is empty")
    if image[0] != ESP_IMAGE_MAGIC or len(image) < HEADER_LEN:
        if not force:
            what = "first byte 0x%02X" % image[0] if image[0] != ESP_IMAGE_MAGIC else "%d bytes" % len(image)
            raise EspImageError(
                "not an ESP firmware image (%s; expected magic 0xE9 and a %d-byte header): refusing "
                "to flash; use force to write raw data" % (what, HEADER_LEN)
            )
        return EspImageInfo(None, None, 0, 0, 0)
    segments = image[1]
    chip_id, _min_rev, min_full, max_full = struct.unpack_from("<HBHH", image, 12)
    append_digest = image[23]
    chip = CHIP_IDS.get(chip_id)
    if not force:
        if chip is None:
            raise EspImageError("image header names unknown chip id %d: refusing to flash" % chip_id)
        if append_digest not in (0, 1) or not 0 < segments <= 16:
            raise EspImageError(
                "image header is corrupt (%d segments, hash flag %d): refusing to flash"
                % (segments, append_digest)
            )
    return EspImageInfo(chip_id, chip, segments, min_full, max_full)


class _Relay(EspLogBase):
    """esptool's logger, forwarding whole lines to a callback and keeping them."""

    def __init__(self, sink: Callable[[str], None] | None) -> None:
        self.sink = sink
        self.lines: list[str] = []
        self._partial = ""
        self._next_pct = 0

    def _emit(self, text: str) -> None:
        text = self._partial + text
        *done, self._partial = text.split("\n")
        for line in done:
            line = line.rstrip()
            if line:
                self.lines.append(line)
                if self.sink is not None:
                    self.sink(line)

    def print(self, *args: Any, **kwargs: Any) -> None:
        self._emit(kwargs.get("sep", " ").join(str(a) for a in args) + kwargs.get("end", "\n"))

    def _tagged(self, tag: str, args: tuple[Any, ...]) -> None:
        self.finish()  # "Connecting..." is printed without a newline; a note gets its own line
        self._emit(tag + " ".join(str(a) for a in args) + "\n")

    def note(self, *args: Any) -> None:
        self._tagged("Note: ", args)

    def warn(self, *args: Any, suggestion: str | None = None) -> None:
        self._tagged("Warning: ", args)

    def err(self, *args: Any, suggestion: str | None = None) -> None:
        self._tagged("Error: ", args)

    def hint(self, *args: Any) -> None:
        self.print(*args)

    def debug(self, *args: Any) -> None:
        pass

    def set_verbosity(self, mode: int | str) -> None:
        pass

    def progress_bar(
        self, cur_iter: int, total_iters: int, prefix: str = "", suffix: str = "", bar_length: int = 30
    ) -> None:
        pct = 100 * cur_iter // max(total_iters, 1)
        if pct >= self._next_pct:  # a line per quarter, not per 1 KiB block
            self._next_pct = pct // 25 * 25 + 25
            self._emit("%s %d%%\n" % (prefix.strip(), pct))

    def finish(self) -> None:
        if self._partial:
            self._emit("\n")


def _has_modem_lines(port: serial.Serial) -> bool:
    """Whether RTS can reach the board. esptool only warns (once per process, on its own
    console) when it cannot, so a pty or bare UART would report a reset that never happened."""
    try:
        import fcntl
        import termios

        fcntl.ioctl(port.fileno(), termios.TIOCMGET, struct.pack("I", 0))  # reads, changes nothing
    except (ImportError, AttributeError, ValueError):
        return True  # not a POSIX tty we can ask: let esptool try
    except OSError as exc:
        return exc.errno not in (errno.ENOTTY, errno.EINVAL)
    return True


def _load(image_path_or_bytes: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(image_path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(image_path_or_bytes)
    try:
        with open(image_path_or_bytes, "rb") as f:
            return f.read()
    except OSError as exc:
        raise EspImageError("cannot read image %s: %s" % (image_path_or_bytes, exc)) from exc


def _connect(port: str, before: str, attempts: int) -> ESPLoader:
    try:
        return detect_chip(port, ROM_BAUD, before, connect_attempts=attempts)
    except FatalError as exc:
        hint = "" if before != "no-reset" else " (is the board in download mode: BOOT held low at reset?)"
        raise EspConnectError("no ESP ROM loader on %s%s: %s" % (port, hint, _first_line(exc))) from exc
    except (serial.SerialException, OSError) as exc:
        raise EspConnectError("cannot use %s: %s" % (port, exc)) from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_board(esp: ESPLoader, info: EspImageInfo, force: bool) -> None:
    if not esp.CHIP_NAME.startswith("ESP32"):
        raise EspChipError("board is %s, not an ESP32-family chip: refusing to flash" % esp.CHIP_NAME)
    if force or info.chip_id is None or info.chip_id == esp.IMAGE_CHIP_ID:
        return
    raise EspChipError(
        "image is for %s (chip id %d), the board is %s (chip id %d): refusing to flash"
        % (info.chip or "unknown chip", info.chip_id, esp.CHIP_NAME, esp.IMAGE_CHIP_ID)
    )


def _mac(esp: ESPLoader) -> str:
    mac = esp.read_mac()
    return ":".join("%02x" % b for b in mac) if mac else "?"


def flash_esp32(
    port: str,
    image_path_or_bytes: str | os.PathLike[str] | bytes,
    address: int = 0x1000,
    baud: int = 460800,
    verify: bool = True,
    log: Callable[[str], None] | None = None,
    force: bool = False,
    compress: bool = True,
    before: str = "default-reset",
    after: str = "hard-reset",
    connect_attempts: int = 7,
) -> FlashResult:
    """Write an ESP firmware image at `address` of the board's SPI flash and check it.

    0x1000 is where the ESP32 (original) boots its second-stage bootloader, so MicroPython's
    combined ESP32 .bin goes there; ESP32-S3/C3 builds go to 0x0. Each failure raises an
    EspFlashError subclass; refusals (image, chip) happen before any erase.
    """
    if before not in BEFORE_MODES or after not in AFTER_MODES:
        raise ValueError("before must be one of %s, after one of %s" % (BEFORE_MODES, AFTER_MODES))
    image = _load(image_path_or_bytes)
    info = inspect_image(image, force=force)
    if address % SECTOR:
        raise EspImageError(
            "address 0x%X is not 4 KiB aligned: the ROM loader erases whole sectors, so bytes before it "
            "would be lost" % address
        )
    relay = _Relay(log)
    saved = EspLog.instance
    EspLog.instance = relay  # esptool's `log` proxy reads this singleton
    t0 = time.monotonic()
    try:
        esp = _connect(port, before, connect_attempts)
        try:
            return _flash(esp, image, info, address, baud, verify, force, compress, after, relay, t0)
        finally:
            esp._port.close()
    finally:
        relay.finish()
        EspLog.instance = saved


def _flash(
    esp: ESPLoader,
    image: bytes,
    info: EspImageInfo,
    address: int,
    baud: int,
    verify: bool,
    force: bool,
    compress: bool,
    after: str,
    relay: _Relay,
    t0: float,
) -> FlashResult:
    _check_board(esp, info, force)
    try:
        description = esp.get_chip_description()
        mac = _mac(esp)
        relay.print("Chip %s, MAC %s" % (description, mac))
        if baud != ROM_BAUD:
            esp.change_baud(baud)
        attach_flash(esp)
    except FatalError as exc:
        raise EspConnectError("setting up %s failed: %s" % (esp.CHIP_NAME, _first_line(exc))) from exc
    except (serial.SerialException, OSError) as exc:
        raise EspConnectError("serial port failed: %s" % exc) from exc

    end = address + len(image)
    want = hashlib.md5(image).hexdigest()
    try:
        write_flash(
            esp,
            [(address, image)],
            flash_mode="keep",  # never rewrite the bootloader header the image was built with
            flash_freq="keep",
            flash_size="keep",
            compress=compress,
            no_compress=not compress,
            force=force,
        )
    except FatalError as exc:
        text = str(exc)
        if "MD5" in text or "flash region is empty" in text:
            got = _flash_md5(esp, address, len(image))
            raise EspVerifyError(
                "verify failed: flash 0x%08X-0x%08X has MD5 %s, the image %s" % (address, end - 1, got, want)
            ) from exc
        if "will not fit" in text:
            raise EspImageError(_first_line(exc)) from exc
        if "requires chip revision" in text or " image. Use --force" in text:
            raise EspChipError(_first_line(exc)) from exc
        raise EspWriteError(
            "writing 0x%08X-0x%08X failed: %s" % (address, end - 1, _first_line(exc))
        ) from exc
    except (serial.SerialException, OSError) as exc:
        raise EspConnectError("serial port failed while writing: %s" % exc) from exc

    if verify:
        got = _flash_md5(esp, address, len(image))
        if got != want:
            raise EspVerifyError(
                "verify failed: flash 0x%08X-0x%08X has MD5 %s, the image %s" % (address, end - 1, got, want)
            )
        relay.print("Verified MD5 %s of 0x%08X-0x%08X" % (want, address, end - 1))
    reset = after != "no-reset"
    if after == "hard-reset" and not _has_modem_lines(esp._port):
        relay.warn("%s has no RTS line: the board was NOT reset; press EN/RESET to start it" % esp._port.port)
        reset = False
    elif reset:
        try:
            reset_chip(esp, after)
        except (FatalError, serial.SerialException, OSError) as exc:
            # The image is written and checked; only the restart did not happen.
            relay.warn("flash written, but %s failed: %s" % (after, _first_line(exc)))
            reset = False
    return FlashResult(
        chip=esp.CHIP_NAME,
        description=description,
        mac=mac,
        address=address,
        size=len(image),
        md5=want,
        seconds=time.monotonic() - t0,
        reset=reset,
        log=relay.lines,
    )


def _flash_md5(esp: ESPLoader, address: int, size: int) -> str:
    try:
        return str(esp.flash_md5sum(address, size))
    except (FatalError, serial.SerialException, OSError) as exc:
        raise EspVerifyError("could not read the MD5 of the written flash: %s" % _first_line(exc)) from exc
