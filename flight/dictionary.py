"""The command and telemetry dictionary: the single source of truth for both ends.

Flight code dispatches on these tables; the ground derives its command encoder, its
telemetry decoder, its limit checks and its XTCE export from them (never a copied list).
Plain tuples and dicts: cheap on MicroPython (frozen into the firmware as bytecode).

Argument types: "u8", "u16", "u32", "i16", "i32", "f32", "enum" (u8 with names), "bytes<N>",
"text<N>" (UTF-8, NUL-padded to N bytes),
"tc" (the rest of the data field: a complete PUS telecommand, for the time-tagged schedule).
"""

# The commands are written in flight/dictionary_tc.py, what the board reports (the housekeeping
# parameters and sets, the events, the packet stores) in flight/dictionary_tm.py, and both are read
# through this module: one dictionary in three files. A board's bundle carries them as the one
# generated module (firmware_builds/slim_dictionary.py).
from flight.dictionary_tc import COMMANDS  # noqa: F401
from flight.dictionary_tm import (  # noqa: F401
    EVENTS,
    HK_SETS,
    PACKET_STORES,
    PLAYBACK_DEST,
    TELEMETRY,
    TM_ENUMS,
    TM_TYPES,
)

APID = 0x10  # the flight application's telecommands and telemetry (FlightApp, the ground)
CFDP_APID = 0x0CF  # CFDP file transfers (flight/file_service.py): PDUs in space packets, both ways
MODES = {"BOOT": 0, "SAFE": 1, "DETUMBLE": 2, "NOMINAL": 3}
MODE_NAMES = ("BOOT", "SAFE", "DETUMBLE", "NOMINAL")

# roles allowed to send hazardous commands (every command needs at least "operator")
HAZARD_ROLES = {
    "mode_override": ("operator", "admin"),
    "thruster_arm": ("operator", "admin"),
    "thruster_arm_confirm": ("operator", "admin"),
    "thruster_fire": ("operator", "admin"),
    "rekey": ("admin",),
    "update": ("admin",),
    "time_set": ("admin",),
}

# PUS-1 failure codes (u16 after the request id in TM 1.2/1.4/1.8; then a reason byte and a short text)
FAILURES = {
    1: ("UNKNOWN_SERVICE", "unknown service, subtype or function"),
    2: ("BAD_LENGTH", "bad application data length"),
    3: ("ARG_RANGE", "argument out of range"),
    4: ("WRONG_MODE", "not allowed in the current mode"),
    5: ("INTERLOCK", "interlock not satisfied"),
    6: ("EXEC_FAILED", "execution failed"),
    7: ("UNKNOWN_ID", "unknown parameter, set, event or schedule entry"),
    8: ("TABLE_FULL", "onboard table full"),
    9: ("TIME_PASSED", "release time already passed"),
    10: ("BAD_PACKET", "packet malformed or CRC mismatch"),
    11: ("NOT_AUTHORISED", "needs a frame authenticated with a stronger key"),
}
FAIL = {name: code for code, (name, _d) in FAILURES.items()}

