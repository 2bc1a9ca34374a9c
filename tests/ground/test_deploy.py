"""A/B bundle deploy over mpremote against the real MicroPython unix port behind a pty
(tests/ground/upy_pty_board.py), plus boot_select's pointer logic under CPython."""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from mpremote.transport_serial import SerialTransport
from upy_pty_board import UpyPtyBoard

from board_tools.flash.deploy import (
    AbiMismatchError,
    BoardError,
    BoardInfo,
    BundleError,
    DeployError,
    HeartbeatTimeoutError,
    RolledBackError,
    VerifyError,
    WrongBoardError,
    boot_files,
    check_abi,
    deploy,
    load_bundle,
    restart,
    status,
)
from firmware_builds.build import build
from ground import cli

APP = """import sys
import time
from protocols import util

VERSION = %(version)r
%(extra)s

def main():
    if "boot_select" in sys.modules:  # (not assert: -O3 compiles asserts out)
        raise RuntimeError("main.py did not let boot_select go")
    print("app", VERSION, util.add(2, 3))
    %(late)s
    %(good)s
    n = 0
    while True:
        n += 1
        print("heartbeat", n)
        time.sleep_ms(50)
"""


# as flight.main reports good: boot_select imported again, and let go by mark_good
GOOD = """import boot_select
    boot_select.mark_good()
    del boot_select
    if 'boot_select' in sys.modules:
        raise RuntimeError('boot_select stays resident')"""


def _source(root: Path, version: str, *, good: bool = True, crash: str = "", v2: bool = False) -> Path:
    for pkg in ("protocols", "hal", "flight"):
        (root / pkg).mkdir(parents=True, exist_ok=True)
        (root / pkg / "__init__.py").write_text("")
    (root / "protocols" / "util.py").write_text("def add(a, b):\n    return a + b\n")
    if v2:  # v2 adds a module and drops hal/pins.py
        (root / "protocols" / "extra.py").write_text("X = 2\n")
    else:
        (root / "hal" / "pins.py").write_text("LED = 25\n")
    extra = "raise RuntimeError('bad build %s')" % version if crash == "import" else ""
    late = "raise RuntimeError('bad main %s')" % version if crash == "main" else ""
    app = APP % {"version": version, "extra": extra, "late": late, "good": GOOD if good else "pass"}
    (root / "flight" / "main.py").write_text(app)
    return root


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("bundles")
    out = {}
    for name, kw in {
        "v1": {"version": "1"},
        "v2": {"version": "2", "v2": True},
        "crash": {"version": "3", "crash": "import"},
        "late": {"version": "5", "crash": "main"},
        "hang": {"version": "4", "good": False},
    }.items():
        build("emulated", base / name, root=_source(base / ("src_" + name), **kw))
        out[name] = base / name / "emulated"
    return out


@pytest.fixture
def board(tmp_path: Path):
    with UpyPtyBoard(tmp_path / "flash") as b:
        yield b


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _state(board: UpyPtyBoard) -> dict:
    return json.loads((board.flash / "boot_state.json").read_text())


def test_first_deploy_installs_verifies_and_heartbeats(board: UpyPtyBoard, bundles: dict[str, Path]) -> None:
    lines: list[str] = []
    r = deploy(board.port, bundles["v1"], log=lines.append)
    assert (r.slot, r.previous) == ("b", None)  # slot a was empty: nothing to roll back to
    assert any("no previous slot to roll back to (slot a is empty)" in line for line in lines), lines
    assert not any("kept for rollback" in line for line in lines)
    assert r.boot_files == ["boot_select.mpy", "main.py"]
    expected = _tree(bundles["v1"])
    expected.pop("manifest.cbor"), expected.pop("manifest.py")
    assert sorted(r.uploaded) == sorted(expected) and r.cloned == r.skipped == r.removed == []
    assert r.bytes_uploaded == sum(len(v) for v in expected.values())
    assert _tree(board.flash / "slot_b") == expected  # byte for byte, manifest.json included
    # boot_select compiled as the bundles are; main.py runs the app with boot_select let go
    assert [(board.flash / n).read_bytes() for n, _ in boot_files(None)] == [d for _, d in boot_files(None)]
    assert not (board.flash / "boot_select.py").exists()
    st = _state(board)
    assert (st["active"], st["pending"], st["attempts"]) == ("b", None, 0)
    assert st["slots"]["b"]["entry"] == "flight.main"
    assert "app 1 5" in r.boot_log and "boot_select: slot b good" in r.boot_log
    assert any("slot b: 7 uploaded" in line for line in lines)
    board.wait_output(rb"heartbeat 3")  # the app keeps running after deploy returned
    assert not (board.flash / "boot_state.json.tmp").exists()


