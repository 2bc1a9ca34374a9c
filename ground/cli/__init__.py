"""`cubesat`: the one command operators and test engineers use.

Subcommands are added as the ground segment grows (twin, send, watch, archive,
dict, build, flash, bench, emulate); each has --help.

The package holds one module per topic; this one puts the `cubesat` group together:

    root           the group: global options, lazy subgroups, the safety net for errors
    errors         exit codes and the one line for an error no command handled
    files          writing output files and folders (one-line errors)
    options        option types and sets the commands share (finite floats, keys, --server)
    mission        mission
    boards         build, heap, emulate
    flash          flash deploy/restart/status/esp32/uf2/dfu
    dictionary     dict commands/telemetry/params/xtce/yamcs
    twin           twin
    send           send (and the two thruster arming steps)
    watch          watch
    ground_server  ground (and ground token), history, events
    transfers      ground transfers list/put/get/cancel/resume (CFDP through the ground server)

`archive` (ground/archive_cli.py, loaded lazily), `bench` (board_tools/bench) and `passes`
(ground/passes_cli.py) live beside the parts they drive. flash, emulate, heap and bench front the
board tools (board_tools/): of the ground, only this package imports them (tests/test_layers.py).
Every module imports only click at the top, so that `cubesat --help` is fast; heavy modules load
inside commands.
"""

from __future__ import annotations

from board_tools.bench import bench
from ground.cli.boards import build, emulate, heap
from ground.cli.dictionary import dictionary
from ground.cli.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_SOFTWARE
from ground.cli.files import write_output as _write_output
from ground.cli.flash import flash
from ground.cli.ground_server import events, ground, history
from ground.cli.mission import mission
from ground.cli.options import Finite as _Finite
from ground.cli.options import resolve_server as _resolve_server
from ground.cli.options import server_options as _server_options
from ground.cli.root import main
from ground.cli.send import send
from ground.cli.transfers import transfers
from ground.cli.twin import twin
from ground.cli.uplink_bundle import uplink_bundle
from ground.cli.watch import watch
from ground.passes_cli import passes

for _command in (
    mission,
    build,
    heap,
    emulate,
    flash,
    bench,
    dictionary,
    twin,
    send,
    uplink_bundle,
    watch,
    passes,
    ground,
    history,
    events,
):
    main.add_command(_command)
ground.add_command(transfers)

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "EXIT_SOFTWARE",
    "_Finite",  # the names below keep their old spelling for ground/archive_cli.py
    "_resolve_server",
    "_server_options",
    "_write_output",
    "main",
]
