"""The flight application's RAM on a 32-bit MicroPython, measured on the emulated board.

    figures = measure(bundle_dir, minutes=30)      # the emulated bundle (.mpy + hal.sim)
    figures.need("rp2040")                         # bytes the rp2040 bundle needs on its board

Method (the WebAssembly port is 32-bit, like every target MCU, and loads the same .mpy bytecode
into RAM as stock firmware does; it collects garbage only between top-level calls, so the
allocation of one tick is exact):

1. `base`: live heap of a fresh interpreter (the emulator's own prelude; a real board's start-up
   is already taken out of its published free heap).
2. The modules the flight application loads on that board (flight, protocols and hal outside
   hal.sim, as a first boot in another interpreter lists them) are imported first, so every qstr
   and module they share with the simulator is counted as the flight's, as on a real board,
   which carries no simulator. Then `sim`: the simulated world the emulated board flies
   (hal.sim: chips, environment, orbit) is built, and its live heap is measured on its own.
3. The flight application boots on that world (flight.main.boot, the .mpy bundle) and flies
   `minutes` simulated minutes: housekeeping downlink, and a ping every `command_every_s`,
   authenticated with SDLS like a real pass, from a ground Terminal on the host whose downlink
   verifies every command. After each chunk of ticks the live heap is taken after a top-level
   GC; each tick's allocation is `gc.mem_alloc()` around `app.step()`.
4. `flight` = the largest live heap - base - sim; `worst_tick` = the largest single tick after the
   first; `first_tick` = the first (all three rate groups and the mode change out of BOOT, on the
   heap as boot left it). The application's peak is the live heap plus one tick's allocation at
   the worse of the two moments: flight_boot + first_tick, or flight + worst_tick.
5. Per board definition, in a fresh interpreter on a fresh flash: its definition module and
   machine layer, and the flight application (its modules, then its boot) on that board's
   simulated chips, against the same on the sim-twin (`board_flight`: the drivers and subsystems, such as
   propulsion, that a board without those chips does not build).
   A board whose bundle runs packages in place from a ROMFS partition (firmware_builds/romfs.py)
   flies them from the emulated board's ROM partition here, so board_flight also holds the heap
   their bytecode does not take (the end of boot, with the boot code still loaded, is not re-measured:
   boot_peak stays the emulated bundle's, an upper bound).
   A board needs that peak + board_flight + its definition module and machine layer
   + the native (viper) code its bundle carries, which the WebAssembly port cannot load
   (counted at its .mpy size, an upper bound).
6. `transfer`: at the end of the run the ground uplinks a file of TRANSFER_BYTES by CFDP class 2
   into files/ (ground/file_transfer.py through the same Terminal): the largest live heap the
   onboard file service, its CFDP modules and the transaction add while it runs. A board with
   need + transfer inside its budget takes files and radio updates (flight/file_service.py
   refuses a transfer when the free heap is short of it).
7. `update`: then the update's modules stage a whole bundle (every file of the emulated bundle's
   manifest into the other A/B slot, boot_select's own pointer file): the largest live heap
   after stage() and across its steps. Within stage() nothing more is live than one manifest
   line and its entry (flight/slot_manifest.py); what it allocates in all is garbage of that
   size, many times over, which this port only collects between top-level calls, so it is not
   taken as a peak. On a board whose packages run from ROMFS (`board_update`), the update also
   changes the image (board_tools/board_heap_rom.py): the new slot's copy is built from a patch
   and the running image saved from the partition before the files are staged.
8. `mark_good`: in a fresh interpreter, what the app's health report allocates in all (an upper
   bound of its peak): main.py dropped boot_select before the app ran (firmware_builds/board_main.py),
   so mark_good imports it again (boot_select.mpy, as deploy installs it), switches the pointer and
   lets it go. It happens after HEALTH_TICKS ticks, on a live heap no larger than `flight`.
"""

from __future__ import annotations

import ast
import dataclasses
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from board_tools import board_heap_probes as probe
from board_tools import board_heap_programs as programs
from board_tools import board_heap_rom
from board_tools.board_heap_probes import (
    SETUP,
    TICK_MS,
    HeapMeasureError,
    live,
    raw_repl,
    run,
)
from board_tools.emuboard import EmulatedBoard, EmulatorError

SIMULATED = "sim-twin"  # the board the long run flies: every chip the definitions name
SPARE = 0.15  # every bundle that flies from .mpy keeps 15% of its board's budget spare
TICKS_PER_CALL = 10  # while measuring single ticks: the garbage of 10 ticks between collections