def test_a_board_of_an_older_deploy_gets_boot_select_compiled(
    board: UpyPtyBoard, bundles: dict[str, Path]
) -> None:
    """An older deploy left boot_select.py (which would shadow the .mpy) and a main.py that runs the
    app inside boot_select.boot(): the next deploy removes the source before main.py changes."""
    deploy(board.port, bundles["v1"])
    for name in ("boot_select.mpy", "main.py"):
        (board.flash / name).unlink()
    src = Path(__file__).resolve().parents[2] / "firmware_builds" / "boot_select.py"
    (board.flash / "boot_select.py").write_bytes(src.read_bytes())
    (board.flash / "main.py").write_text("import boot_select\nboot_select.boot()\n")
    out = CliRunner().invoke(cli.main, ["flash", "status", "--port", board.port])
    assert "boot_select: boot_select.py from an older deploy, resident while the app runs" in out.output
    r = deploy(board.port, bundles["v2"])
    assert r.boot_files == ["boot_select.mpy", "-boot_select.py", "main.py"]
    assert not (board.flash / "boot_select.py").exists()
    assert "app 2 5" in r.boot_log and "boot_select: slot a good" in r.boot_log
    assert status(board.port).boot_select == "boot_select.mpy"


def test_copy_by_hash_uploads_only_what_the_board_lacks(board: UpyPtyBoard, bundles: dict[str, Path]) -> None:
    deploy(board.port, bundles["v1"])
    lines: list[str] = []
    r2 = deploy(board.port, bundles["v2"], log=lines.append)  # slot a empty: files cloned from slot b
    assert (r2.slot, r2.previous) == ("a", "b")
    assert any("slot b kept for rollback" in line for line in lines), lines
    assert sorted(r2.uploaded) == ["flight/main.mpy", "manifest.json", "protocols/extra.mpy"]
    assert sorted(r2.cloned) == [
        "flight/__init__.mpy",
        "hal/__init__.mpy",
        "protocols/__init__.mpy",
        "protocols/util.mpy",
    ]
    assert r2.skipped == [] and r2.removed == []
    assert r2.bytes_uploaded == sum((bundles["v2"] / p).stat().st_size for p in r2.uploaded)

    r3 = deploy(board.port, bundles["v2"])  # slot b holds v1: nothing crosses the wire
    assert r3.slot == "b" and r3.uploaded == [] and r3.bytes_uploaded == 0
    assert r3.removed == ["hal/pins.mpy"]
    assert len(r3.skipped) == 4 and sorted(r3.cloned) == sorted(r2.uploaded)
    want = _tree(bundles["v2"])
    want.pop("manifest.cbor"), want.pop("manifest.py")
    assert _tree(board.flash / "slot_b") == want == _tree(board.flash / "slot_a")

    r4 = deploy(board.port, bundles["v2"])  # both slots already hold it
    assert r4.slot == "a" and len(r4.skipped) == 7 and r4.uploaded == r4.cloned == []
    assert "app 2 5" in r4.boot_log


