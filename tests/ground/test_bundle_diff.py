"""ground/bundle_diff.py: what to uplink for an in-orbit update, from real bundles (firmware_builds.build
on small sources) against the active slot's manifest as the board would downlink it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from firmware_builds.build import build
from ground.bundle_diff import BoardMismatchError, UplinkPlanError, plan_uplink


def _source(root: Path, *, util: str = "a + b", v3: bool = False) -> Path:
    for pkg in ("protocols", "hal", "flight"):
        (root / pkg).mkdir(parents=True, exist_ok=True)
        (root / pkg / "__init__.py").write_text("")
    (root / "protocols" / "util.py").write_text("def add(a, b):\n    return %s\n" % util)
    if v3:  # adds a module, drops one
        (root / "protocols" / "extra.py").write_text("X = 3\n")
    else:
        (root / "hal" / "pins.py").write_text("LED = 25\n")
    (root / "flight" / "main.py").write_text("def main():\n    pass\n")
    return root


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("bundles")
    out = {}
    for name, kw in {"v1": {}, "v2": {"util": "b + a"}, "v3": {"v3": True}}.items():
        build("emulated", base / name, root=_source(base / ("src_" + name), **kw))
        out[name] = base / name / "emulated"
    return out


def _manifest(bundle: Path) -> dict:
    return json.loads((bundle / "manifest.json").read_text())


def test_a_one_module_change_uplinks_that_module_and_the_manifest(bundles: dict[str, Path]) -> None:
    plan = plan_uplink(bundles["v2"], _manifest(bundles["v1"]))
    files = _manifest(bundles["v2"])["files"]
    assert plan.uplink == ("protocols/util.mpy", "manifest.json")
    size = files["protocols/util.mpy"]["size"] + (bundles["v2"] / "manifest.json").stat().st_size
    assert plan.uplink_bytes == size
    assert set(plan.reused) == set(files) - {"protocols/util.mpy"} and plan.removed == ()
    assert plan.version == "0.1.0" and plan.bundle == bundles["v2"]
    assert plan.describe() == "version 0.1.0: uplink 2 files (%d B), %d reused onboard, 0 removed" % (
        size,
        len(files) - 1,
    )


def test_with_the_active_manifest_s_bytes_the_manifest_goes_up_as_a_delta(bundles: dict[str, Path]) -> None:
    raw = (bundles["v1"] / "manifest.json").read_bytes()
    plan = plan_uplink(bundles["v3"], json.loads(raw), raw)
    assert plan.uplink == ("protocols/extra.mpy", "manifest.delta.json") and plan.delta is not None
    delta = json.loads(plan.delta)
    new = _manifest(bundles["v3"])
    assert delta["base"] == hashlib.sha256(raw).hexdigest()
    assert delta["manifest"] == {k: v for k, v in new.items() if k != "files"}
    old = json.loads(raw)["files"]  # only the entries that differ from the active slot's
    assert delta["files"] == {rel: info for rel, info in new["files"].items() if old.get(rel) != info}
    assert "protocols/extra.mpy" in delta["files"] and delta["removed"] == ["hal/pins.mpy"]
    assert plan.uplink_bytes == new["files"]["protocols/extra.mpy"]["size"] + len(plan.delta)
    assert len(plan.delta) < len((bundles["v3"] / "manifest.json").read_bytes())


def test_added_and_dropped_modules(bundles: dict[str, Path]) -> None:
    plan = plan_uplink(bundles["v3"], _manifest(bundles["v1"]))
    assert plan.uplink == ("protocols/extra.mpy", "manifest.json")
    assert plan.removed == ("hal/pins.mpy",)
    assert "protocols/util.mpy" in plan.reused


def test_the_same_bundle_needs_only_its_manifest(bundles: dict[str, Path]) -> None:
    plan = plan_uplink(bundles["v1"], _manifest(bundles["v1"]))
    assert plan.uplink == ("manifest.json",) and plan.removed == ()
    assert plan.uplink_bytes == (bundles["v1"] / "manifest.json").stat().st_size


def test_content_found_at_another_path_is_reused(bundles: dict[str, Path]) -> None:
    # the board copies by SHA-256 from any path of its active slot (as the USB deploy clones)
    active = _manifest(bundles["v1"])
    active["files"]["old/place.mpy"] = active["files"].pop("protocols/util.mpy")
    assert plan_uplink(bundles["v1"], active).uplink == ("manifest.json",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"board": "rp2040"}, "built for board 'emulated', the board runs 'rp2040'"),
        ({"hal_board": "rp2040-flight"}, "built for hal_board 'sim-twin', the board runs 'rp2040-flight'"),
        ({"target": {"mpy_version": 5, "arch": None}}, "target mpy_version 6, the board's firmware loads 5"),
        (
            {"target": {"mpy_version": 6, "arch": "armv6m"}},
            "target arch None, the board's firmware loads 'armv6m'",
        ),
    ],
)
def test_a_bundle_for_another_board_is_refused(bundles: dict[str, Path], change: dict, message: str) -> None:
    active = dict(_manifest(bundles["v1"]), **change)
    with pytest.raises(BoardMismatchError, match=message):
        plan_uplink(bundles["v2"], active)
    assert issubclass(BoardMismatchError, UplinkPlanError)


def test_the_same_romfs_image_uplinks_no_patch(bundles: dict[str, Path], tmp_path: Path) -> None:
    # a bundle built with the image the board already holds (a ROMFS change: test_romfs_patch.py)
    rom = {"packages": ["flight"], "partition": 65536, "size": 1000, "sha256": "ab" * 32, "files": {}}
    bundle = tmp_path / "b"
    bundle.mkdir()
    for rel in _manifest(bundles["v2"])["files"]:
        (bundle / rel).parent.mkdir(parents=True, exist_ok=True)
        (bundle / rel).write_bytes((bundles["v2"] / rel).read_bytes())
    (bundle / "manifest.json").write_text(json.dumps(dict(_manifest(bundles["v2"]), romfs=rom)))
    plan = plan_uplink(bundle, dict(_manifest(bundles["v1"]), romfs=rom))
    assert plan.uplink == ("protocols/util.mpy", "manifest.json") and plan.rom_patch is None


def test_a_broken_bundle_or_active_manifest_is_refused(bundles: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(UplinkPlanError, match=r"no manifest\.json"):
        plan_uplink(tmp_path, _manifest(bundles["v1"]))
    with pytest.raises(UplinkPlanError, match="the active slot's manifest lacks its files"):
        plan_uplink(bundles["v2"], {"board": "emulated"})
    bundle = tmp_path / "b"
    bundle.mkdir()
    m = _manifest(bundles["v2"])
    (bundle / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(UplinkPlanError, match=r"protocols/util\.mpy is in the manifest but missing"):
        plan_uplink(bundle, _manifest(bundles["v1"]))
    (bundle / "protocols").mkdir()
    (bundle / "protocols" / "util.mpy").write_bytes(b"stale")
    with pytest.raises(UplinkPlanError, match=r"util\.mpy does not match its manifest entry"):
        plan_uplink(bundle, _manifest(bundles["v1"]))
    m["files"]["../x.mpy"] = m["files"]["protocols/util.mpy"]
    (bundle / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(UplinkPlanError, match=r"unsafe or malformed manifest entry '\.\./x\.mpy'"):
        plan_uplink(bundle, _manifest(bundles["v1"]))
    (bundle / "manifest.json").write_text("{")
    with pytest.raises(UplinkPlanError, match="unreadable manifest"):
        plan_uplink(bundle, _manifest(bundles["v1"]))
