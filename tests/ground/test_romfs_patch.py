"""A ROMFS image changed by radio: the ground's romfs.patch (ground/romfs_patch.py), planned by
ground/bundle_diff.py, built into the new slot's copy by the board's reader (hal/rom_partition.py,
run here on CPython against a ROM partition in memory) and written into the partition at boot by
boot_select. Real images: mpremote's builder through firmware_builds.build. The whole flow on real
MicroPython is tests/emuboard/test_update_on_emuboard.py's."""

from __future__ import annotations

import hashlib
import importlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_builds.boards import TARGETS
from firmware_builds.build import build
from ground import romfs_patch
from ground.bundle_diff import UplinkPlanError, plan_uplink
from hal import rom_partition


def _source(root: Path, version: int) -> Path:
    for pkg in ("protocols", "hal", "flight"):
        (root / pkg).mkdir(parents=True, exist_ok=True)
        (root / pkg / "__init__.py").write_text("")
    (root / "hal" / "pins.py").write_text("LED = 25\n")
    (root / "flight" / "main.py").write_text("def main():\n    pass\n")
    for i in range(6):  # modules the versions share, a few KB of image
        (root / "flight" / ("mod%d.py" % i)).write_text("T = %r\n" % (bytes(range(i, 256)) * 4))
    (root / "flight" / "changed.py").write_text("V = %r\n" % (bytes([version]) * 2000))
    (root / "flight" / "sub").mkdir(exist_ok=True)
    (root / "flight" / "sub" / "__init__.py").write_text("S = 1\n")
    return root


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("romfs-patch")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(TARGETS["emulated"], "romfs", {"packages": ("flight",), "partition": 32 * 1024})
        for v in (1, 2):
            name = "v%d" % v
            build("emulated", base / name, root=_source(base / ("src-" + name), v))
            out[name] = base / name / "emulated"
    return out


def _manifest(bundle: Path) -> dict:
    return json.loads((bundle / "manifest.json").read_text())


def _image(bundle: Path) -> bytes:
    return (bundle / "romfs.img").read_bytes()


def _rom(bundle: Path) -> list:
    m = _manifest(bundle)["romfs"]
    return [m["size"], m["sha256"]]


class FakeVfs:
    """`vfs` with one ROM partition in memory, the rom_ioctl numbers and returns of a port (NOR
    flash: erased to 0xFF, a write only clears bits), and a record of umount/mount."""

    def __init__(self, size: int, image: bytes = b"") -> None:
        self.rom = bytearray(b"\xff" * size)
        self.rom[: len(image)] = image
        self.mounted: list[str] = []
        self.writes = 0

    def rom_ioctl(self, op: int, *args):
        if op == 1:
            return 1
        if op == 2:
            return memoryview(self.rom)
        if op == 3:
            self.rom[: args[1]] = b"\xff" * args[1]
            return 4
        if op == 4:
            off, buf = args[1], bytes(args[2])
            assert len(buf) % 4 == 0 and off + len(buf) <= len(self.rom)
            self.rom[off : off + len(buf)] = bytes(a & b for a, b in zip(self.rom[off:], buf, strict=False))
            self.writes += 1
            return 0
        return 0

    def umount(self, where: str) -> None:
        if where not in self.mounted:
            raise OSError(22)
        self.mounted.remove(where)

    def mount(self, fs: object, where: str) -> None:
        self.mounted.append(where)

    def VfsRom(self, view: object) -> object:  # the module's class
        assert bytes(view[:3]) == romfs_patch.HEADER
        return view


@pytest.fixture
def vfs(monkeypatch: pytest.MonkeyPatch, bundles: dict[str, Path]) -> FakeVfs:
    fake = FakeVfs(32 * 1024, _image(bundles["v1"]))
    fake.mounted.append("/rom")
    monkeypatch.setitem(sys.modules, "vfs", fake)
    return fake


