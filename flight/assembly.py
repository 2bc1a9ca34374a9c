"""The flight application built at boot: the drivers of the chips the board has, the services,
the executive's tasks, wired onto one FlightApp.

Code that runs once per boot: FlightApp.__init__ imports this module, runs `assemble` and then
releases the module (flight.app.release), so its bytecode does not stay on a board's heap for the
whole flight. Nothing built here may keep a reference into this module (no lambda or closure
defined here outlives `assemble`): that would keep all of it alive.
"""

import sys

from flight import modes
from flight.adcs import Adcs, Bdot, SunPointing
from flight.app import LOAD_PRIORITY, FlightApp
from flight.audit import KIND_BOOT, AuditLog
from flight.boot import BootRecord
from flight.commands import Dispatcher
from flight.comms import Comms
from flight.dictionary import APID, RATE_GROUPS
from flight.events import EventReporter
from flight.executive import Executive
from flight.fdir import Fdir
from flight.packet_store import PacketStoreService
from flight.params import ParamTable
from flight.payload import Payload
from flight.power import LoadShedder
from flight.power_monitor import PowerMonitor
from flight.schedule import Schedule
from flight.sensors import Sensors
from flight.storage import HostFs
from flight.telemetry import Telemetry
from flight.thermal import HeaterController
from hal.errors import HalError

_I2C_DRIVERS = {
    "lis3mdl": ("hal.drivers.lis3mdl", "LIS3MDL"),
    "lsm6dsox": ("hal.drivers.lsm6dsox", "LSM6DSOX"),
    "ina219": ("hal.drivers.ina219", "INA219"),
    "tmp117": ("hal.drivers.tmp117", "TMP117"),
}


def _driver(where):
    """The driver class at (module, class name), imported on first use."""
    module, name = where
    return getattr(__import__(module, None, None, (name,)), name)


def _try(make):
    """A driver, or None when its chip does not answer at boot (FDIR sees it as a fault)."""
    try:
        return make()
    except (OSError, ValueError, KeyError, HalError):  # DeviceNotFoundError: a silent chip
        return None


def assemble(
    app,
    board,
    clock,
    fs,
    link,
    scid=0x2A,
    apid=APID,
    key=None,
    admin_key=None,
    reset_cause=0,
    cpu_us=None,
    rtc_s=None,
    tick_ms=100,
    watchdog=None,
    interleave=5,
):
    """Build `app` (a FlightApp) on `board`; the arguments are FlightApp's."""
    app.board = board
    app.clock = clock
    app.fs = fs
    app.apid = apid
    app.rtc_s = rtc_s  # onboard time source (s); None: uptime (+ time_set offset)
    app.time_offset = 0.0
    app._t0_ms = clock.ticks_ms()
    app._uptime_ms = 0
    app._last_ms = app._t0_ms
    app.tm_queue = []
    app._stamp = bytearray(6)
    app.tm_dropped = 0
    app.tm_seq = 0
    app.msg_counter = 0
    app.thruster_anomalies = []
    app.heap_free = 0

    # persistence first: everything after this may report events and audit records
    app.boot = BootRecord(fs, reset_cause)
    app.boot_s = 0.0
    app.audit = AuditLog(fs)
    app.events = EventReporter(app.emit)
    app.stores = PacketStoreService(fs, app.events.report)
    app.params = ParamTable(fs)
    app.schedule = Schedule(fs)
    app.payload = Payload(fs, app.events.report)
    app.modes = modes.ModeManager(app.uptime, app._mode_changed)
    app.dispatcher = Dispatcher(app.emit, app._audit_command)
    # the file service is loaded when a CFDP packet or a file command comes (FlightApp.file_service)
    # and at boot only when a transfer was cut by a reset
    app.files = None
    app.updater = None  # flight/update.py's FlightUpdate, from the first update command on
    app.comms = Comms(
        link,
        scid,
        app._deliver,
        app.events.report,
        interleave=interleave,
        key=key,
        fs=fs if key is not None else None,
        admin_key=admin_key,
    )

    # hardware
    d = board.defn
    app.sensors = Sensors(limit=5)
    _make_drivers(app, board, d)
    app.loads = {}
    for name, pin in d.get("loads", {}).items():
        app.loads[name] = board.pin(pin)
    app.shedder = LoadShedder({n: LOAD_PRIORITY.get(n, 2) for n in app.loads} or {"obc": 0})
    app.power = PowerMonitor()
    app.adcs = Adcs(
        Bdot(app.params["adcs.bdot_gain"], d["max_dipole"], app.params["adcs.done_rate_dps"], hold=30),
        SunPointing(app.params["adcs.sun_gain"], 4e-3, d["max_dipole"]),
        _make_coils(board, d),
    )
    app.heater = HeaterController(app.params["thermal.heater_on_c"], app.params["thermal.heater_off_c"])
    # propulsion (and its driver) only on a board with thrusters: the modules are heap
    app.propulsion = None
    valves = _make_valves(board, d, clock)
    if valves:
        from flight.propulsion import Propulsion

        app.propulsion = Propulsion(valves, app.events.report)
    app.radio = None
    if d.get("spi"):
        dev = d["spi"][0]["devices"].get("sx1276")
        if dev is not None:
            app.radio = _try(lambda: _sx1276(board, dev, clock))
    app.fdir = Fdir(app)
    app.telemetry = Telemetry(app)
    # The components, one entry each: the dispatcher runs a command on the first with its
    # tc_<command> method (flight/commands.py), each housekeeping value comes from the one whose
    # value(name) answers it (flight/telemetry.py), and each reaches the others through `app`.
    # A new subsystem is its module, its entry here and its task in the rate groups below.
    parts = [app.telemetry, app.modes, app.events, app.stores, app.params, app.schedule, app.payload]
    parts += [app.fdir, app.comms, app.adcs, app.sensors, app.power, app.shedder, app.heater]
    if app.propulsion is not None:
        parts.append(app.propulsion)
    for part in parts:
        part.app = app
    parts.append(app)  # the app itself: the services it loads on demand
    parts = tuple(parts)
    app.dispatcher.components = parts

    app.executive = Executive(
        tick_ms, cpu_us, app.events.report, watchdog.feed if watchdog else None, gc_idle=True
    )
    periods = dict(RATE_GROUPS)
    # each component's tasks, in rate-group order (the link's two units take turns: flight/comms.py)
    app.executive.add("fast", periods["fast"], "link_rx", app.comms.rx_task)
    if app.propulsion is not None:
        app.executive.add("fast", periods["fast"], "thrusters", app.propulsion.task)
    app.executive.add("fast", periods["fast"], "link_tx", app.comms.tx_task)
    for name, fn in (
        ("sensors", app.sensors.read),
        ("adcs", app.adcs.task),
        ("power", app.shedder.task),
        ("thermal", app.heater.task),
        ("fdir", app.fdir.task),
        ("modes", app.modes.task),
        ("schedule", app.schedule.task),
        ("payload", app.payload.task),
        ("housekeeping", app.telemetry.task),
        ("playback", app._task_playback),
    ):
        app.executive.add("control", periods["control"], name, fn)
    app.executive.add("slow", periods["slow"], "radio", app.comms.radio_task)
    app.executive.add("slow", periods["slow"], "downlink_files", app.payload.files_task)
    app.executive.add("slow", periods["slow"], "memory", app._task_memory)

    # each set's report reads its values from their components (asked once, here: every
    # component exists by now)
    app.telemetry.wire(parts)

    app.audit.append(app.obt(), KIND_BOOT, "boot %d cause %d" % (app.boot.count, reset_cause))
    app.events.report("BOOT", app.boot.count & 0xFFFF, reset_cause)
    app.stores.boot()
    # a transfer a reset cut resumes: its checkpoint store (flight/file_service.py KEPT) has files
    if fs.size("cfdp.a") or fs.size("cfdp.b"):
        app.file_service()
    if app.audit.repaired:
        app.events.report("STORAGE_REPAIRED", 1, min(app.audit.repaired, 65535))


