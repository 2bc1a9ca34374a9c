"""Entry point on a board (and on the emulated board): boot the flight application and run it.

    import flight.main; flight.main.main()      # what boot_select runs from the active slot

The board configuration (hal.boards.open_system) decides real or simulated hardware; this
module only composes. After a short health check (a few ticks with no task failure) it tells
the A/B boot selector the slot is good, then runs forever: paced by the real clock on
hardware, by the simulated world's clock otherwise (then `realtime` paces it to the wall).
"""

from flight.app import release

HEALTH_TICKS = 20


def _mark_good():
    try:
        import boot_select
    except ImportError:
        return False  # started by hand, not by the A/B boot selector
    boot_select.mark_good()
    return True


def boot(board=None, flash="flash", system=None):
    """The board's system (or `system`, already opened) and the flight application on it; the
    code that does it runs once and is released again (flight/assembly.py)."""
    from flight import assembly

    try:
        return assembly.boot(board, flash, system)
    finally:
        release("flight.assembly")


def main(board=None, flash="flash", ticks=None, realtime=True):
    system, app = boot(board, flash)
    tick = app.executive.tick_ms
    simulated = hasattr(system, "env")
    for _ in range(HEALTH_TICKS):
        app.step()
        system.advance(tick)
    if app.executive.errors() == 0:
        _mark_good()
    print(
        "flight: boot %d, mode %d, running%s"
        % (
            app.boot.count,
            app.modes.mode,
            "" if app.comms.security else " UNKEYED: telecommands are not authenticated",
        )
    )
    if not simulated:
        app.run(ticks)
        return app
    try:
        import emuboard  # the emulated board: its host calls us every tick, the REPL stays usable
    except ImportError:
        emuboard = None
    if emuboard is not None and ticks is None:

        def step():
            app.step()
            system.advance(tick)
            if getattr(system.board, "reset_requested", False):  # a commanded reboot
                import machine

                machine.reset()  # the emulated board's host restarts MicroPython: boot_select again

        emuboard.run_main(step, tick)
        return app
    from hal.clock import RealClock, ticks_add, ticks_diff

    wall = RealClock()
    deadline = wall.ticks_ms()
    n = 0
    while ticks is None or n < ticks:
        app.step()
        system.advance(tick)
        n += 1
        if realtime:
            deadline = ticks_add(deadline, tick)
            late = ticks_diff(deadline, wall.ticks_ms())
            if late > 0:
                wall.sleep_ms(late)
    return app