# Failure reasons: the one byte of failure data after the code in TM 1.2/1.4/1.8 (0: none given),
# naming which check refused, so the ground can say "INTERLOCK (arm request expired)". Ground
# only: flight code names each number as a `_R_<NAME> = const(N)` of its own (no string on the
# board; tests/flight/test_failure_reasons.py holds the two together). Below 32, so the ground tells
# the byte from the text an older board sent there (which starts with a printable character).
FAIL_REASONS = {
    1: ("ARM_EXPIRED", "arm request expired"),
    2: ("ARM_NOT_PENDING", "no arm request pending"),
    3: ("ARM_WRONG_TOKEN", "wrong arm token"),
    4: ("ALREADY_ARMED", "already armed"),
    5: ("NOT_ARMED", "thruster not armed"),
    6: ("THRUSTER_INHIBITED", "propulsion inhibited (FDIR or launch inhibit)"),
    7: ("PULSE_IN_PROGRESS", "a pulse is in progress"),
    8: ("ON_TIME_BUDGET", "thruster on-time budget used up"),
    9: ("FDIR_INHIBIT", "propulsion inhibited by FDIR"),
    10: ("NOT_ON_BOARD", "no subsystem on this board runs the command"),
    11: ("PROP_MODE", "propulsion only in DETUMBLE or NOMINAL"),
    12: ("MODE_TRANSITION", "mode transition not allowed from the current mode"),
    13: ("NOT_DETUMBLED", "NOMINAL needs a completed detumble"),
    14: ("PAYLOAD_MODE", "payload runs in NOMINAL only"),
    15: ("PAYLOAD_BUSY", "an experiment is already running"),
    16: ("PULSE_TOO_LONG", "pulse longer than prop.max_pulse_ms"),
    17: ("NEEDS_OPERATOR_KEY", "needs a frame authenticated with the operators' key"),
    18: ("NEEDS_ADMIN_KEY", "needs a frame authenticated with the admin key"),
    19: ("SOFTWARE_ERROR", "onboard software error in the command's handler"),
    20: ("NO_RADIO", "no radio on this board"),
    21: ("NOTHING_RUNNING", "no experiment running"),
    22: ("LINK_NOT_SECURED", "link not secured"),
    23: ("PLAYBACK_BUSY", "a packet store playback is already running"),
    # 24..31: argument 1..8 of the command (missing, out of range or unknown, as the code says)
    24: ("ARG_1", "argument 1"),
    25: ("ARG_2", "argument 2"),
    26: ("ARG_3", "argument 3"),
    27: ("ARG_4", "argument 4"),
    28: ("ARG_5", "argument 5"),
    29: ("ARG_6", "argument 6"),
    30: ("ARG_7", "argument 7"),
    31: ("ARG_8", "argument 8"),
}

# PUS-20 parameters: id: (name, default, minimum, maximum, unit, description)
PARAMS = {
    1: ("fdir.soc_safe", 0.25, 0.05, 0.6, "", "SAFE below this state of charge"),
    2: ("fdir.soc_recover", 0.45, 0.1, 0.95, "", "Autonomous recovery from SAFE above this charge"),
    3: ("fdir.rate_high_dps", 5.0, 1.0, 30.0, "deg/s", "NOMINAL -> DETUMBLE above this rate"),
    4: ("fdir.link_silence_s", 86400.0, 60.0, 604800.0, "s", "Radio reset after this long without a TC"),
    5: ("fdir.auto_recover", 1.0, 0.0, 1.0, "", "1: climb SAFE -> DETUMBLE -> NOMINAL autonomously"),
    6: ("adcs.bdot_gain", 4e4, 1e3, 1e6, "", "B-dot gain (A m^2 s / T)"),
    7: ("adcs.done_rate_dps", 1.0, 0.1, 5.0, "deg/s", "Detumbled below this rate"),
    8: ("adcs.sun_gain", 2e-4, 0.0, 1e-2, "", "Sun-pointing proportional gain (N m / rad)"),
    9: ("thermal.heater_on_c", 15.0, -20.0, 40.0, "degC", "Payload heater on below"),
    10: ("thermal.heater_off_c", 20.0, -15.0, 45.0, "degC", "Payload heater off above (> on)"),
    11: ("comms.beacon_s", 60.0, 10.0, 3600.0, "s", "Beacon period when no contact"),
    12: ("prop.max_pulse_ms", 200.0, 1.0, 500.0, "ms", "Longest thruster pulse"),
    13: ("safe.dwell_s", 300.0, 0.0, 86400.0, "s", "Minimum time in SAFE before autonomous recovery"),
}
PARAM_IDS = {v[0]: k for k, v in PARAMS.items()}

# executive rate groups: (name, period ms)
RATE_GROUPS = (("fast", 100), ("control", 1000), ("slow", 10000))
