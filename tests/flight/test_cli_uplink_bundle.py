"""`cubesat uplink-bundle` as an operator runs it, against `cubesat twin` flying a board's boot
directory over TCP: the update lands (only the changed module goes up) and the board reboots on
trial; another board's bundle is refused in one line before anything is uplinked."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bundle_rig import board_root, make_bundles, manifest

from board_tools.flash.deploy import boot_files

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_bundles(tmp_path_factory.mktemp("bundles"), {"v1": {}, "v2": {"util": "b + a"}})


def twin(root: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [str(BIN / "cubesat"), "twin", "--port", "0", "--speed", "20", "--seconds", "3000",
         "--flash", str(root / "flash"), "--insecure"],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    for _ in range(5):
        m = re.search(r"tcp://127\.0\.0\.1:\d+", proc.stderr.readline())
        if m:
            return proc, m.group(0)
    proc.kill()
    raise AssertionError("the twin did not say where its link is")


def test_uplink_bundle_updates_the_twin_and_refuses_another_board(tmp_path: Path, bundles) -> None:
    root = tmp_path / "board"
    board_root(root, bundles["v1"])
    for name, data in boot_files(None):  # as deploy leaves a board: the twin runs boot_select's source
        (root / name).write_bytes(data)
    other = tmp_path / "other"
    shutil.copytree(bundles["v2"], other)
    m = manifest(other)
    m["board"] = "rp2040"
    (other / "manifest.json").write_text(json.dumps(m))
    proc, url = twin(root)
    try:

        def uplink(bundle: Path) -> subprocess.CompletedProcess:
            return subprocess.run(
                [str(BIN / "cubesat"), "uplink-bundle", str(bundle), "--link", url, "--timeout", "300",
                 "--downloads", str(tmp_path / "dl")],
                capture_output=True, text=True, timeout=400,
            )  # fmt: skip

        r = uplink(other)
        assert r.returncode == 2, r.stdout + r.stderr
        assert r.stdout.strip().splitlines()[-1].startswith("update failed: ") and "rp2040" in r.stdout
        assert not any((root / "slot_b").iterdir())

        r = uplink(bundles["v2"])
        assert r.returncode == 0, r.stdout + r.stderr
        assert "uplink 2 files" in r.stdout and "protocols/util.mpy" in r.stdout
        assert r.stdout.strip().splitlines()[-1].startswith("update: slot b staged, switched and rebooted")
    finally:
        proc.kill()
    state = json.loads((root / "boot_state.json").read_text())
    assert (state["active"], state["pending"]) == ("a", "b")
