"""A simulated STM32 DfuSe bootloader as a pyusb backend, so DFU code runs without hardware.

It implements the DFU 1.1 state machine (dfuIDLE, dfuDNLOAD-SYNC, dfuDNBUSY, dfuDNLOAD-IDLE,
dfuMANIFEST-SYNC, dfuUPLOAD-IDLE, dfuERROR), GETSTATUS poll timeouts, DfuSe set-address and
page/mass erase commands, flash that only clears bits (writing unerased flash is errPROG),
address checks (errADDRESS), stalls on protocol violations, and fault injection.

    backend = SimDfuBackend()
    dev = usb.core.find(idVendor=0x0483, idProduct=0xDF11, backend=backend)
"""

from __future__ import annotations

import struct
from types import SimpleNamespace

import usb.core
from usb.backend import IBackend

APP_IDLE, APP_DETACH, DFU_IDLE, DNLOAD_SYNC, DNBUSY, DNLOAD_IDLE = 0, 1, 2, 3, 4, 5
MANIFEST_SYNC, MANIFEST, MANIFEST_WAIT_RESET, UPLOAD_IDLE, DFU_ERROR = 6, 7, 8, 9, 10
OK, ERR_WRITE, ERR_ERASE, ERR_PROG, ERR_ADDRESS, ERR_UNKNOWN, ERR_STALLED = 0, 3, 4, 6, 8, 14, 15


class SimDfuDevice:
    def __init__(
        self, base: int = 0x08000000, size: int = 256 * 1024, page: int = 2048, xfer: int = 2048
    ) -> None:
        self.base = base
        self.flash = bytearray(b"\x00" * size)  # factory state: not erased, writes need an erase first
        self.page = page
        self.xfer = xfer
        self.state = DFU_IDLE
        self.status = OK
        self.pointer = base
        self.pending: bytes | None = None
        self.block = 0
        self.left = False
        self.fail_writes_at: int | None = None  # fault: the flash controller reports errWRITE here
        self.stall_next = False

    def _error(self, status: int) -> None:
        self.state = DFU_ERROR
        self.status = status

    def _in_flash(self, addr: int, n: int) -> bool:
        return self.base <= addr and addr + n <= self.base + len(self.flash)

    def _execute(self) -> None:
        """What happens while the device sits in dfuDNBUSY after a GETSTATUS."""
        data, block = self.pending or b"", self.block
        self.pending = None
        if block == 0:
            if not data:
                self.state = MANIFEST
                self.left = True
                return
            cmd = data[0]
            if cmd == 0x21 and len(data) == 5:
                (addr,) = struct.unpack("<I", data[1:])
                if not self._in_flash(addr, 1):
                    return self._error(ERR_ADDRESS)
                self.pointer = addr
            elif cmd == 0x41 and len(data) == 1:
                self.flash[:] = b"\xff" * len(self.flash)
            elif cmd == 0x41 and len(data) == 5:
                (addr,) = struct.unpack("<I", data[1:])
                if not self._in_flash(addr, 1) or (addr - self.base) % self.page:
                    return self._error(ERR_ADDRESS)
                off = addr - self.base
                self.flash[off : off + self.page] = b"\xff" * self.page
            else:
                return self._error(ERR_UNKNOWN)
        else:
            addr = self.pointer + (block - 2) * self.xfer
            if not self._in_flash(addr, len(data)):
                return self._error(ERR_ADDRESS)
            if self.fail_writes_at is not None and addr <= self.fail_writes_at < addr + len(data):
                return self._error(ERR_WRITE)
            off = addr - self.base
            for i, b in enumerate(data):
                if self.flash[off + i] & b != b:  # flash programming can only clear bits
                    return self._error(ERR_PROG)
                self.flash[off + i] = b
        self.state = DNLOAD_IDLE

    def control(self, req_type: int, request: int, value: int, data) -> int | bytes:
        if self.stall_next:
            self.stall_next = False
            raise usb.core.USBError("Pipe error", errno=32)
        if request == 1:  # DNLOAD
            if self.state not in (DFU_IDLE, DNLOAD_IDLE) or len(data) > self.xfer:
                self._error(ERR_STALLED)
                raise usb.core.USBError("Pipe error", errno=32)
            self.pending = bytes(data)
            self.block = value
            self.state = DNLOAD_SYNC if data or value else MANIFEST_SYNC
            return len(data)
        if request == 2:  # UPLOAD
            if self.state not in (DFU_IDLE, UPLOAD_IDLE) or value < 2:
                self._error(ERR_STALLED)
                raise usb.core.USBError("Pipe error", errno=32)
            addr = self.pointer + (value - 2) * self.xfer
            n = len(data)
            if not self._in_flash(addr, n):
                self._error(ERR_ADDRESS)
                raise usb.core.USBError("Pipe error", errno=32)
            self.state = UPLOAD_IDLE
            off = addr - self.base
            return bytes(self.flash[off : off + n])
        if request == 3:  # GETSTATUS
            if self.state in (DNLOAD_SYNC, MANIFEST_SYNC):
                self.state = DNBUSY
                reply = bytes((self.status, 5, 0, 0, self.state, 0))
                self._execute()
                return reply
            return bytes((self.status, 0, 0, 0, self.state, 0))
        if request == 4:  # CLRSTATUS
            if self.state == DFU_ERROR:
                self.state, self.status = DFU_IDLE, OK
            return 0
        if request == 5:  # GETSTATE
            return bytes((self.state,))
        if request == 6:  # ABORT
            if self.state != DFU_ERROR:
                self.state = DFU_IDLE
            return 0
        self._error(ERR_STALLED)
        raise usb.core.USBError("Pipe error", errno=32)


