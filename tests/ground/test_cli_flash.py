"""`cubesat flash deploy/status` with the project's own bundle on real MicroPython (the unix port
behind a pty): the flight application boots from the new slot, passes its health check and marks
the slot good; bad input gets a clear error and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from upy_pty_board import UpyPtyBoard

from firmware_builds.build import build
from ground import cli


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build("emulated", out)
    return out / "emulated"


def test_deploy_the_flight_bundle_and_show_status(bundle: Path, tmp_path: Path) -> None:
    with UpyPtyBoard(tmp_path / "flash", heapsize="4M") as board:
        r = CliRunner().invoke(
            cli.main, ["flash", "deploy", "--port", board.port, "--bundle", str(bundle), "--timeout", "60"]
        )
        assert r.exit_code == 0, r.output
        assert "deployed" in r.output and "to slot b" in r.output
        board.wait_output(rb"flight: boot 1, mode \d, running", timeout=30)
        r = CliRunner().invoke(cli.main, ["flash", "status", "--port", board.port])
        assert r.exit_code == 0, r.output
        assert "active b" in r.output and "slot b: emulated" in r.output and "slot a: empty" in r.output
    # the flight application wrote its persistent state in the board's flash
    files = {p.name for p in (tmp_path / "flash").rglob("*")}
    assert {"boot.a", "audit.0"} <= files


def test_deploy_refuses_a_folder_without_a_manifest(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with UpyPtyBoard(tmp_path / "flash") as board:
        r = CliRunner().invoke(
            cli.main, ["flash", "deploy", "--port", board.port, "--bundle", str(tmp_path / "empty")]
        )
    assert r.exit_code == 1 and "manifest" in r.output


def test_status_on_a_dead_port_fails_cleanly() -> None:
    r = CliRunner().invoke(cli.main, ["flash", "status", "--port", "/dev/nonexistent-tty"])
    assert r.exit_code == 1 and "Error" in r.output


def test_flash_esp32_cli_writes_and_refuses(tmp_path: Path) -> None:
    from test_flash_esp import micropython_like

    from board_tools.flash.sim_esp_rom import SimEspRom

    image = micropython_like(64 * 1024)
    path = tmp_path / "ESP32_GENERIC.bin"
    path.write_bytes(image)
    args = ["flash", "esp32", "--before", "no-reset", "--after", "soft-reset"]
    with SimEspRom() as rom:
        r = CliRunner().invoke(cli.main, [*args, "--port", rom.port, str(path)])
    assert r.exit_code == 0, r.output
    assert "flashed %d B to ESP32" % len(image) in r.output and "verified" in r.output
    assert bytes(rom.flash[0x1000 : 0x1000 + len(image)]) == image
    bad = tmp_path / "not-an-image.bin"
    bad.write_bytes(b"\x00" * 4096)
    r = CliRunner().invoke(cli.main, [*args, "--port", "/dev/null", str(bad)])
    assert r.exit_code == 1 and "magic" in r.output.lower()
    r = CliRunner().invoke(cli.main, [*args, "--port", "/dev/null", "--address", "zero", str(path)])
    assert r.exit_code == 2 and "not a number" in r.output


def test_flash_uf2_cli(tmp_path: Path) -> None:
    from board_tools.flash import uf2

    drive = tmp_path / "RPI-RP2"
    drive.mkdir()
    (drive / "INFO_UF2.TXT").write_text("UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n")
    raw = tmp_path / "firmware.bin"
    raw.write_bytes(bytes(range(256)) * 40)
    r = CliRunner().invoke(cli.main, ["flash", "uf2", str(raw), "--drive", str(drive)])
    assert r.exit_code == 0, r.output
    base, image, family = uf2.decode((drive / "firmware.uf2").read_bytes())
    assert (base, image, family) == (0x10000000, raw.read_bytes(), "RP2040")
    samd = tmp_path / "samd.uf2"
    samd.write_bytes(uf2.encode(raw.read_bytes(), "SAMD51"))
    r = CliRunner().invoke(cli.main, ["flash", "uf2", str(samd), "--drive", str(drive)])
    assert r.exit_code == 1 and "SAMD51" in r.output


def test_flash_dfu_cli(tmp_path: Path, monkeypatch) -> None:
    import usb.core

    from board_tools.flash.sim_dfu import SimDfuBackend, SimDfuDevice

    sim = SimDfuDevice()
    real_find = usb.core.find
    monkeypatch.setattr(usb.core, "find", lambda **kw: real_find(backend=SimDfuBackend(sim), **kw))
    image = tmp_path / "stm32.bin"
    image.write_bytes(bytes((i * 7) & 0xFF for i in range(6000)))
    r = CliRunner().invoke(cli.main, ["flash", "dfu", str(image)])
    assert r.exit_code == 0, r.output
    assert bytes(sim.flash[:6000]) == image.read_bytes() and sim.left
    r = CliRunner().invoke(cli.main, ["flash", "dfu", str(image), "--pid", "0x1234"])
    assert r.exit_code == 1 and "no DFU device" in r.output
