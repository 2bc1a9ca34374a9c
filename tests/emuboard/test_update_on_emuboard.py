"""An in-orbit update of the real flight bundle on the emulated board (real MicroPython, WebAssembly),
over its flight UART with a lossy channel in between (10% of the uplink lost, bits flipped at BER
1e-4 both ways): ground/bundle_uplink.py fetches the board's pointer and manifest, uplinks the one
changed module and the manifest by CFDP, stages, switches and reboots; boot_select then boots the
new slot on trial and flight.main reports it good. A bundle whose flight.main cannot start fails its
trial boots and the board rolls back to the slot that worked."""

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
from firmware_builds.build import ROOT, build, compile_one
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
