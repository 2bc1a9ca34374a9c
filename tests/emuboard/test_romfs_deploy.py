"""Bundles that run a package in place from ROMFS, deployed to the emulated board's ROM partition
(real MicroPython: its VfsRom mounts what `vfs.rom_ioctl` wrote): the image is written once, checked
on the board, refused by a board without room for it, and a slot never runs against another image:
the deploy keeps the previous slot's image in its folder, which boot_select writes back on a
rollback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from board_tools.emuboard import EmulatedBoard
from board_tools.flash.deploy import RomfsPartitionError, deploy
from firmware_builds.boards import TARGETS
from firmware_builds.build import ROOT, build

MPREMOTE = Path(sys.executable).with_name("mpremote")

# flight.main in the shape of the real one: healthy -> mark_good, a heartbeat on the flight UART,
# and where its package came from
APP = """import boot_select, machine, emuboard, flight

def main():
    u = machine.UART(1)
    boot_select.mark_good()
    print("app: running from", flight.__file__)
    n = [0]
    def step():
        n[0] += 1
        if n[0] % 10 == 0:
            u.write(b"hb%d\\n" % n[0])
    emuboard.run_main(step, 10)
"""


def _source(root: Path, version: str) -> Path:
    for pkg in ("protocols", "hal", "flight"):
        (root / pkg).mkdir(parents=True, exist_ok=True)
        (root / pkg / "__init__.py").write_text("")
    (root / "flight" / "main.py").write_text(APP)
    (root / "flight" / "version.py").write_text("V = %r\n" % version)
    (root / "flight" / "table.py").write_text("T = %r\n" % (bytes(range(256)) * 24))  # a 6 KB image
    (root / "hal" / "util.py").write_text("X = 1\n")
    # what boot_select writes the partition with, from the slot
    (root / "hal" / "rom_partition.py").write_text((ROOT / "hal" / "rom_partition.py").read_text())
    return root


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The emulated bundle with flight in ROMFS (v1 and v2: another image), built by the real build."""
    base = tmp_path_factory.mktemp("romfs-bundles")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(TARGETS["emulated"], "romfs", {"packages": ("flight",), "partition": 16 * 1024})
        for v in ("v1", "v2"):
            build("emulated", base / v, root=_source(base / ("src-" + v), v))
            out[v] = base / v / "emulated"
    return out


@pytest.fixture
def board(tmp_path: Path) -> Iterator[EmulatedBoard]:
    with EmulatedBoard(tmp_path / "flash", log_console=True, rom_kb=16) as b:
        yield b


def heartbeat(port: str, timeout: float = 10.0) -> None:
    with serial.Serial(port, timeout=timeout) as uart:
        uart.reset_input_buffer()
        line = uart.readline()
    assert line.startswith(b"hb"), "no heartbeat within %s s (got %r)" % (timeout, line)


def test_the_image_is_written_once_and_the_app_runs_flight_from_rom(
    board: EmulatedBoard, bundles: dict[str, Path]
) -> None:
    assert board.uart_port
    said: list[str] = []
    r = deploy(board.port, bundles["v1"], log=said.append)
    assert [m for m in said if m.startswith("ROMFS: wrote and verified")], said
    assert not [f for f in r.uploaded if f.startswith("flight/")]  # not in the slot
    assert board.wait_console(rb"app: running from /rom/flight/__init__.mpy")
    heartbeat(board.uart_port)
    manifest = json.loads((bundles["v1"] / "manifest.json").read_text())
    image = (bundles["v1"] / "romfs.img").read_bytes()
    assert board.rom_file.read_bytes()[: len(image)] == image  # the partition kept across power cycles
    state = json.loads((board.flash_dir / "boot_state.json").read_text())
    assert state["slots"][r.slot]["romfs"] == [manifest["romfs"]["size"], manifest["romfs"]["sha256"]]
    # the same image again: the partition is left alone (flash wears), the slot still updates
    said.clear()
    mtime = board.rom_file.stat().st_mtime_ns
    deploy(board.port, bundles["v1"], log=said.append)
    assert [m for m in said if m.startswith("ROMFS: the partition already holds this image")], said
    assert board.rom_file.stat().st_mtime_ns == mtime
    heartbeat(board.uart_port)


def test_a_rollback_after_a_usb_deploy_writes_the_old_image_back(
    board: EmulatedBoard, bundles: dict[str, Path]
) -> None:
    assert board.uart_port
    deploy(board.port, bundles["v1"])
    said: list[str] = []
    r = deploy(board.port, bundles["v2"], log=said.append)  # rewrites the partition
    assert [m for m in said if m.startswith("ROMFS: slot %s keeps a copy of its image" % r.previous)], said
    heartbeat(board.uart_port)
    out = subprocess.run(
        [str(MPREMOTE), "connect", board.port, "exec", "import flight.version; print(flight.version.V)"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.stdout.split()[-1:] == ["v2"], out.stdout + out.stderr
    v1 = (bundles["v1"] / "romfs.img").read_bytes()
    assert (board.flash_dir / ("slot_" + r.previous) / "romfs.img").read_bytes() == v1
    # back to slot a (as a rollback leaves the pointer): boot_select writes its copy first
    state = json.loads((board.flash_dir / "boot_state.json").read_text())
    back = dict(state, active=r.previous, pending=None)
    (board.flash_dir / "boot_state.json").write_text(json.dumps(back))
    board.restart()
    assert board.wait_console(rb"boot_select: writing slot %s's ROMFS image" % r.previous.encode())
    heartbeat(board.uart_port)
    assert board.rom_file.read_bytes()[: len(v1)] == v1
    # slot b, without a copy of its image, never runs against slot a's
    (board.flash_dir / "boot_state.json").write_text(json.dumps(dict(state, pending=None)))
    board.restart()
    assert board.wait_console(
        rb"boot_select: slot %s failed: ImportError\(.the ROM partition does not hold ROMFS image "
        rb"[0-9a-f]{12}" % r.slot.encode()
    )


@pytest.mark.parametrize("rom_kb", [0, 4])
def test_a_board_without_room_for_the_image_is_refused_before_anything_is_written(
    tmp_path: Path, bundles: dict[str, Path], rom_kb: int
) -> None:
    with EmulatedBoard(tmp_path / "flash", rom_kb=rom_kb) as b:
        before = sorted(p.relative_to(b.flash_dir) for p in b.flash_dir.rglob("*"))
        with pytest.raises(
            RomfsPartitionError,
            match=r"ROM partition holds %d B: this bundle runs flight in place from a ROMFS partition"
            % (rom_kb * 1024),
        ):
            deploy(b.port, bundles["v1"])
        assert sorted(p.relative_to(b.flash_dir) for p in b.flash_dir.rglob("*")) == before
        assert not b.rom_file.exists() or set(b.rom_file.read_bytes()) <= {0xFF}


def test_a_bundle_whose_image_was_altered_is_refused(tmp_path: Path, bundles: dict[str, Path]) -> None:
    from board_tools.flash.deploy import BundleError

    bad = tmp_path / "bad"
    shutil.copytree(bundles["v1"], bad)
    img = bytearray((bad / "romfs.img").read_bytes())
    img[-1] ^= 1
    (bad / "romfs.img").write_bytes(bytes(img))
    with (
        EmulatedBoard(tmp_path / "flash", rom_kb=16) as b,
        pytest.raises(BundleError, match=r"romfs\.img does not match its manifest entry"),
    ):
        deploy(b.port, bad)
