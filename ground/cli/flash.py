"""`cubesat flash`: firmware onto boards (ESP32 ROM loader, UF2 drive, STM32 DFU) and application
bundles into their A/B slots (deploy, restart, status)."""

from __future__ import annotations

import sys

import click


@click.group()
def flash() -> None:
    """Flash firmware and deploy application bundles to boards."""


@flash.command("deploy")
@click.option("--port", "-p", required=True, help="Serial port of the board, e.g. /dev/ttyACM0.")
@click.option(
    "--bundle",
    "bundle_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Bundle folder from `cubesat build` (the one holding manifest.json).",
)
@click.option(
    "--entry", default="flight.main", show_default=True, help="Module boot_select runs from the slot."
)
@click.option("--attempts", default=3, show_default=True, help="Failed boots before rolling back.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for the app's mark_good().")
def flash_deploy(port: str, bundle_dir: str, entry: str, attempts: int, timeout: float) -> None:
    """Install a bundle in the inactive A/B slot, verify it, switch and wait for its heartbeat.

    Exit status: 0 deployed, 1 failed (the previous slot still boots), 3 the new slot failed its
    boots and the board rolled back.
    """
    from board_tools.flash.deploy import DeployError, RolledBackError, deploy

    try:
        r = deploy(port, bundle_dir, entry=entry, max_attempts=attempts, boot_timeout=timeout, log=click.echo)
    except RolledBackError as exc:
        click.echo("Error: %s" % exc, err=True)  # the reason: the console lines of the failed boots
        sys.exit(3)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # a port that vanished mid-way, an unreadable bundle file
        where = exc.filename or port
        raise click.ClickException("deploy: %s: %s" % (where, exc.strerror or exc)) from None
    click.echo(
        "deployed %s to slot %s (%s): %d uploaded (%d B), %d copied on board, "
        "%d unchanged, %d removed, %.1f s"
        % (
            r.bundle,
            r.slot,
            "slot %s kept for rollback" % r.previous if r.previous else "no previous slot to roll back to",
            len(r.uploaded),
            r.bytes_uploaded,
            len(r.cloned),
            len(r.skipped),
            len(r.removed),
            r.seconds,
        )
    )
    click.echo(
        "note: any raw-REPL tool (mpremote ls/cp/exec, flash status) stops the running app; "
        "`cubesat flash restart -p %s` starts it again" % port
    )


@flash.command("restart")
@click.option("--port", "-p", required=True, help="Serial port of the board.")
def flash_restart(port: str) -> None:
    """Start the flight software again after a tool stopped it (mpremote ls/cp, a raw REPL):
    soft-reboot into main.py, where boot_select boots the active slot."""
    from board_tools.flash.deploy import DeployError, restart

    try:
        restart(port)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException("restart: %s: %s" % (port, exc.strerror or exc)) from None
    click.echo("restarted the app on %s (boot_select boots the active slot)" % port)


@flash.command("status")
@click.option("--port", "-p", required=True, help="Serial port of the board.")
def flash_status(port: str) -> None:
    """Show the firmware's .mpy ABI, the boot pointer and what each slot holds (restarts the app)."""
    from board_tools.flash.deploy import DeployError, status

    try:
        s = status(port)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException("status: %s: %s" % (port, exc.strerror or exc)) from None
    click.echo("firmware: %s" % s.board.describe())
    if s.state is None:
        click.echo("boot_select: not installed (run `cubesat flash deploy`)")
    else:
        if s.boot_select == "boot_select.py":  # (it shadows a .mpy; main.py runs the app inside it)
            click.echo(
                "boot_select: boot_select.py from an older deploy, resident while the app runs (deploy again)"
            )
        st = s.state
        pending = st["pending"] or "-"
        click.echo(
            "boot pointer: active %s, pending %s, attempts %d/%d%s"
            % (
                st["active"],
                pending,
                st["attempts"],
                st["max_attempts"],
                ", rolled back from %s" % st["rolled_back"] if st.get("rolled_back") else "",
            )
        )
    for slot, info in sorted(s.slots.items()):
        if info is None:
            click.echo("slot %s: empty" % slot)
        else:
            # files: the manifest's modules + manifest.json, the same count deploy uploads/verifies
            missing = info.get("on_board", info["files"]) != info["files"]
            click.echo(
                "slot %s: %s %s rev %s, %d files%s"
                % (
                    slot,
                    info["board"],
                    info["version"],
                    str(info["git_revision"])[:12],
                    info["files"],
                    " (%d in the slot folder: deploy again to repair)" % info["on_board"] if missing else "",
                )
            )
    if s.restarted:
        click.echo(
            "app: reading the board stopped the running app; soft-rebooted into main.py to start it again "
            "(mpremote commands stop it too: `cubesat flash restart -p %s` starts it again)" % port
        )


