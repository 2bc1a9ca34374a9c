"""The emulated pass behind `cubesat mission`: the flight software and the ground, end to end.

The spacecraft is the twin (ground.flight_twin): the real flight application (executive, PUS
services, modes, FDIR, persisted storage) on the hal.sim world (500 km sun-synchronous orbit,
tilted-dipole field, eclipses, a tumbling 3U, solar panels, battery, thermal nodes). The ground
is the ground server's own link code in simulated time (ground.twin_ground): COP-1 and CLTUs up,
CADUs (RS x I, randomized, CLCW) down, every packet decoded into a server archive. The channel
flips bits at the requested rate in both directions.

The pass is an operator procedure on the scripting API (ground.server.scripting), the calls a
procedure makes against a running `cubesat ground`: ping, more housekeeping, a parameter set by
name, a commanded mode change, a time-tagged command, then the autonomous detumble to NOMINAL.
What the ground prints, archives and plots is what it decoded, counted honestly.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from flight.dictionary import MODE_NAMES
from ground import DEFAULT_SCID
from ground.flight_twin import FlightTwin, default_environment
from ground.lora_ground import BitErrors
from ground.mission_report import (
    HkCount,
    archive_path,
    lora_stats,
    plot,
    print_lora,
    print_summary,
    queued_hk,
    received_hk,
    title_rule,
)
from ground.server.errors import ClientError, WaitTimeoutError
from ground.server.scripting import CommandResult, ScriptingApi
from ground.twin_ground import TwinGround, flip_bits
from protocols import lora

SCID = DEFAULT_SCID
__all__ = ["flip_bits", "fly_pass", "run_mission"]

# the pass an operator flies: (mission second, command, arguments)
SCRIPT: tuple[tuple[int, str, dict[str, Any]], ...] = (
    (20, "ping", {}),
    (40, "hk_enable", {"sid": 2}),
    (60, "param_set", {"param_id": "comms.beacon_s", "value": 120.0}),
    (80, "mode_set", {"mode": "DETUMBLE"}),
    (100, "schedule_insert", {"command": "hk_oneshot sid=1"}),  # released SCHEDULED_S later
    (160, "hk_oneshot", {"sid": 3}),
)
SCHEDULED_S = 120  # the time-tagged command's release, after the newest onboard time seen
COMMAND_TIMEOUT_S = 30.0
RELEASED = "  released from the schedule"


def fly_pass(gs: ScriptingApi, end_s: float, say=print) -> list[tuple[str, CommandResult]]:
    """The scripted pass as a procedure; a command due at or after `end_s` is not sent.

    Each command is sent at its second and waited for (completed, failed, or COMMAND_TIMEOUT_S):
    returns (label, result) per command, with the time-tagged one after the command carrying it."""
    results: list[tuple[str, CommandResult]] = []
    for at_s, name, args in SCRIPT:
        if at_s >= end_s:
            break
        if at_s > gs.now():
            gs.wait(at_s - gs.now())
        if name == "schedule_insert":
            obt = gs.parameters().get("obt_s", {}).get("value", 0.0)
            args = dict(args, release_s=int(obt) + SCHEDULED_S)
        try:
            result = gs.send(name, args, timeout=min(COMMAND_TIMEOUT_S, end_s - gs.now()))
        except WaitTimeoutError:
            result = gs.last
        except ClientError as exc:
            say("%s refused: %s" % (name, exc))
            continue
        assert result is not None
        results.append((name, result))
        if result.embedded is not None:
            results.append((RELEASED, gs.command(result.embedded)))
    return results


def run_mission(
    seconds: int = 5400,
    ber: float = 2e-4,
    interleave: int = 5,
    seed: int = 1,
    out_dir: str | None = "out",
    link: str = "uart",
    stats: dict | None = None,
    web_console: bool = False,
    speed: float = 10.0,
    port: int = 0,
) -> bool:
    """Fly the scripted pass; True when every command was verified and no telemetry was lost.

    link "uart": the byte link of a wired board (the channel flips bits at `ber`). link "lora": the
    board's SX1276 on the simulated radio medium (protocols.lora: one 255-byte CADU per packet, I=1,
    shortened frames; CLTUs in packets), with the medium flipping bits at `ber` and every packet
    taking its LoRa time on air; `interleave` is then the profile's (1). A `stats` dict gets the
    pass's figures (commands verified, and for LoRa what the radios carried).

    web_console: the ground server's API and web console on `port` (0: any free one) while the pass
    flies at `speed` times real time; after it the twin flies on until Ctrl-C."""
    lora_link = link == "lora"
    if lora_link:
        interleave = lora.INTERLEAVE
    console = Console()
    title_rule(
        console,
        "cubesat mission: %d s of flight software on the twin, full space link%s"
        % (seconds, " over LoRa" if lora_link else ""),
    )
    with tempfile.TemporaryDirectory(prefix="mission-") as scratch:
        flash = Path(scratch) / "flash"
        flash.mkdir()
        archive = archive_path(out_dir, scratch, "mission")
        twin = FlightTwin(
            flash, default_environment(tumble_dps=5.0, soc=0.8), interleave=interleave, link=link
        )
        kw: dict[str, Any] = {"ber": ber, "seed": seed}
        if lora_link:
            # the radio channel damages the packets; nothing else does. A round trip is an uplink
            # packet, the board's turn-taking gap and a downlink packet, each up to 1.25 s on air
            # at SF9: FOP-1 waits longer before it sends a frame again
            twin.world.medium.damage = BitErrors(ber, seed)
            kw = {"ber": 0.0, "seed": seed, "frame_len": lora.FRAME_LEN, "t1_ms": 12000}
        count = HkCount(twin)
        if web_console:
            kw.update(port=port, pace=speed, user="operator")
        with TwinGround(twin, archive, **kw) as gs:
            gs.after_step.append(count.probe)
            if web_console:
                url = gs.serve()
                console.print(
                    "console: %s  (log in as operator with the token %s)" % (url, gs.token), soft_wrap=True
                )
                console.file.flush()
            results = fly_pass(gs, seconds, console.print)
            gs.wait(seconds - gs.now())
            results = [(label, gs.command(r.id)) for label, r in results]  # as they ended
            app = twin.app
            queued = queued_hk(app)
            received = received_hk(gs)
            print_summary(console, gs, twin, results, ber, interleave, count.generated, queued)
            if lora_link:
                print_lora(console, twin)
            if out_dir is not None:
                plot(console, gs, Path(out_dir), archive)
            dl, fop = gs.link.dl, gs.link.term.fop
            completed = sum(1 for _label, r in results if r.ok)
            # every report generated onboard reached the ground, but for those still queued at the end
            missing = {s: n - queued.get(s, 0) - received.get(s, 0) for s, n in count.generated.items()}
            ok = (
                completed == len(results)
                and not any(missing.values())
                and dl.ext.lost_frames == 0
                and app.executive.errors() == 0
                and not fop.alerts
            )
            if stats is not None:
                stats.update(verified=completed, commands=len(results), lost_frames=dl.ext.lost_frames)
                stats["rs_corrected"] = dl.dec.corrected_symbols
                stats["rs_uncorrectable"] = dl.dec.uncorrectable
                if lora_link:
                    stats.update(lora_stats(twin))
            final = MODE_NAMES[app.modes.mode]
            if ok:
                console.print(
                    "[bold green]PASS[/] every command verified (%d of %d completed), mode %s, no task errors"
                    % (completed, len(results), final)
                )
            else:
                console.print(
                    "[bold red]FAIL[/] commands or telemetry were lost (%d of %d commands completed, "
                    "%d lost frames, FOP alerts %s, task errors %d)"
                    % (completed, len(results), dl.ext.lost_frames, fop.alerts, app.executive.errors())
                )
            core_rx, core_gen = received.get(1, 0), count.generated.get(1, 0)
            console.print(
                "     housekeeping set 1: %d reports received of %d generated onboard" % (core_rx, core_gen)
                + ("" if core_rx + queued.get(1, 0) == core_gen else " (%d lost)" % missing.get(1, 0))
            )
            if web_console:
                _fly_on(gs, console)
            return ok


def _fly_on(gs: TwinGround, out: Console) -> None:
    """The console's spacecraft flies on (at its pace) until Ctrl-C."""
    out.print("the pass is over; the twin flies on for the console until Ctrl-C")
    out.file.flush()
    try:
        while True:
            gs.wait(60)
    except KeyboardInterrupt:
        out.print("stopped")
