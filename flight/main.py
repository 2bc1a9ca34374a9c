"""Entry point on a board (and on the emulated board): boot the flight application and run it.

    import flight.main; flight.main.main()      # what boot_select runs from the active slot

The board configuration (hal.boards.open_system) decides real or simulated hardware; this
module only composes. After a short health check (a few ticks with no task failure) it tells
the A/B boot selector the slot is good, then runs forever: paced by the real clock on
hardware, by the simulated world's clock otherwise (then `realtime` paces it to the wall).
"""

import sys

from flight.app import FlightApp, release
from flight.storage import HostFs

HEALTH_TICKS = 20


def _link_for(name):
    # the emulated board wires its flight UART to the host: the ground link of the twin inside it
    if name == "sim-twin" and sys.implementation.name == "micropython":
        try:
            import machine

            return machine.UART(1)
        except (ImportError, AttributeError, ValueError, OSError):
            return None
    return None


def _mark_good():
    try:
        import boot_select
    except ImportError:
        return False  # started by hand, not by the A/B boot selector
    boot_select.mark_good()
    return True


def boot(board=None, flash="flash", system=None):
    """The board's system (or `system`, already opened) and the flight application on it."""
    from hal.boards import detect, open_system
    from hal.clock import ticks_us

    if system is None:
        name = board or detect()
        system = open_system(name, _link_for(name))
    key = _read_key(flash, "sdls_key.hex")
    # the ground link: the system's byte link (UART, the emulator's pty), or the board's LoRa radio
    # where its definition says so ("link": "lora"; flight.lora_link, protocols.lora)
    lora = system.board.defn.get("link") == "lora"
    if lora:
        from flight.lora_link import LoraLink

        link = LoraLink()
    else:
        link = system.link
    app = FlightApp(
        system.board,
        system.clock,
        HostFs(flash),
        link,
        watchdog=system.watchdog,
        rtc_s=system.rtc_s,
        reset_cause=system.reset_cause,
        # execution time of tasks and rate groups, so OVERRUN events are reported on every board:
        # the system's own clock (a board's time.ticks_us), else this interpreter's microseconds
        cpu_us=getattr(system, "cpu_us", None) or ticks_us,
        key=key,
        admin_key=_read_key(flash, "sdls_admin_key.hex") if key is not None else None,
    )
    if lora:
        from flight.lora_link import carry_link

        carry_link(link, app, system.board, system.clock)
    if sys.implementation.name == "micropython":
        release("hal.boards")  # detection and definitions: boot only (the board keeps its dict)
    return system, app


def _read_key(flash, name):
    """An SDLS key provisioned on the board (hex in <flash>/<name>: sdls_key.hex for the operators,
    sdls_admin_key.hex for admin commands), or None: unauthenticated."""
    try:
        with open(flash + "/" + name) as f:
            text = f.read().strip()
    except OSError:
        return None
    import binascii

    return binascii.unhexlify(text)


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
