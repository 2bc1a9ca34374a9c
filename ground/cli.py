"""`cubesat`: the one command operators and test engineers use.

Subcommands are added as the ground segment grows (twin, send, watch, archive,
dict, build, flash, bench, emulate); each has --help.
"""

from __future__ import annotations

import sys

import click

from ground import __version__
from ground.bench import bench


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cubesat")
def main() -> None:
    """Ground segment for cubesat-fsw: link, telemetry and test tools."""


@main.command()
@click.option("--seconds", default=5400, show_default=True, help="Simulated duration (one orbit by default).")
@click.option("--ber", default=2e-4, show_default=True, help="Channel bit error rate (downlink and uplink).")
@click.option(
    "--interleave",
    default=5,
    type=click.Choice(["1", "2", "3", "4", "5", "8"]),
    show_default=True,
    help="RS interleaving depth of the downlink.",
)
@click.option("--seed", default=1, show_default=True, help="Random seed of the channel noise.")
@click.option(
    "--out", default="out", show_default=True, help="Folder for the archive (SQLite) and the PNG plot."
)
def mission(seconds: int, ber: float, interleave: str, seed: int, out: str) -> None:
    """Fly an emulated pass through the full space link and print telemetry and link statistics."""
    from ground.mission import run_mission

    ok = run_mission(seconds=seconds, ber=ber, interleave=int(interleave), seed=seed, out_dir=out)
    sys.exit(0 if ok else 1)


@main.group()
def archive() -> None:
    """Query, export and plot the telemetry archive (SQLite)."""


def _open_archive(db: str):
    from pathlib import Path

    from ground.archive import Archive

    if not Path(db).exists():
        raise click.ClickException("no archive at %s (run `cubesat mission` or point --db at one)" % db)
    return Archive(db)


@archive.command("params")
@click.option("--db", default="out/mission.sqlite", show_default=True, help="Archive file.")
def archive_params(db: str) -> None:
    """List the parameters stored in the archive."""
    for name in _open_archive(db).parameters():
        click.echo(name)