def test_corruption_between_copy_and_verify_blocks_the_switch(
    board: UpyPtyBoard, bundles: dict[str, Path]
) -> None:
    deploy(board.port, bundles["v1"])
    pointer = (board.flash / "boot_state.json").read_bytes()
    victim = board.flash / "slot_a" / "flight" / "main.mpy"

    def flip_a_bit() -> None:  # flash that did not hold: written fine, reads back different
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0x10
        victim.write_bytes(bytes(data))

    # manifest.json is uploaded after flight/main.mpy (sorted order) and before the verify pass
    board.on_host_bytes(b"slot_a/manifest.json','wb'", flip_a_bit)
    with pytest.raises(VerifyError, match=r"slot a: 1 file\(s\) do not match .*flight/main.mpy") as info:
        deploy(board.port, bundles["v2"])
    assert list(info.value.mismatches) == ["flight/main.mpy"]
    expected, got = info.value.mismatches["flight/main.mpy"]
    assert expected == hashlib.sha256((bundles["v2"] / "flight/main.mpy").read_bytes()).hexdigest()
    assert got == hashlib.sha256(victim.read_bytes()).hexdigest() != expected
    assert (board.flash / "boot_state.json").read_bytes() == pointer  # never switched

    board.power_off()
    since = len(board.console)
    board.power_on()
    board.wait_output(rb"boot_select: booting slot b\r?\napp 1 5", since)  # old bundle still boots
    r = deploy(board.port, bundles["v2"])  # the next deploy repairs exactly the bad file
    assert r.slot == "a" and r.uploaded == ["flight/main.mpy"] and len(r.skipped) == 6


def _retarget(src: Path, dst: Path, mpy_version: int) -> Path:
    """A copy of the bundle whose .mpy headers and manifest claim another .mpy version."""
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["target"]["mpy_version"] = mpy_version
    for rel, info in manifest["files"].items():
        data = bytearray((dst / rel).read_bytes())
        data[1] = mpy_version
        (dst / rel).write_bytes(bytes(data))
        info["sha256"] = hashlib.sha256(data).hexdigest()
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return dst


def test_abi_mismatch_is_refused_before_anything_is_written(
    board: UpyPtyBoard, bundles: dict[str, Path], tmp_path: Path
) -> None:
    old = _retarget(bundles["v1"], tmp_path / "v5", 5)
    with pytest.raises(AbiMismatchError) as info:
        deploy(board.port, old)
    msg = str(info.value)
    assert "built for .mpy v5" in msg and "firmware loads .mpy v6.3, arch x64" in msg and "_mpy=0xb06" in msg
    assert sorted(p.name for p in board.flash.iterdir()) == []  # no boot files, no slot, no pointer


def test_bundle_and_native_arch_checks(bundles: dict[str, Path], tmp_path: Path) -> None:
    bad = shutil.copytree(bundles["v1"], tmp_path / "torn")
    (bad / "protocols" / "util.mpy").write_bytes(b"M\x06\x00\x1f")
    with pytest.raises(BundleError, match=r"protocols/util\.mpy does not match its manifest"):
        load_bundle(bad)
    with pytest.raises(BundleError, match=r"no manifest\.json"):
        load_bundle(tmp_path)
    with pytest.raises(
        BundleError, match=r"entry module flight\.app is not in the bundle \(no flight/app\.mpy\)"
    ):
        deploy("/nonexistent/tty", bundles["v1"], entry="flight.app")  # refused before opening the port
    # native code compiled for the RP2040 cannot load on an x64 firmware even though both are .mpy v6
    src = _source(tmp_path / "native_src", "n")
    (src / "flight" / "fast.py").write_text(
        "import micropython\n\n@micropython.native\ndef f(x):\n    return x\n"
    )
    build("rp2040", tmp_path / "native", root=src)
    bundle = load_bundle(tmp_path / "native" / "rp2040")
    x64 = BoardInfo(mpy=0xB06, version=(1, 29, 0), machine="linux", root="")
    with pytest.raises(AbiMismatchError, match=r"fast\.mpy .* native code for arch armv6m .* arch x64"):
        check_abi(bundle, x64)
    check_abi(bundle, BoardInfo(mpy=0x1306, version=(1, 29, 0), machine="rp2", root=""))  # armv6m, v6.3


