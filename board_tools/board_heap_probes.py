"""The emulated board's raw-REPL session for `cubesat heap` (board_tools/board_heap.py, which says
the method) and the probes that run on the flight it measured, one phase each:

    queue_full(t)              a full TM queue (the radio down)
    transfer(t, term, now)     an uplink file transfer by CFDP class 2
    update(t)                  staging an update into the other A/B slot
    mark_good(t)               the health report, which imports boot_select again

Each returns what its phase adds to the live heap at its largest (mark_good: what it allocates in all).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from board_tools.emuboard import EmulatedBoard
from board_tools.errors import BoardToolsError
from board_tools.flash.deploy import boot_files

TICK_MS = 100

# What every measuring session starts with: the bundle's slot first on sys.path, the board's root.
SETUP = """import sys, os, gc
sys.path.insert(0, '/slot')
os.chdir('/')
"""


class HeapMeasureError(BoardToolsError, RuntimeError):
    """The emulated board could not be measured (it failed to boot or to answer)."""


def live(t) -> int:
    # the port collects only when control returns to JS: collect in one command, measure in the next
    t.exec("import gc\ngc.collect()")
    return int(t.exec("import gc\nprint(gc.mem_alloc())").decode().strip())


def run(t, code: str, timeout: float = 120) -> str:
    from mpremote.transport import TransportError

    try:
        out, err = t.exec_raw(code, timeout=timeout)
    except TransportError as e:
        raise HeapMeasureError("the emulated board did not answer: %s" % e) from None
    if err:
        raise HeapMeasureError("the emulated board failed: %s" % err.decode(errors="replace").strip()[-500:])
    return out.decode()


def raw_repl(board: EmulatedBoard):
    from mpremote.transport_serial import SerialTransport

    from board_tools.flash.raw_repl import enter_raw_repl

    t = SerialTransport(board.port, baudrate=115200)
    enter_raw_repl(t, soft_reset=False)
    return t


def fly(t, term, now: int, ticks: int, measure: bool = False, uplink: bool = True) -> int:
    """`ticks` ticks of the flight (`measure`: the run program times each), with the ground
    Terminal's uplink at `now` on the link first (unless `uplink` is False) and the downlink handed
    to it after them; returns the time then. (MicroPython's b''.hex() gives b'': an empty downlink
    prints '-'.)"""
    code = "run(%d, %s)\nd = sy.link.ground_read()\nprint(d.hex() if d else '-')\ndel d" % (ticks, measure)
    if uplink:
        code = "sy.link.ground_write(%r)\n" % term.uplink(now) + code
    out = run(t, code).strip()
    try:
        down = b"" if out == "-" else bytes.fromhex(out)
    except ValueError:
        raise HeapMeasureError("unexpected output from the board: %r" % out[-300:]) from None
    now += ticks * TICK_MS
    term.downlink(down, now)
    return now


# The radio down (a TX that keeps failing, a reset radio): the TM queue does not drain and holds
# TM_QUEUE_MAX packets, half of them payload file parts (flight/app.py lets a part wait beyond
# that), the other half the largest housekeeping report, the health set.
_FILL = """from flight.app import TM_QUEUE_MAX
from flight.payload import PART
app.tm_queue[:] = []
for _ in range(TM_QUEUE_MAX // 2):
    app.emit(13, 2, bytes(PART + 4))
for _ in range(TM_QUEUE_MAX - TM_QUEUE_MAX // 2):
    app.telemetry.report(3)
"""


def queue_full(t) -> int:
    """The live heap a full TM queue adds to an empty one (see _FILL)."""
    run(t, "app.tm_queue[:] = []")
    empty = live(t)
    run(t, _FILL)
    full = live(t) - empty
    run(t, "app.tm_queue[:] = []")
    return full


TRANSFER_BYTES = 12_000  # a dozen File Data PDUs, checkpoints included: the steady working set
_TRANSFER_S = 300


def transfer(t, term, now: int) -> int:
    """The live heap an uplink CFDP transfer of TRANSFER_BYTES adds at its largest (see step 6)."""
    import random

    from ground.file_transfer import FileTransfers

    with tempfile.TemporaryDirectory(prefix="board_heap-cfdp-") as tmp:
        src = Path(tmp) / "probe.bin"
        src.write_bytes(random.Random(7).randbytes(TRANSFER_BYTES))
        files = FileTransfers(term, Path(tmp) / "down")
        before = peak = live(t)
        up = files.put(src, "files/heap_probe.bin", now)
        for _ in range(_TRANSFER_S):
            files.poll(now)
            now = fly(t, term, now, 10)
            peak = max(peak, live(t))
            if up.done:
                break
        if not up.ok:
            raise HeapMeasureError("the heap probe's file transfer failed: %r" % (up.progress(now),))
    run(t, "import os\nos.remove((app.fs.root.rpartition('/')[0] or '.') + '/files/heap_probe.bin')")
    return peak - before


def slots_for_update(bundle: Path, flash: Path) -> None:
    # an active slot a (the bundle with its manifest) and a slot b with a new manifest (the same
    # one: every file comes from slot a), for update(); the flight itself runs from /slot
    shutil.copytree(bundle, flash / "slot_a")
    (flash / "slot_b").mkdir()
    shutil.copyfile(bundle / "manifest.json", flash / "slot_b" / "manifest.json")
    # boot_select as deploy installs it (not main.py: the harness boots the flight itself)
    (flash / "boot_select.mpy").write_bytes(dict(boot_files(None))["boot_select.mpy"])


def mark_good(t) -> int:
    """What the app's health report allocates in all, on a board with slot a on trial (see step 8)."""
    state = {"active": "b", "pending": "a", "attempts": 1, "max_attempts": 3, "slots": {}}
    run(t, SETUP + "import json\nwith open('/boot_state.json', 'w') as f:\n    json.dump(%r, f)" % state)
    run(t, "sys.path.insert(0, '/slot_a')")
    live(t)
    out = run(
        t,
        "a = gc.mem_alloc()\nimport boot_select\nboot_select.mark_good()\ndel boot_select\n"
        "print(gc.mem_alloc() - a, 'boot_select' in sys.modules)",
    ).split()
    active = run(t, "print(json.load(open('/boot_state.json'))['active'])\nos.remove('/boot_state.json')")
    if out[-1] != "False" or active.strip() != "a":
        raise HeapMeasureError("the heap probe's mark_good did not switch and let go: %s" % " ".join(out))
    return int(out[-2])


def update(t) -> int:
    """The live heap staging an update adds at its largest (see step 7)."""
    before = live(t)
    run(t, "import boot_select, flight.update, flight.update_command\nU = flight.update.Update('/')")
    run(t, "U.stage()")
    peak = live(t)
    while True:
        out = run(t, "n = 0\nwhile n < 100 and U.step():\n    n += 1\nprint(n, U.state)").split()
        peak = max(peak, live(t))
        if out[0] != "100":
            break
    if out[1] != "staged":
        raise HeapMeasureError("the heap probe's update did not stage: %s" % " ".join(out))
    run(t, "del U")
    return peak - before