@archive.command("query")
@click.option("--db", default="out/mission.sqlite", show_default=True, help="Archive file.")
@click.option("--scid", default=42, show_default=True, help="Spacecraft ID.")
@click.option("--param", "param", required=True, help="Parameter name (see `cubesat archive params`).")
@click.option("--from", "t0", default=0.0, show_default=True, help="Start time [s], inclusive.")
@click.option("--to", "t1", default=1e12, show_default=True, help="End time [s], exclusive.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
def archive_query(db: str, scid: int, param: str, t0: float, t1: float, fmt: str, output: str | None) -> None:
    """Export one parameter over a time range as CSV or JSON."""
    from ground.archive import export_csv, export_json

    arc = _open_archive(db)
    if param not in arc.parameters():
        raise click.ClickException("unknown parameter %r; known: %s" % (param, ", ".join(arc.parameters())))
    if t1 <= t0:
        raise click.BadParameter("--to must be after --from", param_hint="--to")
    times, values = arc.samples(scid, param, t0, t1)
    text = export_csv(times, values, param) if fmt == "csv" else export_json(times, values, param)
    if output:
        with open(output, "w") as fh:
            fh.write(text)
        click.echo("%d samples of %s written to %s" % (len(times), param, output), err=True)
    else:
        click.echo(text, nl=False)


@archive.command("plot")
@click.option("--db", default="out/mission.sqlite", show_default=True, help="Archive file.")
@click.option("--scid", default=42, show_default=True, help="Spacecraft ID.")
@click.option("--param", "params", multiple=True, required=True, help="Parameter (repeat for several).")
@click.option("--png", required=True, type=click.Path(dir_okay=False), help="Output PNG file.")
def archive_plot(db: str, scid: int, params: tuple[str, ...], png: str) -> None:
    """Plot parameters against time to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arc = _open_archive(db)
    unknown = [p for p in params if p not in arc.parameters()]
    if unknown:
        raise click.ClickException("unknown parameter(s): %s" % ", ".join(unknown))
    fig, axes = plt.subplots(len(params), 1, figsize=(9, 2.5 * len(params)), sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], params):
        t, v = arc.samples(scid, name, 0.0, 1e12)
        ax.plot(t / 60.0, v)
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
    axes[-1, 0].set_xlabel("mission time [min]")
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)
    click.echo("plotted %s to %s" % (", ".join(params), png))


@main.command()
@click.option(
    "--board",
    required=True,
    help="Target board (rp2040, stm32f4, stm32f7, samd51, esp32, esp32c3, emulated).",
)
@click.option("--out", default="dist", show_default=True, help="Output folder; the bundle goes to OUT/BOARD.")
def build(board: str, out: str) -> None:
    """Compile flight, hal and protocols to .mpy for a board and write the bundle manifest."""
    from pathlib import Path

    from firmware_builds.boards import TARGETS
    from firmware_builds.build import BuildError
    from firmware_builds.build import build as do_build

    if board not in TARGETS:
        raise click.BadParameter(
            "unknown board %r; known: %s" % (board, ", ".join(sorted(TARGETS))), param_hint="--board"
        )
    try:
        manifest = do_build(board, Path(out))
    except BuildError as exc:
        raise click.ClickException("build failed: %s" % exc) from None
    total = sum(f["size"] for f in manifest["files"].values())
    click.echo(
        "%s: %d modules, %d bytes, .mpy v%d, revision %s -> %s"
        % (
            board,
            len(manifest["files"]),
            total,
            manifest["target"]["mpy_version"],
            manifest["git_revision"],
            Path(out) / board,
        )
    )


@main.group("dict")
def dictionary() -> None:
    """The command and telemetry dictionary (from flight/dictionary.py)."""


@dictionary.command("commands")
def dict_commands() -> None:
    """List commands with their arguments, ranges and hazard flags."""
    from rich.console import Console
    from rich.table import Table

    from flight.dictionary import COMMANDS
    from ground.dictionary import command

    table = Table(title="Commands")
    for col in ("name", "PUS", "arguments", "hazardous", "description"):
        table.add_column(col)
    for name in sorted(COMMANDS):
        c = command(name)
        args = ", ".join(
            "%s:%s[%s]" % (a[0], a[1], "|".join(a[3]) if a[1] == "enum" else "%s..%s" % (a[2], a[3]))
            if a[2] is not None or a[1] == "enum"
            else "%s:%s" % (a[0], a[1])
            for a in c.args
        )
        pus = "%d,%d" % (c.service, c.subtype) + (" f%d" % c.function_id if c.function_id is not None else "")
        table.add_row(name, pus, args or "-", "[red]yes[/]" if c.hazardous else "no", c.description)
    Console().print(table)


@dictionary.command("telemetry")
def dict_telemetry() -> None:
    """List telemetry parameters with units and limits."""
    from flight.dictionary import TELEMETRY

    for name in sorted(TELEMETRY):
        unit, ylo, yhi, rlo, rhi, desc = TELEMETRY[name]
        click.echo("%-10s %-6s yellow %s..%s red %s..%s  %s" % (name, unit or "-", ylo, yhi, rlo, rhi, desc))


@dictionary.command("xtce")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
def dict_xtce(output: str | None) -> None:
    """Export the dictionary as XTCE 1.2 XML."""
    from ground.dictionary import to_xtce

    xml = to_xtce()
    if output:
        with open(output, "w") as fh:
            fh.write(xml)
        click.echo("XTCE written to %s" % output, err=True)
    else:
        click.echo(xml)


def _read_key(path: str | None) -> bytes | None:
    """A key from a file of hex digits; its bytes are never echoed."""
    if path is None:
        return None
    try:
        with open(path) as fh:
            key = bytes.fromhex(fh.read().strip())
    except ValueError:
        raise click.BadParameter("key file must hold hex digits", param_hint="--key-file") from None
    if len(key) < 16:
        raise click.BadParameter("key must be at least 16 bytes", param_hint="--key-file")
    return key


@main.command()
@click.option("--port", default=5555, show_default=True, help="TCP port on 127.0.0.1 (0: any free port).")
@click.option("--pty", "use_pty", is_flag=True, help="Expose the link as a pseudo-terminal instead of TCP.")
@click.option("--speed", default=1.0, show_default=True, help="Mission time per wall-clock second.")
@click.option("--seconds", type=float, default=None, help="Stop after this much mission time.")
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Authenticate TC frames (SDLS HMAC-SHA256, SPI 1) with the key in this file (hex).",
)
@click.option(
    "--flash",
    type=click.Path(file_okay=False),
    help="Folder for the flight software's files (parameters, schedule, logs); kept across runs.",
)
def twin(
    port: int, use_pty: bool, speed: float, seconds: float | None, key_file: str | None, flash: str | None
) -> None:
    """Run the flight software on the simulated spacecraft, its space link on TCP or a pty."""
    from ground.twin import TwinServer

    try:
        server = TwinServer(port=port, use_pty=use_pty, speed=speed, key=_read_key(key_file), flash_dir=flash)
    except OSError as exc:
        raise click.ClickException(
            "cannot open the link (%s): %s" % ("pty" if use_pty else "port %d" % port, exc)
        ) from None
    where = server.pty_path if use_pty else "tcp://127.0.0.1:%d" % server.port
    click.echo("twin: link at %s (speed x%g); Ctrl-C stops" % (where, speed), err=True)
    try:
        server.serve(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


@main.command()
@click.argument("name")
@click.argument("args", nargs=-1)
@click.option(
    "--link",
    "url",
    default="tcp://127.0.0.1:5555",
    show_default=True,
    help="Link URL (tcp://, socket://, a pty path).",
)
@click.option(
    "--role", type=click.Choice(["viewer", "operator", "admin"]), default="operator", show_default=True
)
@click.option("--confirm", is_flag=True, help="Required to send a hazardous command.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for verification.")
@click.option("--apid", default=0x10, show_default=True)
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Authenticate the command (SDLS HMAC-SHA256, SPI 1) with the key in this file (hex).",
)
def send(
    name: str,
    args: tuple[str, ...],
    url: str,
    role: str,
    confirm: bool,
    timeout: float,
    apid: int,
    key_file: str | None,
) -> None:
    """Send a command by NAME with ARGS as key=value, and wait for its PUS-1 verification.

    Exit codes: 0 completed, 1 link down, 2 refused (usage, range, role), 3 failed onboard, 4 no answer.
    """
    import time

    from ground.commanding import send_and_verify
    from ground.dictionary import CommandError, PermissionDenied, build_tc
    from ground.transport import LinkError

    values: dict[str, object] = {}
    for item in args:
        if "=" not in item:
            raise click.BadParameter("arguments are key=value, got %r" % item, param_hint="ARGS")
        key, value = item.split("=", 1)
        values[key] = value
    try:
        tc = build_tc(name, values, apid, int(time.time() * 1000) & 0x3FFF, role, confirm)
    except (CommandError, PermissionDenied) as exc:
        raise click.UsageError(str(exc)) from None
    try:
        key = _read_key(key_file)
        sa = None
        if key is not None:
            from protocols.sdls import SecurityAssociation

            sa = SecurityAssociation(1, key)
            # the 32-bit anti-replay counter starts each session from a clock (0.1 s since 2026-01-01,
            # good for 13 years) so it only grows across ground sessions
            sa.last_sn = int((time.time() - 1767225600) * 10)
        verdict = send_and_verify(url, tc, timeout_s=timeout, sa=sa)
    except LinkError as exc:
        raise click.ClickException("link: %s" % exc) from None
    line = "%s: %s" % (name, verdict.describe())
    if verdict.round_trip_ms is not None:
        line += " in %.0f ms" % verdict.round_trip_ms
    click.echo(line)
    if verdict.ok:
        sys.exit(0)
    sys.exit(3 if verdict.failed else 4)


@main.command()
@click.option("--link", "url", default="tcp://127.0.0.1:5555", show_default=True, help="Link URL.")
@click.option("--seconds", default=60.0, show_default=True, help="How long to watch.")
@click.option("--archive", "db", type=click.Path(dir_okay=False), help="Also archive what arrives (SQLite).")
def watch(url: str, seconds: float, db: str | None) -> None:
    """Live telemetry: latest values with limit colours, events and link statistics."""
    from ground.archive import Archive
    from ground.transport import LinkError
    from ground.watch import Watcher

    try:
        watcher = Watcher(url, archive=Archive(db) if db else None)
    except LinkError as exc:
        raise click.ClickException("link: %s" % exc) from None
    try:
        watcher.run(seconds)
    finally:
        watcher.close()
    if not watcher.values:
        raise click.ClickException("no telemetry received in %g s" % seconds)


@main.command()
@click.option(
    "--flash",
    default="out/emuboard-flash",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Host directory holding the board's flash.",
)
@click.option("--link", type=click.Path(dir_okay=False), help="Also create this symlink to the console pty.")
@click.option(
    "--uart-link", type=click.Path(dir_okay=False), help="Symlink to create for the flight-UART pty."
)
@click.option(
    "--uart-tcp", type=int, default=None, help="Also serve the flight UART on 127.0.0.1:PORT (0 = any)."
)
@click.option("--virtual-clock", is_flag=True, help="ticks_ms moves only by sleeps and main-loop ticks.")
@click.option(
    "--heap-kb", default=192, show_default=True, help="First GC heap area in KiB (the heap still grows)."
)
@click.option(
    "--flash-kb", default=2048, show_default=True, help="Flash size reported by os.statvfs (mpremote df)."
)
def emulate(
    flash: str,
    link: str | None,
    uart_link: str | None,
    uart_tcp: int | None,
    virtual_clock: bool,
    heap_kb: int,
    flash_kb: int,
) -> None:
    """Run the emulated MicroPython dev board (real MicroPython, WebAssembly) until Ctrl-C."""
    from ground.emuboard import run_emulator

    sys.exit(
        run_emulator(
            flash,
            link=link,
            uart_link=uart_link,
            uart_tcp=uart_tcp,
            virtual_clock=virtual_clock,
            heap_kb=heap_kb,
            flash_kb=flash_kb,
            echo=click.echo,
        )
    )


@main.group()
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
    from ground.flash.deploy import DeployError, RolledBackError, deploy

    try:
        r = deploy(port, bundle_dir, entry=entry, max_attempts=attempts, boot_timeout=timeout, log=click.echo)
    except RolledBackError as exc:
        click.echo("Error: %s" % exc, err=True)
        sys.exit(3)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        "deployed %s to slot %s (slot %s kept for rollback): %d uploaded (%d B), %d copied on board, "
        "%d unchanged, %d removed, %.1f s"
        % (
            r.bundle,
            r.slot,
            r.previous,
            len(r.uploaded),
            r.bytes_uploaded,
            len(r.cloned),
            len(r.skipped),
            len(r.removed),
            r.seconds,
        )
    )


@flash.command("status")
@click.option("--port", "-p", required=True, help="Serial port of the board.")
def flash_status(port: str) -> None:
    """Show the firmware's .mpy ABI, the boot pointer and what each slot holds (restarts the app)."""
    from ground.flash.deploy import DeployError, status

    try:
        s = status(port)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("firmware: %s" % s.board.describe())
    if s.state is None:
        click.echo("boot_select: not installed (run `cubesat flash deploy`)")
    else:
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
            click.echo(
                "slot %s: %s %s rev %s, %d files"
                % (slot, info["board"], info["version"], str(info["git_revision"])[:12], info["files"])
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
    from ground.flash.esp import EspFlashError, flash_esp32

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
    a raw .bin is wrapped for the family's flash base. A wrong-family image is refused."""
    from pathlib import Path

    from ground.flash import uf2

    data = Path(image).read_bytes()
    try:
        if not image.lower().endswith(".uf2"):
            data = uf2.encode(data, family)
        target = uf2.flash_to_drive(data, Path(drive), family)
    except uf2.Uf2Error as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        "wrote %s (%d B, family %s); the board reboots into the new firmware" % (target, len(data), family)
    )


@flash.command("dfu")
@click.argument("image", type=click.Path(exists=True, dir_okay=False))
@click.option("--address", default="0x08000000", show_default=True, help="Flash address of the image.")
@click.option("--vid", default="0x0483", show_default=True, help="USB vendor id of the DFU bootloader.")
@click.option("--pid", default="0xDF11", show_default=True, help="USB product id of the DFU bootloader.")
def flash_dfu(image: str, address: str, vid: str, pid: str) -> None:
    """Write a raw STM32 image over USB DFU/DfuSe (erase, download, read-back verify, leave)."""
    from pathlib import Path

    import usb.core

    from ground.flash.dfu import DfuError, DfuSeDevice

    try:
        addr, v, p = int(address, 0), int(vid, 0), int(pid, 0)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    dev = usb.core.find(idVendor=v, idProduct=p)
    if dev is None:
        raise click.ClickException("no DFU device %04x:%04x (board in bootloader mode? BOOT0 high)" % (v, p))
    data = Path(image).read_bytes()
    try:
        DfuSeDevice(dev).flash(addr, data)
    except DfuError as exc:
        raise click.ClickException("DFU: %s" % exc) from None
    click.echo("flashed %d B at 0x%08X over DFU, verified, left DFU mode" % (len(data), addr))


main.add_command(bench)


if __name__ == "__main__":
    main()