def _boot_select():
    # a module of its own per test, as each boot of a board
    sys.modules.pop("firmware_builds.boot_select", None)
    mod = importlib.import_module("firmware_builds.boot_select")
    sys.modules.pop("firmware_builds.boot_select", None)
    return mod


def _run(gen: Iterator) -> int:
    steps = 0
    for _ in gen:
        steps += 1
    return steps


def test_the_parser_finds_every_file_the_manifest_lists(bundles: dict[str, Path]) -> None:
    image = _image(bundles["v1"])
    found = {
        path: {"size": size, "sha256": hashlib.sha256(image[offset : offset + size]).hexdigest()}
        for path, offset, size in romfs_patch.files(image)
    }
    assert found == _manifest(bundles["v1"])["romfs"]["files"]
    with pytest.raises(romfs_patch.RomfsPatchError, match="not a ROMFS image"):
        romfs_patch.files(b"\x00" + image[1:])
    with pytest.raises(romfs_patch.RomfsPatchError):
        romfs_patch.files(image[:200])


def test_a_one_module_change_uplinks_that_module_and_the_board_builds_the_image(
    bundles: dict[str, Path], vfs: FakeVfs, tmp_path: Path
) -> None:
    v1, v2 = _manifest(bundles["v1"]), _manifest(bundles["v2"])
    plan = plan_uplink(bundles["v2"], v1, (bundles["v1"] / "manifest.json").read_bytes())
    assert plan.uplink == ("romfs.patch", "manifest.delta.json")  # the slot files are all onboard
    changed = v2["romfs"]["files"]["flight/changed.mpy"]["size"]
    image = _image(bundles["v2"])
    assert changed < len(plan.rom_patch) < changed + 100, "the patch is the changed module and records"
    assert len(plan.rom_patch) < len(image) / 3
    # the image's manifest entries go as a delta too: the changed one, onto the board's
    delta = json.loads(plan.delta)
    assert delta["rom_files"] == {"flight/changed.mpy": v2["romfs"]["files"]["flight/changed.mpy"]}
    assert delta["rom_removed"] == [] and "files" not in delta["manifest"]["romfs"]
    assert len(plan.delta) < 1000
    boot = _boot_select()
    buf = bytearray(rom_partition.CHUNK)
    target, active = tmp_path / "slot_b", tmp_path / "slot_a"
    target.mkdir()
    active.mkdir()
    (target / "romfs.patch").write_bytes(plan.rom_patch)
    steps = _run(
        rom_partition.stage(str(target), _rom(bundles["v2"]), str(active), _rom(bundles["v1"]), boot, buf)
    )
    assert (target / "romfs.img").read_bytes() == image
    assert (active / "romfs.img").read_bytes() == _image(bundles["v1"]), "the running image, kept"
    assert steps >= len(image) // rom_partition.CHUNK, "a chunk a step"
    # staged again (after a power cut): both copies are kept, only hashed
    (target / "romfs.patch").unlink()
    _run(rom_partition.stage(str(target), _rom(bundles["v2"]), str(active), _rom(bundles["v1"]), boot, buf))
    # at boot, the slot's copy goes into the partition and is mounted
    rom_partition.boot_write("b", str(target), _rom(bundles["v2"]), boot.rom_holds)
    assert bytes(vfs.rom[: len(image)]) == image and vfs.mounted == ["/rom"]
    assert boot.rom_holds(_rom(bundles["v2"])) and not boot.rom_holds(_rom(bundles["v1"]))
    rom_partition.boot_write(
        "a", str(active), _rom(bundles["v1"]), boot.rom_holds
    )  # a rollback: the kept copy goes back
    assert boot.rom_holds(_rom(bundles["v1"]))


