"""ROMFS images in bundles (firmware_builds/romfs.py): the packages a target names leave the slot
for romfs.img, which MicroPython's own VfsRom (the unix port) mounts and reads back byte for byte."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_builds.boards import TARGETS
from firmware_builds.build import BuildError, build
from firmware_builds.romfs import HEADER, IMAGE

UPY = Path(sys.executable).with_name("micropython")

# On the unix port: mount the image with the C VfsRom, list every file with its SHA-256, and import
# a module from /rom (its __file__ says where it came from).
READ_BACK = """
import vfs, os, sys, hashlib, binascii
vfs.mount(vfs.VfsRom(open(%r, 'rb').read()), '/rom')
def walk(d, rel):
    for name, kind, *_ in os.ilistdir(d):
        if kind & 0x4000:
            walk(d + '/' + name, rel + name + '/')
        else:
            with open(d + '/' + name, 'rb') as f:
                print(rel + name, binascii.hexlify(hashlib.sha256(f.read()).digest()).decode())
walk('/rom', '')
sys.path.insert(0, '/rom')
import flight.errors
print('imported', flight.errors.__file__)
"""


def test_samd51_bundle_runs_the_flight_package_from_romfs(tmp_path: Path) -> None:
    rom = TARGETS["samd51"]["romfs"]
    manifest = build("samd51", tmp_path)
    bundle = tmp_path / "samd51"
    entry = manifest["romfs"]
    image = (bundle / IMAGE).read_bytes()
    assert image.startswith(HEADER) and len(image) == entry["size"] <= rom["partition"] == entry["partition"]
    assert entry["sha256"] == hashlib.sha256(image).hexdigest() and entry["packages"] == ["flight"]
    # the flight package is in the image, whole, and nowhere in the slot
    assert not (bundle / "flight").exists()
    assert not [f for f in manifest["files"] if f.startswith("flight/")]
    assert "flight/__init__.mpy" in entry["files"] and "flight/main.mpy" in entry["files"]
    assert "protocols/rs.mpy" in manifest["files"] and "hal/boards/__init__.mpy" in manifest["files"]
    out = subprocess.run(
        [str(UPY), "-X", "heapsize=1M", "-c", READ_BACK % str(bundle / IMAGE)],
        capture_output=True,
        text=True,
        cwd="/",
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    listed = dict(ln.split() for ln in lines if ln and not ln.startswith("imported"))
    assert listed == {rel: info["sha256"] for rel, info in entry["files"].items()}
    assert "imported /rom/flight/errors.mpy" in lines
    # the frozen profile still freezes everything (a custom firmware needs no ROMFS)
    assert 'module("flight/app.py"' in (bundle / "manifest.py").read_text()
    assert json.loads((bundle / "manifest.json").read_text())["romfs"] == entry


def test_an_image_larger_than_the_partition_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(TARGETS["samd51"], "romfs", {"packages": ("flight",), "partition": 16 * 1024})
    with pytest.raises(BuildError, match=r"romfs\.img: \d+ B of flight do not fit the board's 16384 B ROMFS"):
        build("samd51", tmp_path)


def test_hal_never_goes_into_romfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # boot_select rewrites the partition with hal/rom_partition.py: it cannot live in the image
    monkeypatch.setitem(TARGETS["samd51"], "romfs", {"packages": ("flight", "hal"), "partition": 1 << 20})
    with pytest.raises(BuildError, match="hal cannot go into ROMFS: boot_select writes the partition"):
        build("samd51", tmp_path)


def test_romfs_builds_are_reproducible(tmp_path: Path) -> None:
    a = build("samd51", tmp_path / "a")
    b = build("samd51", tmp_path / "b")
    assert a == b
    assert (tmp_path / "a/samd51" / IMAGE).read_bytes() == (tmp_path / "b/samd51" / IMAGE).read_bytes()
