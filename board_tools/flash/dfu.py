"""USB DFU 1.1 with ST's DfuSe extensions, over pyusb: erase, download, read-back verify, leave.

    dev = usb.core.find(idVendor=0x0483, idProduct=0xDF11)
    DfuSeDevice(dev).flash(0x08000000, firmware_bytes)

Every GETSTATUS answer is checked; an error status (errWRITE, errADDRESS, ...) or a stalled
request raises DfuError naming the request, the state and the status. `flash` reads the
written range back with UPLOAD and compares it byte for byte (pydfu does not), then leaves
DFU mode so the new firmware starts.
"""

from __future__ import annotations

import struct
import time

import usb.core

from board_tools.errors import BoardToolsError

DETACH, DNLOAD, UPLOAD, GETSTATUS, CLRSTATUS, GETSTATE, ABORT = range(7)
STATE_NAMES = (
    "appIDLE",
    "appDETACH",
    "dfuIDLE",
    "dfuDNLOAD-SYNC",
    "dfuDNBUSY",
    "dfuDNLOAD-IDLE",
    "dfuMANIFEST-SYNC",
    "dfuMANIFEST",
    "dfuMANIFEST-WAIT-RESET",
    "dfuUPLOAD-IDLE",
    "dfuERROR",
)
STATUS_NAMES = (
    "OK",
    "errTARGET",
    "errFILE",
    "errWRITE",
    "errERASE",
    "errCHECK_ERASED",
    "errPROG",
    "errVERIFY",
    "errADDRESS",
    "errNOTDONE",
    "errFIRMWARE",
    "errVENDOR",
    "errUSBR",
    "errPOR",
    "errUNKNOWN",
    "errSTALLEDPKT",
)
DFU_IDLE, DNLOAD_IDLE, UPLOAD_IDLE, DFU_ERROR = 2, 5, 9, 10
DNBUSY, MANIFEST = 4, 7
OUT = 0x21  # class request, interface recipient, host to device
IN = 0xA1
SET_ADDRESS = 0x21
ERASE = 0x41


class DfuError(BoardToolsError):
    def __init__(self, what: str, state: int | None = None, status: int | None = None) -> None:
        detail = what
        if state is not None:
            detail += " (state %s, status %s)" % (_name(STATE_NAMES, state), _name(STATUS_NAMES, status))
        super().__init__(detail)
        self.state = state
        self.status = status


def _name(names: tuple[str, ...], i: int | None) -> str:
    return names[i] if i is not None and 0 <= i < len(names) else str(i)


class DfuSeDevice:
    def __init__(
        self,
        dev,
        interface: int = 0,
        transfer_size: int = 2048,
        timeout_ms: int = 4000,
        page_size: int = 2048,
    ) -> None:
        self.dev = dev
        self.intf = interface
        self.xfer = transfer_size
        self.timeout = timeout_ms
        self.page_size = page_size

    # --- raw requests --------------------------------------------------------------------------
    def _out(self, request: int, value: int, data: bytes = b"") -> None:
        try:
            self.dev.ctrl_transfer(OUT, request, value, self.intf, data, self.timeout)
        except usb.core.USBError as exc:
            raise DfuError("request %d stalled: %s" % (request, exc)) from exc

    def get_status(self) -> tuple[int, int, int]:
        """(status, poll timeout ms, state)."""
        try:
            raw = bytes(self.dev.ctrl_transfer(IN, GETSTATUS, 0, self.intf, 6, self.timeout))
        except usb.core.USBError as exc:
            raise DfuError("GETSTATUS stalled: %s" % exc) from exc
        if len(raw) != 6:
            raise DfuError("GETSTATUS returned %d bytes, expected 6" % len(raw))
        return raw[0], raw[1] | raw[2] << 8 | raw[3] << 16, raw[4]

    def clear_status(self) -> None:
        self._out(CLRSTATUS, 0)

    def abort(self) -> None:
        self._out(ABORT, 0)

    def _wait_idle(self, what: str, want: tuple[int, ...] = (DFU_IDLE, DNLOAD_IDLE)) -> int:
        deadline = time.monotonic() + self.timeout / 1000
        while True:
            status, poll_ms, state = self.get_status()
            if status != 0 or state == DFU_ERROR:
                self.clear_status()
                raise DfuError(what + " failed", state, status)
            if state in want:
                return state
            if time.monotonic() > deadline:
                raise DfuError(what + " timed out", state, status)
            time.sleep(min(poll_ms, 1000) / 1000)

    def ensure_idle(self) -> None:
        """Bring a device left in dfuERROR or mid-transfer back to dfuIDLE."""
        status, _, state = self.get_status()
        if state == DFU_ERROR:
            self.clear_status()
        elif state != DFU_IDLE:
            self.abort()
        status, _, state = self.get_status()
        if state != DFU_IDLE:
            raise DfuError("device not idle", state, status)

    # --- DfuSe commands ------------------------------------------------------------------------
    def _command(self, body: bytes, what: str) -> None:
        self._out(DNLOAD, 0, body)
        self._wait_idle(what)

    def set_address(self, address: int) -> None:
        self._command(bytes((SET_ADDRESS,)) + struct.pack("<I", address), "set address 0x%08X" % address)

    def erase_page(self, address: int) -> None:
        self._command(bytes((ERASE,)) + struct.pack("<I", address), "erase page 0x%08X" % address)

    def mass_erase(self) -> None:
        self._command(bytes((ERASE,)), "mass erase")

    def download(self, address: int, data: bytes) -> None:
        for off in range(0, len(data), self.xfer):
            self.set_address(address + off)
            self._out(DNLOAD, 2, data[off : off + self.xfer])
            self._wait_idle("write at 0x%08X" % (address + off))

    def upload(self, address: int, length: int) -> bytes:
        out = bytearray()
        for off in range(0, length, self.xfer):
            self.abort()  # leave dfuUPLOAD-IDLE: DNLOAD (set address) is only allowed from idle states
            self.set_address(address + off)
            self.abort()  # DfuSe: UPLOAD starts from dfuIDLE
            n = min(self.xfer, length - off)
            try:
                chunk = bytes(self.dev.ctrl_transfer(IN, UPLOAD, 2, self.intf, n, self.timeout))
            except usb.core.USBError as exc:
                raise DfuError("UPLOAD at 0x%08X stalled: %s" % (address + off, exc)) from exc
            if len(chunk) != n:
                raise DfuError("UPLOAD at 0x%08X returned %d of %d bytes" % (address + off, len(chunk), n))
            out += chunk
        self.abort()
        return bytes(out)

    def leave(self, address: int) -> None:
        """Jump to the application: set address, then a zero-length DNLOAD starts manifestation."""
        self.set_address(address)
        self._out(DNLOAD, 0, b"")
        try:
            self.get_status()  # the device may reset before answering: that is success
        except DfuError:
            pass

    def flash(self, address: int, image: bytes, verify: bool = True, leave: bool = True) -> None:
        self.ensure_idle()
        for page in range(address - address % self.page_size, address + len(image), self.page_size):
            self.erase_page(page)
        self.download(address, image)
        if verify:
            back = self.upload(address, len(image))
            if back != image:
                first = next(i for i in range(len(image)) if back[i] != image[i])
                raise DfuError(
                    "verify failed at 0x%08X: wrote 0x%02X, read 0x%02X"
                    % (address + first, image[first], back[first])
                )
        if leave:
            self.leave(address)