def _stage_error(bundles: dict[str, Path], tmp_path: Path, patch: bytes, keep: list | None = None) -> str:
    target = tmp_path / "slot_b"
    target.mkdir(exist_ok=True)
    (target / "romfs.patch").write_bytes(patch)
    gen = rom_partition.stage(
        str(target), _rom(bundles["v2"]), str(tmp_path), keep, _boot_select(), bytearray(512)
    )
    with pytest.raises(OSError) as err:
        _run(gen)
    assert not (target / "romfs.img").exists() and not (target / "romfs.img.tmp").exists()
    return str(err.value)


def test_a_damaged_patch_fails_the_staging_saying_why(
    bundles: dict[str, Path], vfs: FakeVfs, tmp_path: Path
) -> None:
    v1 = _rom(bundles["v1"])
    patch = plan_uplink(bundles["v2"], _manifest(bundles["v1"])).rom_patch
    assert patch is not None
    assert b"R" in patch and b"L" in patch
    i = patch.index(b"L", 4) + 5  # a literal byte
    flipped = patch[:i] + bytes([patch[i] ^ 1]) + patch[i + 1 :]
    assert "makes" in _stage_error(bundles, tmp_path, flipped, v1)
    assert "truncated" in _stage_error(bundles, tmp_path, patch[:-3], v1)
    assert "not a ROMFS patch" in _stage_error(bundles, tmp_path, b"XXXX" + patch[4:], v1)
    assert "unknown record" in _stage_error(bundles, tmp_path, b"RFP1Z", v1)
    past = b"RFP1R" + (v1[0] - 4).to_bytes(4, "big") + (8).to_bytes(4, "big")
    assert "copies past the running image" in _stage_error(bundles, tmp_path, past, v1)
    assert "copies past" in _stage_error(bundles, tmp_path, patch)  # no running image to copy from
    other = [v1[0], "0" * 64]  # the partition holds another image than the slot says it runs
    assert "does not hold the running image" in _stage_error(bundles, tmp_path, patch, other)
    (tmp_path / "slot_b" / "romfs.patch").unlink()
    gen = rom_partition.stage(
        str(tmp_path / "slot_b"), _rom(bundles["v2"]), str(tmp_path), v1, _boot_select(), bytearray(512)
    )
    with pytest.raises(rom_partition.RomImageError, match=r"no romfs\.patch: uplink it"):
        _run(gen)


def test_boot_select_refuses_a_slot_whose_copy_is_wrong_and_leaves_the_partition(
    bundles: dict[str, Path], vfs: FakeVfs, tmp_path: Path
) -> None:
    boot = _boot_select()
    (tmp_path / "slot_b").mkdir()
    with pytest.raises(ImportError, match=r"does not hold ROMFS image .* this slot needs"):
        rom_partition.boot_write(
            "b", str(tmp_path / "slot_b"), _rom(bundles["v2"]), boot.rom_holds
        )  # no copy at all
    (tmp_path / "slot_b" / "romfs.img").write_bytes(_image(bundles["v2"])[:-1] + b"\x00")
    with pytest.raises(ImportError, match=r"romfs\.img does not hold ROMFS image"):
        rom_partition.boot_write("b", str(tmp_path / "slot_b"), _rom(bundles["v2"]), boot.rom_holds)
    assert vfs.writes == 0 and boot.rom_holds(_rom(bundles["v1"]))
    assert "hal.rom_partition" not in sys.modules or sys.modules["hal.rom_partition"] is rom_partition