@dataclasses.dataclass
class HeapFigures:
    base: int  # fresh interpreter
    sim: int  # the simulated world alone
    flight: int  # the flight application's largest live heap (bytecode, qstrs and state)
    flight_boot: int  # the same right after boot
    worst_tick: int  # the largest allocation of one app.step() after the first
    first_tick: int  # the first app.step() after boot: every rate group, the mode change from BOOT
    ticks: int
    commands_sent: int
    commands_verified: int
    board_modules: dict[str, int]  # per board definition: its definition module + machine layer
    # per board definition: the flight application's heap at boot on that board minus on the
    # sim-twin (which has every chip): the drivers and subsystems a smaller board does not build
    board_flight: dict[str, int]
    native: dict[str, int]  # per target: bytes of native code its bundle carries
    tm_queue_full: int = 0  # what a full TM queue adds (the radio down): see _FILL
    transfer: int = 0  # what an uplink file transfer adds while it runs: see _transfer
    update: int = 0  # what staging an update adds at its largest: see _update
    # per board definition whose bundle runs the flight package from ROMFS: the same, measured
    # there (the update's modules run from ROM)
    board_update: dict[str, int] = dataclasses.field(default_factory=dict)
    boot_peak: int = 0  # the live heap at the end of boot, the code that built the app still loaded
    # what the app's mark_good allocates importing boot_select.mpy again and switching the pointer
    mark_good: int = 0

    def update_on(self, hal_board: str) -> int:
        """What staging an update adds on a board with this definition."""
        return self.board_update.get(hal_board, self.update)

    def worst(self, target: str, hal_board: str, with_sim: bool = False) -> int:
        """`need` with the TM queue full: the radio down must not run the board out of heap."""
        return self.need(target, hal_board, with_sim) + self.tm_queue_full

    def need(self, target: str, hal_board: str, with_sim: bool = False) -> int:
        """Heap the flight application needs on `target` (a firmware_builds target); an emulated
        bundle (`with_sim`) also carries the simulated world."""
        return (
            self.peak()
            + self.board_modules.get(hal_board, 0)
            + self.board_flight.get(hal_board, 0)
            + self.native.get(target, 0)
            + (self.sim if with_sim else 0)
        )

    def peak(self) -> int:
        """Live heap plus the allocation of one tick, at the worst of four moments: the end of
        boot (before its code is released), the first tick on the heap right after boot, any later
        tick on the largest live heap, or the health report (mark_good) on that heap."""
        return max(
            self.boot_peak,
            self.flight_boot + self.first_tick,
            self.flight + max(self.worst_tick, self.mark_good),
        )

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _flash_with(bundle: Path, key: bytes | None) -> Path:
    flash = Path(tempfile.mkdtemp(prefix="board_heap-"))
    top = str(bundle)  # the bundle's own manifest.json/.cbor/.py stay out, at its top only
    shutil.copytree(
        bundle,
        flash / "slot",
        ignore=lambda d, names: [n for n in names if d == top and n.startswith("manifest.")],
    )
    (flash / "flash").mkdir()
    if key is not None:
        (flash / "flash" / "sdls_key.hex").write_text(key.hex())
    return flash


