"""Run under MicroPython (or CPython): heap of the flight application on the simulated board.

Prints one line "heap code=<bytes> boot=<bytes> steady=<bytes> peak=<bytes> mode=<m>":
code   - bytecode and tables of flight/, protocols/ and the drivers, compiled from source here
         (a flight build freezes them into firmware flash, where they cost no heap);
boot   - what the application allocates to boot (its state, buffers, loaded files);
steady - the same after `ticks` ticks and a collection; peak - the most live at any sample
         (collected every 50 ticks, as the slow rate group does on a board).
The simulated world is imported and built first, so none of its memory is counted.
"""

import gc
import sys

try:
    import tracemalloc
except ImportError:
    tracemalloc = None


def allocated():
    if tracemalloc is not None:
        return tracemalloc.get_traced_memory()[0]
    return gc.mem_alloc()


def main(flash_dir, ticks):
    if tracemalloc is not None:
        tracemalloc.start()
    from flight.storage import HostFs
    from hal.sim.board.world import SimWorld

    world = SimWorld()
    gc.collect()
    base = allocated()
    # the modules the application builds itself from, held here: FlightApp releases its assembly
    # module after boot, and this figure counts code as a frozen build does (in flash, kept)
    import flight.assembly
    from flight.app import FlightApp

    keep = flight.assembly
    gc.collect()
    code = allocated() - base
    app = FlightApp(
        world.board, world.clock, HostFs(flash_dir), world.link, watchdog=world.watchdog, rtc_s=world.rtc_s
    )
    gc.collect()
    boot = allocated() - base - code
    peak = 0
    for i in range(ticks):
        app.step()
        world.advance(100)
        world.link.ground_read()
        if i % 50 == 0:
            gc.collect()
            peak = max(peak, allocated() - base - code)
    gc.collect()
    steady = allocated() - base - code
    errors = sum(t.errors for t in app.executive.tasks)
    del keep
    print(
        "heap code=%d boot=%d steady=%d peak=%d mode=%d errors=%d"
        % (code, boot, steady, peak, app.modes.mode, errors)
    )


if __name__ == "__main__":
    sys.path.insert(0, sys.argv[3] if len(sys.argv) > 3 else ".")
    main(sys.argv[1], int(sys.argv[2]))