def test_the_plan_patches_only_a_changed_image(bundles: dict[str, Path], tmp_path: Path) -> None:
    v1 = _manifest(bundles["v1"])
    assert plan_uplink(bundles["v1"], v1).rom_patch is None  # the same image
    # a board whose slot runs without ROMFS, or an image of a layout the ground cannot rebuild:
    # the whole image goes as literal bytes
    plain = {k: v for k, v in v1.items() if k != "romfs"}
    whole = plan_uplink(bundles["v2"], plain).rom_patch
    assert whole == b"RFP1L" + len(_image(bundles["v2"])).to_bytes(4, "big") + _image(bundles["v2"])
    odd = dict(v1, romfs=dict(v1["romfs"], size=v1["romfs"]["size"] + 2))
    assert plan_uplink(bundles["v2"], odd).rom_patch == whole
    # entries without their SHA-256: the layout is known, the contents not (records copied only)
    sizes_only = {p: {"size": i["size"]} for p, i in v1["romfs"]["files"].items()}
    blind = plan_uplink(bundles["v2"], dict(v1, romfs=dict(v1["romfs"], files=sizes_only))).rom_patch
    assert blind is not None and len(_image(bundles["v2"])) / 2 < len(blind) < len(whole)
    # entries that cannot be the image's files (too big for it, a path out of the tree): no copies
    for bad in ({"../x.mpy": {"size": 1}}, {"flight/a.mpy": {"size": 1 << 40}}):
        running = dict(v1["romfs"], files=dict(v1["romfs"]["files"], **bad))
        assert plan_uplink(bundles["v2"], dict(v1, romfs=running)).rom_patch == whole
    broken = tmp_path / "broken"
    broken.mkdir()
    for p in bundles["v2"].rglob("*"):
        if p.is_file():
            (broken / p.relative_to(bundles["v2"])).parent.mkdir(parents=True, exist_ok=True)
            (broken / p.relative_to(bundles["v2"])).write_bytes(p.read_bytes())
    (broken / "romfs.img").write_bytes(_image(bundles["v2"])[:-1])
    with pytest.raises(UplinkPlanError, match=r"romfs\.img does not match its manifest entry"):
        plan_uplink(broken, v1)
    (broken / "romfs.img").unlink()
    with pytest.raises(UplinkPlanError, match=r"romfs\.img is in the manifest but missing"):
        plan_uplink(broken, v1)


def test_mangled_patches_fail_cleanly_or_build_the_image(
    bundles: dict[str, Path], vfs: FakeVfs, tmp_path: Path
) -> None:
    # an uplinked patch the link or a wrong plan damaged: every outcome is the image exactly, or
    # OSError (RomImageError) with nothing left behind; the ground's image reader likewise
    v1, v2 = _rom(bundles["v1"]), _rom(bundles["v2"])
    patch = plan_uplink(bundles["v2"], _manifest(bundles["v1"])).rom_patch
    assert patch is not None
    image = _image(bundles["v2"])
    rnd = random.Random(17)
    target = tmp_path / "slot_b"
    target.mkdir()
    outcomes = {"built": 0, "refused": 0}
    for _ in range(300):
        p = bytearray(patch)
        for _ in range(rnd.randint(1, 4)):
            kind, i = rnd.randrange(4), rnd.randrange(len(p))
            if kind == 0:
                p[i] ^= 1 << rnd.randrange(8)
            elif kind == 1:
                del p[i:]
            elif kind == 2:
                p[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 9)))
            else:
                p[i : i + 4] = rnd.randbytes(4)
        (target / "romfs.patch").write_bytes(bytes(p))
        gen = rom_partition.stage(str(target), v2, str(tmp_path), v1, _boot_select(), bytearray(512))
        try:
            _run(gen)
        except OSError:
            outcomes["refused"] += 1
            assert not (target / "romfs.img").exists()
        else:
            outcomes["built"] += 1
            assert (target / "romfs.img").read_bytes() == image
            (target / "romfs.img").unlink()
        assert not (target / "romfs.img.tmp").exists()
        mangled = bytearray(image)
        for _ in range(rnd.randint(1, 3)):
            mangled[rnd.randrange(len(mangled))] = rnd.randrange(256)
        if rnd.random() < 0.2:
            del mangled[rnd.randrange(len(mangled)) :]
        try:
            romfs_patch.files(bytes(mangled))
        except romfs_patch.RomfsPatchError:
            pass
    assert outcomes["refused"] > 250, outcomes