@flash.command("esp32")
@click.option("--port", "-p", required=True, help="Serial port of the board, e.g. /dev/ttyUSB0.")
@click.argument("image", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--address",
    default="0x1000",
    show_default=True,
    help="Flash offset (ESP32: 0x1000; ESP32-S3/C3 images: 0x0).",
)
@click.option("--baud", default=460800, show_default=True, help="Baud rate after connecting at 115200.")
@click.option(
    "--before",
    type=click.Choice(["default-reset", "no-reset"]),
    default="default-reset",
    show_default=True,
    help="default-reset: enter the ROM loader via DTR/RTS; no-reset: board already in download mode.",
)
@click.option(
    "--after",
    type=click.Choice(["hard-reset", "soft-reset", "no-reset"]),
    default="hard-reset",
    show_default=True,
    help="How to start the new firmware.",
)
@click.option("--no-compress", is_flag=True, help="Send the image uncompressed.")
@click.option("--force", is_flag=True, help="Write data that is not an ESP image; skip the image chip check.")
def flash_esp32_cmd(
    port: str, image: str, address: str, baud: int, before: str, after: str, no_compress: bool, force: bool
) -> None:
    """Write a MicroPython .bin to an ESP32-family board through its ROM loader and MD5-verify it.

    Exit status: 0 written and verified, 1 refused or failed (the message says which).
    """
    from board_tools.flash.esp import EspFlashError, flash_esp32

    try:
        addr = int(address, 0)
    except ValueError:
        raise click.BadParameter("not a number: %r" % address, param_hint="--address") from None
    try:
        r = flash_esp32(
            port,
            image,
            address=addr,
            baud=baud,
            log=click.echo,
            force=force,
            compress=not no_compress,
            before=before,
            after=after,
        )
    except EspFlashError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # a busy or vanished port (pyserial's SerialException is an OSError)
        raise click.ClickException("%s: %s" % (exc.filename or port, exc.strerror or exc)) from None
    click.echo(
        "flashed %d B to %s (%s, MAC %s) at 0x%X, MD5 %s verified, %.1f s%s"
        % (
            r.size,
            r.chip,
            r.description,
            r.mac,
            r.address,
            r.md5,
            r.seconds,
            "" if r.reset else "; board not reset, press EN/RESET",
        )
    )


@flash.command("uf2")
@click.argument("image", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--drive",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Mounted bootloader drive (RPI-RP2, ...).",
)
@click.option(
    "--family", default="RP2040", show_default=True, help="UF2 family of the board (RP2040, SAMD51...)."
)
def flash_uf2(image: str, drive: str, family: str) -> None:
    """Copy a MicroPython image to a UF2 bootloader drive: a .uf2 is checked (family, blocks),
    a raw .bin is wrapped for the family's flash base. A wrong-family image is refused, and so is
    a drive that is not a UF2 bootloader of that family (INFO_UF2.TXT missing or naming another).

    Exit status: 0 written, 1 refused or failed (nothing written)."""
    from pathlib import Path

    from board_tools.flash import uf2

    try:
        data = Path(image).read_bytes()
        if not image.lower().endswith(".uf2"):
            data = uf2.encode(data, family)
        target = uf2.flash_to_drive(data, Path(drive), family)
    except uf2.Uf2Error as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException("%s: %s" % (exc.filename or drive, exc.strerror or exc)) from None
    click.echo(
        "wrote %s (%d B, family %s); the board reboots into the new firmware" % (target, len(data), family)
    )


@flash.command("dfu")
@click.argument("image", type=click.Path(exists=True, dir_okay=False))
@click.option("--address", default="0x08000000", show_default=True, help="Flash address of the image.")
@click.option("--vid", default="0x0483", show_default=True, help="USB vendor id of the DFU bootloader.")
@click.option("--pid", default="0xDF11", show_default=True, help="USB product id of the DFU bootloader.")
def flash_dfu(image: str, address: str, vid: str, pid: str) -> None:
    """Write a raw STM32 image over USB DFU/DfuSe (erase, download, read-back verify, leave).

    Exit status: 0 written and verified; 1 failed: no USB backend (install libusb-1.0-0), no device
    in DFU mode (BOOT0 high), no permission on the USB device, or a DFU error (the message says which).
    """
    from pathlib import Path

    from board_tools.flash.dfu import DfuError, DfuSeDevice

    try:
        import usb.core
    except ImportError:
        raise click.ClickException("DFU needs pyusb: pip install pyusb") from None
    try:
        addr, v, p = int(address, 0), int(vid, 0), int(pid, 0)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    try:
        dev = usb.core.find(idVendor=v, idProduct=p)
    except usb.core.NoBackendError:
        raise click.ClickException(
            "no USB backend: install libusb (apt install libusb-1.0-0, brew install libusb); "
            "then put the board in DFU mode (BOOT0 high, reset)"
        ) from None
    except (usb.core.USBError, OSError) as exc:
        raise click.ClickException("USB: %s" % exc) from None
    if dev is None:
        raise click.ClickException("no DFU device %04x:%04x (board in bootloader mode? BOOT0 high)" % (v, p))
    try:
        data = Path(image).read_bytes()
        DfuSeDevice(dev).flash(addr, data)
    except DfuError as exc:
        raise click.ClickException("DFU: %s" % exc) from None
    except usb.core.USBError as exc:  # e.g. [Errno 13] Access denied: a udev rule for the bootloader
        raise click.ClickException("USB %04x:%04x: %s" % (v, p, exc)) from None
    except OSError as exc:
        raise click.ClickException("%s: %s" % (exc.filename or image, exc.strerror or exc)) from None
    click.echo("flashed %d B at 0x%08X over DFU, verified, left DFU mode" % (len(data), addr))