@pytest.mark.parametrize("bundle, why", [("crash", "bad build 3"), ("late", "bad main 5")])
def test_app_that_crashes_is_rolled_back_and_old_slot_heartbeats(
    board: UpyPtyBoard, bundles: dict[str, Path], bundle: str, why: str
) -> None:
    """On import (boot_select.start reports it) or in its main() (main.py has boot_select report it)."""
    deploy(board.port, bundles["v1"])
    boots = board.boots
    since = len(board.console)
    with pytest.raises(
        RolledBackError, match=r"slot a failed 3 boots .* rolled back to slot b, which reports good"
    ) as info:
        deploy(board.port, bundles[bundle], max_attempts=3)
    assert (info.value.failed_slot, info.value.running_slot, info.value.attempts) == ("a", "b", 3)
    # the reason is in the error: the console lines of the failed boots, traceback included
    msg = str(info.value)
    assert "last console lines of the failed boots (attempt 3/3):" in msg
    assert "RuntimeError: %s" % why in info.value.console and "| " in msg
    assert "earlier boots: boot_select: slot a failed: RuntimeError('%s'" % why in msg
    log = bytes(board.console[since:])
    for n in (1, 2, 3):
        assert b"boot_select: trying slot a (attempt %d/3)" % n in log
    assert log.count(b"RuntimeError: " + why.encode()) == 3
    # deploy's raw-REPL soft reset, its reboot into main.py (attempt 1), one reboot per failed attempt
    assert board.boots - boots == 5
    st = _state(board)
    assert (st["active"], st["pending"], st["rolled_back"]) == ("b", None, "a")
    m = board.wait_output(rb"boot_select: slot a failed 3 boots, rolled back to b", since)
    board.wait_output(rb"app 1 5\r?\nboot_select: slot b good\r?\nheartbeat 1\r?\nheartbeat 2", m.end())


def test_app_that_never_marks_good_times_out(board: UpyPtyBoard, bundles: dict[str, Path]) -> None:
    with pytest.raises(
        HeartbeatTimeoutError, match=r"slot b did not report good within 2 s \(attempt 1/3\)"
    ) as info:
        deploy(board.port, bundles["hang"], boot_timeout=2.0)
    assert "Last console lines:\n" in str(info.value) and "| app 4 5" in str(info.value)
    assert _state(board)["pending"] == "b" and _state(board)["attempts"] == 1


def _cut_before_rename(board: UpyPtyBoard) -> None:
    board.on_host_bytes(b"boot_state.json.tmp', '", board.power_off)


def _cut_mid_write(board: UpyPtyBoard) -> None:
    # after open(..., 'wb') truncated the temp file, before its first chunk: a torn pointer file
    board.on_host_bytes(b'w(b\'{"active"', board.power_off)


def _cut_fat_rename(board: UpyPtyBoard) -> None:
    # FAT's rename removes the old file first: power dies between the remove and the rename
    def cut() -> None:
        board.power_off()
        (board.flash / "boot_state.json").unlink()

    board.on_host_bytes(b"boot_state.json.tmp', '", cut)


@pytest.mark.parametrize(
    ("cut", "boots_slot", "app"),
    [(_cut_before_rename, "b", b"app 1"), (_cut_mid_write, "b", b"app 1"), (_cut_fat_rename, "a", b"app 2")],
    ids=["before-rename", "torn-temp-file", "fat-rename-half-done"],
)
def test_power_loss_during_pointer_switch_leaves_a_bootable_board(
    board: UpyPtyBoard, bundles: dict[str, Path], cut, boots_slot: str, app: bytes
) -> None:
    deploy(board.port, bundles["v1"])
    cut(board)
    with pytest.raises(BoardError, match=r"board stopped answering while .*boot pointer"):
        deploy(board.port, bundles["v2"], boot_timeout=3)
    since = len(board.console)
    board.power_on()
    board.wait_output(
        rb"boot_select: (booting|trying) slot %s.*\r?\n%s 5\r?\nboot_select: slot %s good"
        % (boots_slot.encode(), app, boots_slot.encode()),
        since,
    )
    assert _state(board)["active"] == boots_slot
    r = deploy(board.port, bundles["v2"])  # and the next deploy goes through
    assert r.previous == boots_slot and "app 2 5" in r.boot_log


