"""An in-orbit update of the real flight bundle on the emulated board (real MicroPython, WebAssembly),
over its flight UART with a lossy channel in between (10% of the uplink lost, bits flipped at BER
1e-4 both ways): ground/bundle_uplink.py fetches the board's pointer and manifest, uplinks the one
changed module and the manifest by CFDP, stages, switches and reboots; boot_select then boots the
new slot on trial and flight.main reports it good. A bundle whose flight.main cannot start fails its
trial boots and the board rolls back to the slot that worked. The same with the flight package in the
board's ROM partition (as the samd51 flies it): the update uplinks a patch of the ROMFS image, the
board builds the new slot's copy, and boot_select writes the slot's image into the partition when it
boots it, the new one on trial and the old one again after a rollback."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from board_tools.emuboard import EmulatedBoard
from board_tools.flash.deploy import deploy
from firmware_builds import romfs
from firmware_builds.boards import TARGETS
from firmware_builds.build import ROOT, build, compile_one
from ground import romfs_patch
from ground.bundle_uplink import BundleUplink
from ground.file_transfer import FileTransfers
from ground.terminal import Terminal
from ground.transport import open_link
from ground.twin_ground import flip_bits


def _variant(base: Path, v1: Path, name: str, rel: str, tail: str) -> Path:
    """v1's bundle with one module rebuilt from its source plus `tail`, and its manifest entry
    with it, as the build writes them (building the whole bundle again takes a minute)."""
    out = base / name
    shutil.copytree(v1, out)
    src = base / ("src-" + name) / rel
    src.parent.mkdir(parents=True)
    src.write_text((ROOT / rel).read_text() + tail)
    dest_rel = rel[:-3] + ".mpy"
    compile_one(src, rel, out / dest_rel, None)
    manifest = json.loads((out / "manifest.json").read_text())
    data = (out / dest_rel).read_bytes()
    manifest["files"][dest_rel] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (out / "manifest.json").write_text(json.dumps(manifest, sort_keys=True, indent=1) + "\n")
    return out


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("update-bundles")
    build("emulated", base / "v1")
    v1 = base / "v1" / "emulated"
    return {
        "v1": v1,
        "v2": _variant(base, v1, "v2", "protocols/cuc.py", "\nUPDATED = 2  # v2: one module differs\n"),
        "broken": _variant(base, v1, "broken", "flight/main.py", "\nraise ImportError('a broken build')\n"),
    }


@pytest.fixture
def board(tmp_path: Path, bundles: dict[str, Path]) -> Iterator[EmulatedBoard]:
    with EmulatedBoard(tmp_path / "flash", uart_pty=True, log_console=True) as b:
        deploy(b.port, bundles["v1"], entry="flight.main", boot_timeout=120)
        b.wait_console(rb"flight: boot \d+, mode \d+, running", 60)
        yield b


def _campaign(board: EmulatedBoard, bundle: Path, downloads: Path) -> BundleUplink:
    link = open_link(board.uart_port)
    term = Terminal(t1_ms=1500)
    ft = FileTransfers(term, downloads=downloads)
    up = BundleUplink(term, ft, bundle, max_attempts=2)
    rnd = random.Random(2026)
    t0 = time.monotonic()
    term.start(0)
    try:
        while not up.done and time.monotonic() - t0 < 600:
            now = int((time.monotonic() - t0) * 1000)
            data = term.uplink(now)
            if data and rnd.random() >= 0.1:  # 10% of the uplink bursts lost
                link.write(flip_bits(data, 1e-4, rnd))
            down = link.read(0.02)
            if down:
                term.downlink(flip_bits(down, 1e-4, rnd), now)
            ft.poll(now)
            up.step(now)
    finally:
        link.close()
    assert up.done, "no end in 600 s: %s" % up.log
    return up


def test_an_update_lands_over_a_lossy_link_and_the_new_slot_reports_good(
    board: EmulatedBoard, bundles: dict[str, Path], tmp_path: Path
) -> None:
    since = len(board.console_log)
    up = _campaign(board, bundles["v2"], tmp_path / "ground")
    assert up.error is None, up.log
    # one module and the manifest's delta: the whole manifest.json would be about 14 KB
    assert up.plan is not None and up.plan.uplink == ("protocols/cuc.mpy", "manifest.delta.json")
    module = (bundles["v2"] / "protocols/cuc.mpy").stat().st_size
    assert up.plan.delta is not None and len(up.plan.delta) < 1000
    assert up.bytes_uplinked == module + len(up.plan.delta)
    slot = up.target.encode()  # the slot USB deploy did not use
    trial = board.wait_console(rb"boot_select: trying slot %s \(attempt 1/2\)" % slot, 60, since=since)
    board.wait_console(rb"boot_select: slot %s good" % slot, 60, since=trial.start())
    board.wait_console(rb"flight: boot \d+, mode \d+, running", 60, since=trial.start())


def test_a_broken_update_fails_its_trial_boots_and_rolls_back(
    board: EmulatedBoard, bundles: dict[str, Path], tmp_path: Path
) -> None:
    since = len(board.console_log)
    up = _campaign(board, bundles["broken"], tmp_path / "ground")
    assert up.error is None, up.log
    assert up.plan is not None and up.plan.uplink == ("flight/main.mpy", "manifest.delta.json")
    new, old = up.target.encode(), up.active.encode()
    back = board.wait_console(
        rb"boot_select: slot %s failed 2 boots, rolled back to %s" % (new, old), 120, since=since
    )
    board.wait_console(rb"boot_select: booting slot %s" % old, 60, since=back.start())
    board.wait_console(rb"flight: boot \d+, mode \d+, running", 60, since=back.start())


ROM_KB = 96  # the emulated bundle's flight package is about 72 KB of .mpy


def _rom_variant(base: Path, v1: Path, name: str, rel: str, tail: str) -> Path:
    """v1's ROMFS bundle with one module of its image rebuilt from its source plus `tail`: the image
    made again from v1's files and that module, and its manifest entry with it."""
    out = base / name
    shutil.copytree(v1, out)
    image = (v1 / romfs.IMAGE).read_bytes()
    stage = base / ("rom-" + name)
    for path, offset, size in romfs_patch.files(image):
        (stage / path).parent.mkdir(parents=True, exist_ok=True)
        (stage / path).write_bytes(image[offset : offset + size])
    src = base / ("src-" + name) / rel
    src.parent.mkdir(parents=True)
    src.write_text((ROOT / rel).read_text() + tail)
    compile_one(src, rel, stage / (rel[:-3] + ".mpy"), None)
    manifest = json.loads((out / "manifest.json").read_text())
    new, manifest["romfs"] = romfs.make_image(stage, ("flight",), ROM_KB * 1024)
    (out / romfs.IMAGE).write_bytes(new)
    (out / "manifest.json").write_text(json.dumps(manifest, sort_keys=True, indent=1) + "\n")
    return out


