"""Bad input to the flash, emulate and build commands ends in one clear line and a documented exit
status, never in a traceback or a false success (issue 10)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from upy_pty_board import UpyPtyBoard

from board_tools.flash import uf2
from firmware_builds.build import build
from ground import cli

RP2_INFO = "UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


def one_line_error(r: Result, code: int = 1) -> str:
    """The result is a handled error: exit `code`, no traceback, one `Error: ...` line."""
    assert r.exit_code == code, (r.exit_code, r.output, r.exception)
    assert isinstance(r.exception, SystemExit), "unhandled %r" % (r.exception,)
    assert "Traceback" not in r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.output
    return lines[0]


@pytest.fixture
def image(tmp_path: Path) -> Path:
    p = tmp_path / "fw.bin"
    p.write_bytes(bytes(range(256)) * 8)
    return p


# -- flash uf2 ---------------------------------------------------------------------------------------


def test_uf2_refuses_a_plain_folder(tmp_path: Path, image: Path) -> None:
    folder = tmp_path / "not-a-bootloader"
    folder.mkdir()
    line = one_line_error(run("flash", "uf2", str(image), "--drive", str(folder)))
    assert "not a UF2 bootloader drive (no INFO_UF2.TXT)" in line
    assert list(folder.iterdir()) == []  # nothing written


def test_uf2_refuses_another_boards_bootloader(tmp_path: Path, image: Path) -> None:
    drive = tmp_path / "PYCUBEDBOOT"
    drive.mkdir()
    (drive / "INFO_UF2.TXT").write_text(
        "UF2 Bootloader v3.14\nModel: PyCubed\nBoard-ID: SAMD51J19A-PyCubed\n"
    )
    line = one_line_error(run("flash", "uf2", str(image), "--drive", str(drive)))
    assert "does not look like a RP2040 bootloader (INFO_UF2.TXT: Board-ID: SAMD51J19A-PyCubed)" in line
    assert sorted(p.name for p in drive.iterdir()) == ["INFO_UF2.TXT"]


def test_uf2_writes_to_a_real_bootloader_drive(tmp_path: Path, image: Path) -> None:
    drive = tmp_path / "RPI-RP2"
    drive.mkdir()
    (drive / "INFO_UF2.TXT").write_text(RP2_INFO)
    r = run("flash", "uf2", str(image), "--drive", str(drive))
    assert r.exit_code == 0, r.output
    assert uf2.decode((drive / "firmware.uf2").read_bytes())[1] == image.read_bytes()


def test_uf2_unwritable_drive_is_one_line(
    tmp_path: Path, image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drive = tmp_path / "RPI-RP2"
    drive.mkdir()
    (drive / "INFO_UF2.TXT").write_text(RP2_INFO)

    def read_only(self: Path, data: bytes) -> int:
        raise OSError(30, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "write_bytes", read_only)
    line = one_line_error(run("flash", "uf2", str(image), "--drive", str(drive)))
    assert "Read-only file system" in line


# -- flash dfu -----------------------------------------------------------------------------------------


def test_dfu_without_libusb_says_so(image: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import usb.core

    def no_backend(**kw: object) -> None:
        raise usb.core.NoBackendError("No backend available")

    monkeypatch.setattr(usb.core, "find", no_backend)  # what pyusb does on a machine without libusb
    line = one_line_error(run("flash", "dfu", str(image)))
    assert "no USB backend: install libusb (apt install libusb-1.0-0" in line and "DFU mode" in line


def test_dfu_usb_permission_error_is_one_line(image: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import usb.core

    def denied(**kw: object) -> None:
        raise usb.core.USBError("Access denied (insufficient permissions)", errno=13)

    monkeypatch.setattr(usb.core, "find", denied)
    assert "Access denied" in one_line_error(run("flash", "dfu", str(image)))


# -- flash esp32 / deploy / status: missing and busy ports ------------------------------------------------


def test_esp32_missing_port_is_one_line(image: Path) -> None:
    line = one_line_error(run("flash", "esp32", "--port", "/dev/nonexistent-tty", str(image), "--force"))
    assert "/dev/nonexistent-tty" in line


def test_deploy_to_a_missing_port_is_one_line(tmp_path: Path) -> None:
    build("emulated", tmp_path / "dist", root=_tiny_source(tmp_path / "src"))
    line = one_line_error(
        run(
            "flash",
            "deploy",
            "--port",
            "/dev/nonexistent-tty",
            "--bundle",
            str(tmp_path / "dist" / "emulated"),
        )
    )
    assert "cannot open /dev/nonexistent-tty" in line


def test_status_on_a_busy_port_is_one_line(tmp_path: Path) -> None:
    import serial

    with UpyPtyBoard(tmp_path / "flash") as board, serial.Serial(board.port, exclusive=True):
        line = one_line_error(run("flash", "status", "--port", board.port))
    assert "cannot open %s" % board.port in line and "another program" in line


def test_deploy_refuses_another_boards_bundle_with_one_line(tmp_path: Path) -> None:
    build("rp2040", tmp_path / "dist", root=_tiny_source(tmp_path / "src"))
    with UpyPtyBoard(tmp_path / "flash") as board:
        r = run("flash", "deploy", "--port", board.port, "--bundle", str(tmp_path / "dist" / "rp2040"))
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit), r.output
    assert "Error: bundle cubesat-fsw" in r.output and "built for board rp2040" in r.output
    assert "Traceback" not in r.output
    assert sorted(p.name for p in (tmp_path / "flash").iterdir()) == []


def _tiny_source(root: Path) -> Path:
    for pkg in ("protocols", "hal", "flight"):
        (root / pkg).mkdir(parents=True, exist_ok=True)
        (root / pkg / "__init__.py").write_text("")
    (root / "flight" / "main.py").write_text(
        "import boot_select\n\ndef main():\n    print('tiny app')\n    boot_select.mark_good()\n"
    )
    return root


def test_first_deploy_and_status_tell_the_truth(tmp_path: Path) -> None:
    build("emulated", tmp_path / "dist", root=_tiny_source(tmp_path / "src"))
    bundle = str(tmp_path / "dist" / "emulated")
    with UpyPtyBoard(tmp_path / "flash") as board:
        r = run("flash", "deploy", "--port", board.port, "--bundle", bundle)
        assert r.exit_code == 0, r.output
        assert "kept for rollback" not in r.output
        assert "no previous slot to roll back to (slot a is empty)" in r.output
        assert "to slot b (no previous slot to roll back to)" in r.output
        assert "slot b: 5 uploaded" in r.output  # 4 modules + manifest.json
        assert "note: any raw-REPL tool (mpremote ls/cp/exec, flash status) stops the running app" in r.output
        since = len(board.console)
        r = run("flash", "status", "--port", board.port)
        assert r.exit_code == 0, r.output
        assert "slot b: emulated 0.1.0" in r.output and ", 5 files" in r.output  # the count deploy gave
        assert "stopped the running app; soft-rebooted into main.py" in r.output
        board.wait_output(rb"tiny app\r?\nboot_select: slot b good", since)  # and it runs again
        r = run("flash", "deploy", "--port", board.port, "--bundle", bundle)
        assert r.exit_code == 0 and "(slot b kept for rollback)" in r.output, r.output


# -- build ---------------------------------------------------------------------------------------------


def test_build_out_onto_a_file_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "dist"
    f.write_text("a file, not a folder")
    line = one_line_error(run("build", "--board", "emulated", "--out", str(f)))
    assert line.startswith("Error: build failed:") and "cannot write the bundle" in line
    assert f.read_text() == "a file, not a folder"


def test_build_into_an_unwritable_folder_is_one_line() -> None:
    # /proc refuses new folders even to root (a chmod'ed folder would not stop root)
    line = one_line_error(run("build", "--board", "emulated", "--out", "/proc/cubesat-dist"))
    assert line.startswith("Error: build failed:") and "/proc/cubesat-dist" in line


# -- emulate -------------------------------------------------------------------------------------------


def test_emulate_without_node_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no node on PATH
    line = one_line_error(run("emulate", "--flash", str(tmp_path / "flash")))
    assert "node not found on PATH" in line


def test_emulate_on_a_busy_tcp_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        line = one_line_error(run("emulate", "--flash", str(tmp_path / "flash"), "--uart-tcp", str(port)))
    assert "serving the UART on 127.0.0.1:%d" % port in line and "in use" in line


def test_emulate_with_a_flash_folder_it_cannot_create_is_one_line() -> None:
    line = one_line_error(run("emulate", "--flash", "/proc/cubesat-flash", "--uart-tcp", "0"))
    assert "/proc/cubesat-flash" in line and "powering the board on" in line


def test_emulate_link_in_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    line = one_line_error(
        run(
            "emulate", "--flash", str(tmp_path / "flash"), "--link", str(tmp_path / "no" / "such" / "console")
        )
    )
    assert "creating the port links" in line


@pytest.mark.skipif(sys.platform != "linux", reason="needs /proc (a folder nobody can create in)")
def test_emulate_module_prints_the_error_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    from board_tools.emuboard_run import main

    assert main(["--flash", "/proc/cubesat-flash"]) == 1
    assert capsys.readouterr().out.startswith("error: cannot start the emulated board")