def _per_board(
    bundle: Path, boards: list[str], key: bytes | None, roms: dict[str, bytes] | None = None
) -> tuple[dict[str, int], dict[str, int], dict[str, list[str]], dict[str, int], int]:
    """Per board definition, each in a fresh interpreter on a fresh flash: the live heap of its
    definition module and machine layer, and the flight application's live heap on that board's
    simulated chips (its modules, imported before the simulator, plus its boot: which drivers
    and subsystems it builds); and the modules that flight loads there (from a first boot).
    A board in `roms` runs the packages of that ROMFS image in place from the emulated board's ROM
    partition (mounted at /rom, ahead of the slot on sys.path), as its bundle does on the board;
    for it, staging an update that changes that image is measured there too (`_update`: its
    modules run from ROM)."""
    modules: dict[str, int] = {}
    updates: dict[str, int] = {}
    boots: dict[str, int] = {}
    loaded: dict[str, list[str]] = {}
    roms = roms or {}
    flash = _flash_with(bundle, key)
    probe.slots_for_update(bundle, flash)
    manifest = board_heap_rom.read_manifest(flash)
    changes = {name: board_heap_rom.rom_change(image, name) for name, image in roms.items()}
    rom_kb = max([-(-len(img) // 4096) * 4 for img in roms.values()] or [0])
    rom_dir = Path(tempfile.mkdtemp(prefix="board_heap-rom-"))

    def fresh(board: EmulatedBoard, name: str):
        for old in (flash / "flash").iterdir():  # a first boot each time, like the long run's
            if old.name != "sdls_key.hex":
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        for old in (flash / "slot_b").iterdir():  # an update stages from nothing each time
            if old.name != "manifest.json":
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        board_heap_rom.lay_out(flash, manifest, changes.get(name))  # a ROMFS board's changes its image
        if rom_kb:  # the partition as that board's deploy leaves it (blank for a board without one)
            board.rom_file.write_bytes(roms.get(name, b""))
        board.restart()
        return raw_repl(board)

    def setup(name: str) -> str:
        return SETUP + ("sys.path.insert(0, '/rom')\n" if name in roms else "")

    try:
        with EmulatedBoard(flash, uart_pty=False, rom_kb=rom_kb, rom_file=rom_dir / "rom0") as board:
            t = fresh(board, SIMULATED)
            try:
                mark_good = probe.mark_good(t)
            finally:
                t.close()
            for name in boards:
                t = fresh(board, name)
                try:
                    run(t, setup(name) + programs.sim(name))
                    programs.boot(t, name)
                    loaded[name] = ast.literal_eval(run(t, programs.LIST).strip())
                finally:
                    t.close()
                t = fresh(board, name)
                try:
                    run(t, setup(name) + "import hal.boards")
                    before = live(t)
                    run(
                        t,
                        "import hal.boards\nhal.boards.definition(%r)\nimport hal.boards.machine_board"
                        % name,
                    )
                    modules[name] = live(t) - before
                    before = live(t)
                    run(t, programs.import_first(loaded[name]))
                    imported = live(t) - before
                    run(t, programs.sim(name))
                    before = live(t)
                    programs.boot(t, name)
                    boots[name] = imported + live(t) - before
                    if name in roms:
                        updates[name] = probe.update(t)
                finally:
                    t.close()
    finally:
        shutil.rmtree(flash, ignore_errors=True)
        shutil.rmtree(rom_dir, ignore_errors=True)
    return modules, boots, loaded, updates, mark_good


def measure(
    bundle: Path,
    minutes: float = 30,
    command_every_s: float = 10,
    tick_window_s: float = 70,
    key: bytes | None = bytes(range(32)),
    native: dict[str, int] | None = None,
    boards: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    roms: dict[str, bytes] | None = None,
) -> HeapFigures:
    """Fly the emulated bundle at `bundle` and measure its heap (see the module docstring); `roms`:
    per board definition, the ROMFS image its bundle runs packages from (see _per_board)."""
    from ground.terminal import Terminal

    term = Terminal(key=key)
    flash = _flash_with(bundle, key)
    probe.slots_for_update(bundle, flash)
    chunk = max(1, int(command_every_s * 1000 // TICK_MS))
    total = int(minutes * 60_000 // TICK_MS)
    sent: list[tuple[int, int]] = []
    try:
        modules, boots, loaded, updates, mark_good = _per_board(
            bundle, [SIMULATED, *(boards or [])], key, roms
        )
        with EmulatedBoard(flash, uart_pty=False) as board:
            t = raw_repl(board)
            try:
                run(t, SETUP)
                base = live(t)
                run(t, programs.import_first(loaded[SIMULATED]))
                before = live(t)
                run(t, programs.sim(SIMULATED))
                sim = live(t) - before
                programs.boot(t, SIMULATED)
                boot_peak = live(t)
                run(t, "del _A")
                boot_live = live(t)
                peak_live = boot_live
                now = 0
                term.start(now)
                done = 0
                window = int(tick_window_s * 1000 // TICK_MS)
                while done < total:
                    if done == window:
                        run(t, "exclude(False)")
                    n = min(TICKS_PER_CALL if done < window else chunk, total - done)
                    commanded = done % chunk == 0
                    if commanded:
                        sent.append(term.command("ping"))
                    now = probe.fly(t, term, now, n, done < window, commanded)
                    done += n
                    peak_live = max(peak_live, live(t))
                    if progress is not None and done % (chunk * 30) == 0:
                        progress("%d/%d ticks, live %d B" % (done, total, peak_live - base - sim))
                stats = ast.literal_eval(run(t, "print(repr(W))").strip())
                tm_queue_full = probe.queue_full(t)
                transfer = probe.transfer(t, term, now)
                update = probe.update(t)
            finally:
                t.close()
    except EmulatorError as e:
        raise HeapMeasureError(str(e)) from None
    finally:
        shutil.rmtree(flash, ignore_errors=True)
    verified = sum(1 for r in sent if 7 in term.verdict(r))
    modules.pop(SIMULATED)
    return HeapFigures(
        base=base,
        sim=sim,
        flight=peak_live - base - sim,
        flight_boot=boot_live - base - sim,
        boot_peak=boot_peak - base - sim,
        worst_tick=int(stats[0]),
        first_tick=int(stats[2]),
        ticks=int(stats[1]),
        commands_sent=len(sent),
        commands_verified=verified,
        board_modules=modules,
        board_flight={b: boots[b] - boots[SIMULATED] for b in boards or []},
        native=dict(native or {}),
        tm_queue_full=tm_queue_full,
        transfer=transfer,
        update=update,
        board_update=updates,
        mark_good=mark_good,
    )
