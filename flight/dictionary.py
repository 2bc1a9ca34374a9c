"""The command and telemetry dictionary: the single source of truth for both ends.

Flight code dispatches on these tables; the ground derives its command encoder, its
telemetry decoder, its limit checks and its XTCE export from them (never a copied list).
Plain tuples and dicts: cheap on MicroPython (frozen into the firmware as bytecode).

Argument types: "u8", "u16", "u32", "i16", "i32", "f32", "enum" (u8 with names), "bytes<N>",
"text<N>" (UTF-8, NUL-padded to N bytes),
"tc" (the rest of the data field: a complete PUS telecommand, for the time-tagged schedule).
"""

# What the board reports (the housekeeping parameters and sets, the reports, the events) is written
# in flight/dictionary_tm.py and read through this module: one dictionary in two files. A board's
# bundle carries both as the one generated module (firmware_builds/slim_dictionary.py).
from flight.dictionary_tm import EVENTS, HK_SETS, REPORTS, TELEMETRY, TM_ENUMS, TM_TYPES  # noqa: F401

APID = 0x10  # the flight application's telecommands and telemetry (FlightApp, the ground)
CFDP_APID = 0x0CF  # CFDP file transfers (flight/file_service.py): PDUs in space packets, both ways
MODES = {"BOOT": 0, "SAFE": 1, "DETUMBLE": 2, "NOMINAL": 3}
MODE_NAMES = ("BOOT", "SAFE", "DETUMBLE", "NOMINAL")
_MODE_ARG = (("mode", "enum", None, {"SAFE": 1, "DETUMBLE": 2, "NOMINAL": 3}, ""),)

# PUS-15 packet stores: id: (name, service of the packets it keeps, segments, segment bytes, wrap
# when full; else new packets are refused). flight/packet_store.py; 384 KiB of housekeeping hold
# about 10 hours of the default sets, the longest gap between passes over one station.
PACKET_STORES = {
    1: ("hk", 3, 48, 8192, True),
    2: ("events", 5, 16, 4096, True),
    3: ("verification", 1, 8, 4096, True),
}
PLAYBACK_DEST = 0x100  # destination ID of a played-back packet: PLAYBACK_DEST + its store id
_STORE_ARG = ("store", "u8", 1, len(PACKET_STORES), "")
_STORE_RATE = ("rate", "u8", 1, 50, "packets/s")