def _make_drivers(app, board, d):
    # only the drivers of chips this board has are imported: each module is heap on a board
    found = {}
    for bus_id, bus in d["i2c"].items():
        for chip, addr in bus["devices"].items():
            if chip in _I2C_DRIVERS:
                found[chip] = _try(lambda c=chip, b=bus_id, a=addr: _driver(_I2C_DRIVERS[c])(board.i2c(b), a))
    s = app.sensors
    s.mag_drv = found.get("lis3mdl")
    s.gyro_drv = found.get("lsm6dsox")
    s.power_drv = found.get("ina219")
    s.thermo_drv = found.get("tmp117")
    adc_pins = d.get("sun_adc", ())
    if len(adc_pins) == 6 and None not in adc_pins:
        from hal.drivers.sun_sensor import CoarseSunSensor

        app.sensors.sun_drv = _try(lambda: CoarseSunSensor([board.adc(p) for p in adc_pins]))


def _make_coils(board, d):
    from hal.drivers.magnetorquer import Magnetorquer, MagnetorquerSet

    return MagnetorquerSet(
        [Magnetorquer(board.pwm(m["pwm"]), board.pin(m["dir"]), d["max_dipole"]) for m in d["magnetorquers"]]
    )


def _make_valves(board, d, clock):
    """The thruster valves: on GPIO switches ("thrusters"), or on the registers of a propulsion unit
    with its own controller on the RS-485 UART ("propulsion_unit": Modbus RTU)."""
    unit = d.get("propulsion_unit")
    if not d.get("thrusters") and unit is None:
        return []  # a board without thrusters never loads their driver (heap)
    from hal.drivers.thruster import ThrusterValve

    if unit is None:
        switches = [(board.pin(t["arm"]), board.pin(t["fire"])) for t in d["thrusters"]]
    else:
        from hal.drivers.modbus_propulsion import ModbusPropulsion

        port = d["uart"][unit["uart"]]
        de = board.pin(port["de"]) if "de" in port else None
        switches = ModbusPropulsion(
            board.uart(unit["uart"]), clock, de, unit["unit"], unit["valves"]
        ).switches()
    return [
        ThrusterValve(
            arm, fire, clock, max_on_ms=500, auto_disarm_ms=120000, budget_ms=60000, name="thruster%d" % i
        )
        for i, (arm, fire) in enumerate(switches)
    ]


def _sx1276(board, dev, clock):
    from hal.drivers.sx1276 import SX1276

    return SX1276(board.spi(0), board.pin(dev["cs"]), board.pin(dev["reset"]), clock, board.pin(dev["dio0"]))


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
        _forget_boot_helpers()
    return system, app


def _forget_boot_helpers():
    """Board detection and opening run once: their functions go (the next collection frees their
    bytecode); hal.boards itself stays imported, so nothing that holds it breaks."""
    import hal.boards

    for name in (
        "detect", "open_system", "open_board", "board_for", "names", "_machine_name", "_PORT_BOARDS",
        "SIMULATED_PLATFORMS", "definition", "_DEFINITIONS", "UnknownBoardError",
    ):  # fmt: skip
        if hasattr(hal.boards, name):
            delattr(hal.boards, name)


def _link_for(name):
    # the emulated board wires its flight UART to the host: the ground link of the twin inside it
    if name == "sim-twin" and sys.implementation.name == "micropython":
        try:
            import machine

            return machine.UART(1)
        except (ImportError, AttributeError, ValueError, OSError):
            return None
    return None


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