@pytest.fixture(scope="module")
def rom_bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("rom-update-bundles")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(TARGETS["emulated"], "romfs", {"packages": ("flight",), "partition": ROM_KB * 1024})
        build("emulated", base / "v1")
    v1 = base / "v1" / "emulated"
    return {
        "v1": v1,
        "v2": _rom_variant(base, v1, "v2", "flight/events.py", "\nUPDATED = 2  # v2: one module differs\n"),
        "broken": _rom_variant(
            base, v1, "broken", "flight/main.py", "\nraise ImportError('a broken build')\n"
        ),
    }


def _image_of(bundle: Path) -> bytes:
    return (bundle / romfs.IMAGE).read_bytes()


def test_a_romfs_update_rolls_back_when_broken_and_lands_when_good(
    tmp_path: Path, rom_bundles: dict[str, Path]
) -> None:
    with EmulatedBoard(tmp_path / "flash", uart_pty=True, log_console=True, rom_kb=ROM_KB) as board:
        deploy(board.port, rom_bundles["v1"], entry="flight.main", boot_timeout=120)
        board.wait_console(rb"flight: boot \d+, mode \d+, running", 60)
        v1 = _image_of(rom_bundles["v1"])
        assert board.rom_file.read_bytes()[: len(v1)] == v1
        # broken: its image goes into the partition for two trial boots, then the old one goes back
        since = len(board.console_log)
        up = _campaign(board, rom_bundles["broken"], tmp_path / "ground1")
        assert up.error is None, up.log
        assert up.plan is not None and up.plan.uplink == ("romfs.patch", "manifest.delta.json")
        new, old = up.target.encode(), up.active.encode()
        board.wait_console(rb"boot_select: writing slot %s's ROMFS image" % new, 60, since=since)
        back = board.wait_console(
            rb"boot_select: slot %s failed 2 boots, rolled back to %s" % (new, old), 120, since=since
        )
        board.wait_console(rb"boot_select: writing slot %s's ROMFS image" % old, 60, since=back.start())
        board.wait_console(rb"flight: boot \d+, mode \d+, running", 60, since=back.start())
        assert board.rom_file.read_bytes()[: len(v1)] == v1
        # good: one module of the image changed costs about that module on the link
        since = len(board.console_log)
        up = _campaign(board, rom_bundles["v2"], tmp_path / "ground2")
        assert up.error is None, up.log
        assert up.plan is not None and up.plan.rom_patch is not None and up.plan.delta is not None
        module = json.loads((rom_bundles["v2"] / "manifest.json").read_text())["romfs"]["files"]
        size = module["flight/events.mpy"]["size"]
        assert len(up.plan.rom_patch) < size + 200, "the patch: the module and a few records"
        assert up.bytes_uplinked == len(up.plan.rom_patch) + len(up.plan.delta)
        slot = up.target.encode()
        board.wait_console(rb"boot_select: writing slot %s's ROMFS image" % slot, 60, since=since)
        trial = board.wait_console(rb"boot_select: trying slot %s \(attempt 1/2\)" % slot, 60, since=since)
        board.wait_console(rb"boot_select: slot %s good" % slot, 60, since=trial.start())
        board.wait_console(rb"flight: boot \d+, mode \d+, running", 60, since=trial.start())
        v2 = _image_of(rom_bundles["v2"])
        assert board.rom_file.read_bytes()[: len(v2)] == v2
        # the slot's manifest, from the delta: the image's entries the ground plans the next patch from
        written = json.loads((board.flash_dir / ("slot_" + up.target) / "manifest.json").read_text())
        assert written["romfs"] == json.loads((rom_bundles["v2"] / "manifest.json").read_text())["romfs"]
