"""DfuSe flashing through pyusb against the simulated DFU 1.1 bootloader backend."""

from __future__ import annotations

import pytest
import usb.core

from board_tools.flash.dfu import DfuError, DfuSeDevice
from board_tools.flash.sim_dfu import DFU_ERROR, DFU_IDLE, SimDfuBackend, SimDfuDevice

BASE = 0x08000000


def _open(sim: SimDfuDevice) -> DfuSeDevice:
    dev = usb.core.find(idVendor=0x0483, idProduct=0xDF11, backend=SimDfuBackend(sim))
    assert dev is not None
    return DfuSeDevice(dev, transfer_size=sim.xfer, page_size=sim.page)


def test_flash_erase_download_verify_leave() -> None:
    sim = SimDfuDevice()
    image = bytes((i * 31 + 7) & 0xFF for i in range(5000))
    _open(sim).flash(BASE + 0x4000, image)
    off = 0x4000
    assert bytes(sim.flash[off : off + len(image)]) == image
    assert sim.flash[off + len(image)] == 0xFF  # rest of the erased page
    assert sim.flash[0] == 0x00  # pages outside the image were not touched
    assert sim.left  # manifestation started


def test_unerased_flash_is_a_programming_error() -> None:
    sim = SimDfuDevice()
    dfu = _open(sim)
    with pytest.raises(DfuError, match="errPROG"):
        dfu.download(BASE, b"\x12\x34")
    assert sim.state == DFU_IDLE  # the client cleared the error


def test_write_error_and_bad_address_are_reported() -> None:
    sim = SimDfuDevice()
    sim.fail_writes_at = BASE + 100
    with pytest.raises(DfuError, match="errWRITE") as info:
        _open(sim).flash(BASE, bytes(300))
    assert info.value.status == 3
    sim = SimDfuDevice()
    with pytest.raises(DfuError, match="errADDRESS"):
        _open(sim).set_address(0x20000000)


def test_verify_catches_flash_that_does_not_hold() -> None:
    sim = SimDfuDevice()
    dfu = _open(sim)
    real_upload = dfu.upload

    def flaky_upload(address: int, length: int) -> bytes:
        sim.flash[10] ^= 0x01  # a bit that did not stick
        return real_upload(address, length)

    dfu.upload = flaky_upload  # type: ignore[method-assign]
    with pytest.raises(DfuError, match="verify failed at 0x0800000A"):
        dfu.flash(BASE, bytes(range(64)), leave=False)
    assert not sim.left


def test_stall_and_error_state_recovery() -> None:
    sim = SimDfuDevice()
    dfu = _open(sim)
    sim.stall_next = True
    with pytest.raises(DfuError, match="stalled"):
        dfu.set_address(BASE)
    sim.state = DFU_ERROR
    sim.status = 14
    dfu.ensure_idle()
    assert sim.state == DFU_IDLE
    dfu.flash(BASE, b"ok", leave=False)
    assert bytes(sim.flash[:2]) == b"ok"


def test_oversized_block_stalls() -> None:
    sim = SimDfuDevice(xfer=64)
    dfu = DfuSeDevice(usb.core.find(idVendor=0x0483, backend=SimDfuBackend(sim)), transfer_size=128)
    with pytest.raises(DfuError, match="stalled"):
        dfu.flash(BASE, bytes(200))