def test_status_reads_pointer_and_slots_then_restarts_the_app(
    board: UpyPtyBoard, bundles: dict[str, Path]
) -> None:
    before = status(board.port)
    assert before.boot_select is None and before.state is None and before.slots == {"a": None, "b": None}
    assert before.board.mpy_version == 6 and before.board.arch == "x64"
    deploy(board.port, bundles["v1"])
    deploy(board.port, bundles["v2"])
    transport = SerialTransport(board.port, timeout=1)
    since = len(board.console)
    try:
        s = status(transport)  # an open mpremote transport works as well as a port name
    finally:
        transport.close()
    assert (
        s.boot_select == "boot_select.mpy"
        and (s.state["active"], s.state["pending"]) == ("a", None)
        and s.restarted
    )
    # the count deploy reports (6 modules + manifest.json: "slot b: 7 uploaded"), also on the board
    assert s.slots["a"]["files"] == 7 and s.slots["b"]["files"] == 7
    assert s.slots["a"]["on_board"] == s.slots["b"]["on_board"] == 7
    assert s.state["slots"]["b"]["version"] == s.slots["b"]["version"] == "0.1.0"
    board.wait_output(rb"app 2 5\r?\nboot_select: slot a good\r?\nheartbeat 1", since)


def test_status_and_deploy_file_counts_agree(board: UpyPtyBoard, bundles: dict[str, Path]) -> None:
    lines: list[str] = []
    r = deploy(board.port, bundles["v1"], log=lines.append)
    s = status(board.port)
    n = len(load_bundle(bundles["v1"]).files) + 1  # the modules and manifest.json
    assert len(r.uploaded) == s.slots["b"]["files"] == s.slots["b"]["on_board"] == n
    assert any("slot b verified: %d files match" % n in line for line in lines)
    (board.flash / "slot_b" / "hal" / "pins.mpy").unlink()  # a slot that lost a file says so
    assert status(board.port).slots["b"]["on_board"] == n - 1


def test_a_bundle_for_another_board_is_refused_before_anything_is_written(
    board: UpyPtyBoard, bundles: dict[str, Path], tmp_path: Path
) -> None:
    build("rp2040", tmp_path / "rp", root=_source(tmp_path / "rp_src", "rp"))
    lines: list[str] = []
    with pytest.raises(WrongBoardError) as info:
        deploy(board.port, tmp_path / "rp" / "rp2040", log=lines.append)
    msg = str(info.value)
    assert "built for board rp2040 (sys.platform rp2)" in msg and "sys.platform linux" in msg
    assert "nothing was written" in msg and "`cubesat build --board emulated`" in msg
    assert sorted(p.name for p in board.flash.iterdir()) == []  # no boot files, no slot, no pointer
    # on a board that runs an app, the refusal leaves the app running again (deploy stopped it)
    deploy(board.port, bundles["v1"])
    before = _tree(board.flash)
    since = len(board.console)
    with pytest.raises(WrongBoardError):
        deploy(board.port, tmp_path / "rp" / "rp2040", log=lines.append)
    assert _tree(board.flash) == before
    board.wait_output(
        rb"boot_select: booting slot b\r?\napp 1 5\r?\nboot_select: slot b good\r?\nheartbeat 1", since
    )
    assert any("the previous app runs again" in line for line in lines)


def test_restart_starts_an_app_that_a_tool_stopped(board: UpyPtyBoard, bundles: dict[str, Path]) -> None:
    deploy(board.port, bundles["v1"])
    board.wait_output(rb"heartbeat 2")
    s = status(board.port, restart_app=False)  # like `mpremote ls`: the app is stopped and stays so
    assert not s.restarted
    since = len(board.console)
    restart(board.port)
    board.wait_output(
        rb"boot_select: booting slot b\r?\napp 1 5\r?\nboot_select: slot b good\r?\nheartbeat 1", since
    )
    status(board.port, restart_app=False)  # stopped again; the CLI starts it the same way
    since = len(board.console)
    r = CliRunner().invoke(cli.main, ["flash", "restart", "--port", board.port])
    assert r.exit_code == 0 and "restarted the app" in r.output, r.output
    board.wait_output(rb"boot_select: slot b good\r?\nheartbeat 1", since)