class SimDfuBackend(IBackend):
    """pyusb backend with one DFU device: VID 0x0483, PID 0xDF11 (the STM32 ROM bootloader)."""

    def __init__(self, device: SimDfuDevice | None = None) -> None:
        self.device = device or SimDfuDevice()

    def enumerate_devices(self):
        yield self.device

    def get_device_descriptor(self, dev):
        return SimpleNamespace(
            bLength=18,
            bDescriptorType=1,
            bcdUSB=0x0200,
            bDeviceClass=0,
            bDeviceSubClass=0,
            bDeviceProtocol=0,
            bMaxPacketSize0=64,
            idVendor=0x0483,
            idProduct=0xDF11,
            bcdDevice=0x2200,
            iManufacturer=0,
            iProduct=0,
            iSerialNumber=0,
            bNumConfigurations=1,
            address=1,
            bus=1,
            port_number=1,
            port_numbers=(1,),
            speed=2,
        )

    def get_configuration_descriptor(self, dev, config):
        return SimpleNamespace(
            bLength=9,
            bDescriptorType=2,
            wTotalLength=27,
            bNumInterfaces=1,
            bConfigurationValue=1,
            iConfiguration=0,
            bmAttributes=0xC0,
            bMaxPower=50,
            extra_descriptors=[],
        )

    def get_interface_descriptor(self, dev, intf, alt, config):
        return SimpleNamespace(
            bLength=9,
            bDescriptorType=4,
            bInterfaceNumber=0,
            bAlternateSetting=0,
            bNumEndpoints=0,
            bInterfaceClass=0xFE,
            bInterfaceSubClass=1,
            bInterfaceProtocol=2,
            iInterface=0,
            extra_descriptors=[],
        )

    def open_device(self, dev):
        return dev

    def close_device(self, dev_handle) -> None:
        pass

    def get_configuration(self, dev_handle) -> int:
        return 1

    def set_configuration(self, dev_handle, config_value) -> None:
        pass

    def claim_interface(self, dev_handle, intf) -> None:
        pass

    def release_interface(self, dev_handle, intf) -> None:
        pass

    def ctrl_transfer(self, dev_handle, bmRequestType, bRequest, wValue, wIndex, data, timeout) -> int:  # noqa: N803
        if bmRequestType & 0x80:  # IN: fill the caller's buffer
            reply = dev_handle.control(bmRequestType, bRequest, wValue, data)
            n = min(len(reply), len(data))
            for i in range(n):
                data[i] = reply[i]
            return n
        return dev_handle.control(bmRequestType, bRequest, wValue, data)
