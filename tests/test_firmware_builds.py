"""Board bundles: every target builds, builds are reproducible, errors name file and line, and
the bundle's .mpy files run on real MicroPython."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cbor2
import pytest
from click.testing import CliRunner

from firmware_builds.boards import TARGETS
from firmware_builds.build import ROOT, BuildError, build
from ground import cli


@pytest.mark.parametrize("board", sorted(TARGETS))
def test_every_board_builds(board: str, tmp_path: Path) -> None:
    manifest = build(board, tmp_path)
    bundle = tmp_path / board
    assert json.loads((bundle / "manifest.json").read_text()) == manifest
    assert cbor2.loads((bundle / "manifest.cbor").read_bytes()) == manifest
    assert "protocols/rs.mpy" in manifest["files"] and "protocols/_native/wrap.mpy" not in manifest["files"]
    assert ("hal/sim/buses/bus.mpy" in manifest["files"]) == TARGETS[board]["with_sim"]
    # viper machine code only where there is an arch to compile it for (the pure code runs elsewhere)
    assert ("protocols/_viper_hot.mpy" in manifest["files"]) == (TARGETS[board]["arch"] is not None)
    assert "protocols/_viper.mpy" in manifest["files"]
    for rel, info in manifest["files"].items():
        data = (bundle / rel).read_bytes()
        assert data[:2] == b"M\x06" and len(data) == info["size"]
    assert 'module("protocols/crc.py"' in (bundle / "manifest.py").read_text()


def test_builds_are_reproducible(tmp_path: Path) -> None:
    a = build("rp2040", tmp_path / "a")
    b = build("rp2040", tmp_path / "b")
    assert a == b
    for rel in a["files"]:
        assert (tmp_path / "a/rp2040" / rel).read_bytes() == (tmp_path / "b/rp2040" / rel).read_bytes()


def test_compile_error_names_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "src"
    for pkg in ("protocols", "hal", "flight"):
        (root / pkg).mkdir(parents=True)
        (root / pkg / "__init__.py").write_text("")
    (root / "flight" / "broken.py").write_text("x = 1\n\ndef f(:\n    pass\n")
    with pytest.raises(BuildError) as info:
        build("rp2040", tmp_path / "out", root=root)
    assert info.value.path == "flight/broken.py" and info.value.line == 3
    assert "flight/broken.py:3" in str(info.value)


def test_bundle_runs_on_micropython(tmp_path: Path) -> None:
    build("emulated", tmp_path)
    bundle = tmp_path / "emulated"
    (bundle / "protocols" / "crc.py").unlink(missing_ok=True)  # only .mpy files are there anyway
    upy = Path(sys.executable).with_name("micropython")
    code = (
        "import sys; sys.path.insert(0, '%s'); import protocols.crc as c; import protocols.rs as rs; "
        "print(c.__file__, hex(c.crc16(b'123456789')), rs.decode(rs.encode(b'abc'))[0])" % bundle
    )
    out = subprocess.run(
        [str(upy), "-X", "heapsize=192K", "-c", code], capture_output=True, text=True, cwd="/"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(bundle / "protocols/crc.mpy"), "0x29b1", "b'abc'"]


def test_cli_build(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli.main, ["build", "--board", "samd51", "--out", str(tmp_path)])
    assert r.exit_code == 0 and "samd51:" in r.output and ".mpy v6" in r.output
    r = CliRunner().invoke(cli.main, ["build", "--board", "nrf52", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "unknown board" in r.output


def test_repository_root_is_the_source() -> None:
    assert (ROOT / "protocols" / "rs.py").exists() and shutil.which("git")


def test_every_target_configures_a_board_that_exists() -> None:
    from hal.boards import definition

    for name, target in TARGETS.items():
        defn = definition(target["hal_board"])
        assert defn["name"] == target["hal_board"], name
    assert len({t["hal_board"] for t in TARGETS.values()}) == len(TARGETS)  # each its own board


def test_the_onboard_dictionary_is_the_full_one_without_the_ground_text() -> None:
    """Bundles carry flight/dictionary.py slimmed: same names and tuple shapes, same values flight
    code reads, no descriptions or units, no ground-only tables (which flight code never uses)."""
    import re

    from firmware_builds.slim_dictionary import DICTIONARY, DICTIONARY_PARTS, GROUND_ONLY, slim_source
    from flight import dictionary as full

    slim: dict = {}
    exec(slim_source(ROOT / "flight" / "dictionary.py"), slim)
    public = {k for k in vars(full) if not k.startswith("_")}
    assert {k for k in slim if not k.startswith("_")} == public - set(GROUND_ONLY)
    for name, (svc, sub, fid, args, haz, desc) in full.COMMANDS.items():
        s = slim["COMMANDS"][name]
        assert s[:3] == (svc, sub, fid) and s[4] == haz and s[5] == "" and desc
        assert [a[:4] for a in s[3]] == [a[:4] for a in args] and all(a[4] == "" for a in s[3])
    # events keep id, severity and format; their argument names only decode a report on the ground
    assert {n: v[:3] for n, v in slim["EVENTS"].items()} == {n: v[:3] for n, v in full.EVENTS.items()}
    assert all(v[3] == () for v in slim["EVENTS"].values())
    assert {i: v[:4] for i, v in slim["PARAMS"].items()} == {i: v[:4] for i, v in full.PARAMS.items()}
    for name in (
        "MODES",
        "MODE_NAMES",
        "HK_SETS",
        "TM_TYPES",
        "HAZARD_ROLES",
        "FAIL",
        "PARAM_IDS",
        "RATE_GROUPS",
    ):
        assert slim[name] == getattr(full, name), name
    # nothing a board runs reads a table the slim copy leaves out
    used = re.compile(r"\b(%s)\b" % "|".join(GROUND_ONLY))
    for pkg in ("flight", "hal", "protocols"):
        for path in (ROOT / pkg).rglob("*.py"):
            if path.relative_to(ROOT).as_posix() not in (DICTIONARY, *DICTIONARY_PARTS):
                assert not used.search(path.read_text()), "%s uses a ground-only table" % path


def test_a_bundle_carries_the_slim_dictionary(tmp_path: Path) -> None:
    build("rp2040", tmp_path)
    slim = (tmp_path / "rp2040" / "flight" / "dictionary.mpy").read_bytes()
    assert b"Connection test" not in slim and b"ping" in slim  # a description is gone, a name stays
    # the tables flight/dictionary.py reads from flight/dictionary_tc.py and dictionary_tm.py are in
    # it (a command, an event, a housekeeping set, a packet store), not beside it
    assert b"store_summary" in slim and b"MODE_CHANGE" in slim and b"adcs" in slim and b"verification" in slim
    assert not (tmp_path / "rp2040" / "flight" / "dictionary_tm.mpy").exists()
    assert not (tmp_path / "rp2040" / "flight" / "dictionary_tc.mpy").exists()
    # the kinds are numbers there: the services' codecs (protocols/pus_*.py) are not imported
    assert b"pus_" not in slim


def test_a_bundle_carries_the_pus_codecs_without_what_no_board_module_uses(tmp_path: Path) -> None:
    """A PUS service's codec is one source file; a board's copy keeps what the bundle's modules name
    (its encoders) and drops the rest (decoders, field names, request subtypes, their imports),
    line numbers kept (firmware_builds/board_codecs.py)."""

    from firmware_builds.board_codecs import board_source, is_codec, names_in
    from firmware_builds.build import sources

    codecs = sorted((ROOT / "protocols").glob("pus_*_*.py"))
    assert len(codecs) >= 10 and all(is_codec(p.relative_to(ROOT).as_posix()) for p in codecs)
    assert not is_codec("protocols/pus_tm.py") and not is_codec("protocols/pus.py")
    board = [p for p in sources(ROOT, False, "armv6m", "rp2040-flight") if p not in codecs]
    used = set().union(*(names_in(p.read_text()) for p in board))
    assert "decode_report" not in used and "encode_report" in used  # comments and strings are not names
    lean = {p.stem: board_source(p.read_text(), used) for p in codecs}
    for path in codecs:
        text, kept = path.read_text(), lean[path.stem]
        assert kept.count("\n") == text.count("\n")
        assert "def decode" not in kept and "FIELDS =" not in kept
        namespace: dict = {}
        exec(compile(kept, str(path), "exec"), namespace)  # still a module that runs
        assert namespace["SERVICE"] == __import__("protocols." + path.stem, None, None, ["SERVICE"]).SERVICE
    v = lean["pus_1_verification"]
    assert "def encode_report" in v and "TEXT_MAX = 48" in v and "COMPLETION_FAILED = 8" in v
    assert "PROGRESS = 5" not in v and "QUERY" not in v and "errors import" not in v
    s = lean["pus_13_large_packet"]  # part_subtype's own names stay with it
    assert "def part_subtype" in s and "INTERMEDIATE = 2" in s and "def decode_part" not in s
    build("rp2040", tmp_path)
    mpy = (tmp_path / "rp2040" / "protocols" / "pus_11_schedule.mpy").read_bytes()
    assert b"encode_report" in mpy and b"decode_report" not in mpy and b"release apid seq" not in mpy
    assert b"INSERT" not in mpy