def test_unreachable_board_is_a_board_error(tmp_path: Path, bundles: dict[str, Path]) -> None:
    with pytest.raises(BoardError, match="cannot open /nonexistent/tty"):
        deploy("/nonexistent/tty", bundles["v1"])
    assert issubclass(BoardError, DeployError) and issubclass(RolledBackError, DeployError)


def test_a_port_busy_for_a_moment_is_opened_once_it_is_free(board: UpyPtyBoard) -> None:
    import threading

    import serial

    from board_tools.flash.deploy_session import _open

    holder = serial.Serial(board.port, exclusive=True)  # the previous session, not closed yet
    with pytest.raises(BoardError, match="cannot open"):
        _open(board.port, patience_s=0.0)
    threading.Timer(0.3, holder.close).start()  # it lets go while the next one waits
    transport = _open(board.port)
    transport.close()


# -- boot_select under CPython: the pointer file semantics without a board -------------------------


@pytest.fixture
def bs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    sys.modules.pop("firmware_builds.boot_select", None)
    mod = importlib.import_module("firmware_builds.boot_select")
    yield mod
    sys.modules.pop("firmware_builds.boot_select", None)


def test_boot_select_counts_trials_and_rolls_back(bs, tmp_path: Path) -> None:
    (tmp_path / "slot_a").mkdir()
    bs.write_state({"active": "a", "pending": "b", "attempts": 0, "max_attempts": 2, "slots": {}})
    assert bs.select()[0] == "b" and bs.read_state()["attempts"] == 1
    assert bs.select()[0] == "b" and bs.read_state()["attempts"] == 2
    slot, st = bs.select()
    assert slot == "a" and (st["pending"], st["rolled_back"]) == (None, "b")
    assert bs.read_state() == st and bs.select()[0] == "a"  # stays rolled back


def test_boot_select_mark_good_promotes_the_trial_slot(bs, tmp_path: Path) -> None:
    bs.write_state({"active": "a", "pending": "b", "attempts": 0, "max_attempts": 3, "slots": {}})
    bs.running = bs.select()[0]
    bs.mark_good()
    assert bs.read_state() == {"active": "b", "pending": None, "attempts": 0, "max_attempts": 3, "slots": {}}
    assert not (tmp_path / "boot_state.json.tmp").exists()


def test_boot_select_survives_torn_and_missing_pointer_files(bs, tmp_path: Path) -> None:
    good = {"active": "b", "pending": "a", "attempts": 1, "max_attempts": 3, "slots": {}}
    (tmp_path / "boot_state.json").write_text('{"active": "b", "pend')  # torn main file
    (tmp_path / "boot_state.json.tmp").write_text(json.dumps(good))
    assert bs.read_state() == good  # FAT rename window: the complete temp file is the new pointer
    (tmp_path / "boot_state.json.tmp").write_text("")
    (tmp_path / "slot_b").mkdir()
    assert bs.read_state()["active"] == "b"  # nothing readable: first slot that exists
    (tmp_path / "boot_state.json").write_text(json.dumps({"active": "a", "pending": "a"}))
    assert bs.read_state()["pending"] is None  # inconsistent pointer is ignored, not trusted


def test_boot_select_resets_after_a_failed_trial_only(bs, tmp_path: Path, capsys) -> None:
    (tmp_path / "slot_b").mkdir()
    (tmp_path / "slot_b" / "trial_app_boom.py").write_text("raise ValueError('boom')\n")
    resets = []
    bs.write_state(
        {
            "active": "a",
            "pending": "b",
            "attempts": 0,
            "max_attempts": 3,
            "slots": {"b": {"entry": "trial_app_boom"}},
        }
    )
    try:
        bs.boot(reset=lambda: resets.append(1))
    finally:
        sys.path.remove(str(tmp_path / "slot_b"))
        sys.modules.pop("trial_app_boom", None)
    assert resets == [1] and bs.read_state()["attempts"] == 1
    out = capsys.readouterr().out
    assert "trying slot b (attempt 1/3)" in out and "slot b failed: ValueError('boom')" in out