# name: (service, subtype, function id or None, args, hazardous, description)
# args: tuple of (name, type, minimum, maximum or enum mapping, unit)
COMMANDS = {
    "ping": (17, 1, None, (), False, "Connection test; answered by TM(17,2)"),
    "verification_query": (
        1,
        128,
        None,
        (("apid", "u16", 0, 2047, ""), ("seq", "u16", 0, 16383, "")),
        False,
        "Repeat the PUS-1 reports of a recent command (its reports were lost on the downlink)",
    ),
    "hk_enable": (3, 5, None, (("sid", "u8", 0, 255, ""),), False, "Enable periodic housekeeping set"),
    "hk_disable": (3, 6, None, (("sid", "u8", 0, 255, ""),), False, "Disable periodic housekeeping set"),
    "hk_oneshot": (3, 27, None, (("sid", "u8", 0, 255, ""),), False, "Report a housekeeping set now"),
    "hk_interval": (
        3,
        31,
        None,
        (("sid", "u8", 0, 255, ""), ("interval_s", "u16", 1, 3600, "s")),
        False,
        "Change a housekeeping set's period",
    ),
    "event_enable": (5, 5, None, (("event_id", "u16", 0, 65535, ""),), False, "Enable an event report"),
    "event_disable": (5, 6, None, (("event_id", "u16", 0, 65535, ""),), False, "Disable an event report"),
    "mode_set": (8, 1, 1, _MODE_ARG, False, "Request a mode transition (checked against the allowed ones)"),
    "mode_override": (8, 1, 2, _MODE_ARG, True, "Force a mode, bypassing FDIR inhibits"),
    "radio_reset": (8, 1, 3, (), False, "Reset and reconfigure the radio"),
    "fdir_reset": (8, 1, 4, (), False, "Clear FDIR isolations and inhibits (sensors back in use)"),
    "thruster_arm": (8, 1, 10, (), True, "Two-step thruster arming: request, then confirm with the token"),
    "thruster_arm_confirm": (
        8,
        1,
        13,
        (("token", "u16", 1, 65535, ""),),
        True,
        "Second arming step: quote the token of the ARM_PENDING event",
    ),
    "thruster_fire": (
        8,
        1,
        11,
        (("thruster", "u8", 0, 3, ""), ("duration_ms", "u16", 1, 500, "ms")),
        True,
        "Open one thruster valve for a bounded pulse (requires arming)",
    ),
    "thruster_disarm": (8, 1, 12, (), False, "Close all valves and disarm"),
    "payload_start": (
        8,
        1,
        30,
        (("experiment", "u8", 1, 3, ""), ("period_s", "u16", 1, 3600, "s"), ("samples", "u16", 1, 1000, "")),
        False,
        "Start a payload experiment: hold its temperature setpoint, sample into a file",
    ),
    "payload_stop": (8, 1, 31, (), False, "Stop the running payload experiment and queue its file"),
    "rekey": (
        8,
        1,
        20,
        (("spi", "u16", 1, 65534, ""), ("wrapped_key", "bytes32", None, None, "")),
        True,
        "Install a new authentication key (wrapped under the current one)",
    ),
    "file_downlink": (
        23,
        128,
        None,
        (("name", "text48", None, None, ""),),
        False,
        "Send a file (a path under files/, flash/ or a slot; NUL-padded UTF-8) to the ground by CFDP",
    ),
    "update": (
        8,
        1,
        40,
        (
            ("action", "enum", None, {"STAGE": 1, "SWITCH": 2, "CANCEL": 3, "REBOOT": 4}, ""),
            ("max_attempts", "u8", 1, 10, "boots"),
        ),
        True,
        "In-orbit update of the inactive A/B slot (its manifest and changed files uplinked by CFDP): "
        "STAGE completes and verifies it (its completion report comes when that ends, a failure names "
        "the file), SWITCH boots it on trial for max_attempts boots, CANCEL, REBOOT restarts the board",
    ),
    "time_report": (9, 1, None, (("rate_exp", "u8", 0, 8, ""),), False, "Time report every 2^n HK cycles"),
    "time_set": (9, 128, None, (("seconds", "u32", 0, 4294967295, "s"),), True, "Set onboard time"),
    "schedule_enable": (11, 1, None, (), False, "Enable release of time-tagged commands"),
    "schedule_disable": (11, 2, None, (), False, "Disable release of time-tagged commands"),
    "schedule_reset": (11, 3, None, (), False, "Delete every time-tagged command"),
    "schedule_insert": (
        11,
        4,
        None,
        (("release_s", "u32", 0, 4294967295, "s"), ("command", "tc", None, None, "")),
        False,
        "Insert a time-tagged command (released at onboard time release_s)",
    ),
    "schedule_delete": (
        11,
        5,
        None,
        (("apid", "u16", 0, 2047, ""), ("seq", "u16", 0, 16383, "")),
        False,
        "Delete the time-tagged command with this request id",
    ),
    "schedule_list": (11, 17, None, (), False, "Summary report of the schedule: TM(11,13)"),
    "store_enable": (15, 1, None, (_STORE_ARG,), False, "Resume storing packets in a packet store"),
    "store_disable": (15, 2, None, (_STORE_ARG,), False, "Stop storing packets in a packet store"),
    "store_dump": (
        15,
        9,
        None,
        (_STORE_ARG, ("from_s", "u32", 0, 4294967295, "s"), ("to_s", "u32", 0, 4294967295, "s"), _STORE_RATE),
        False,
        "Play back a store's packets made from from_s to to_s (onboard time), rate packets per second",
    ),
    "store_dump_seq": (
        15,
        129,
        None,
        (
            _STORE_ARG,
            ("from_seq", "u32", 0, 4294967295, ""),
            ("to_seq", "u32", 0, 4294967295, ""),
            _STORE_RATE,
        ),
        False,
        "Play back a store's packets by store sequence number, from_seq to to_seq",
    ),
    "store_abort": (15, 17, None, (_STORE_ARG,), False, "Stop a store's running playback"),
    "store_delete": (
        15,
        11,
        None,
        (_STORE_ARG, ("to_s", "u32", 0, 4294967295, "s")),
        False,
        "Delete a store's packets made up to to_s (whole segments: later packets always stay)",
    ),
    "store_summary": (
        15,
        12,
        None,
        (("store", "u8", 0, len(PACKET_STORES), ""),),
        False,
        "Report packet stores (0: all): TM(15,13)",
    ),
    "param_get": (20, 1, None, (("param_id", "u16", 0, 65535, ""),), False, "Report a parameter value"),
    "param_set": (
        20,
        3,
        None,
        (("param_id", "u16", 0, 65535, ""), ("value", "f32", -3.4e38, 3.4e38, "")),
        False,
        "Set an onboard parameter (bounds checked onboard, persisted)",
    ),
}

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
