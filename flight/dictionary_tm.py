"""The telemetry half of the command and telemetry dictionary (flight/dictionary.py reads it in):
the housekeeping parameters with their limits and encodings, the housekeeping sets and the events.
Import these tables from flight.dictionary, as every other one. The other reports' kinds and
layouts are their PUS services' (protocols/pus_*.py).
"""

from protocols import pus_1_verification as _verification
from protocols import pus_3_hk as _hk
from protocols import pus_5_event as _event

# telemetry parameter: (unit, yellow low, yellow high, red low, red high, description)
TELEMETRY = {
    "mode": ("", None, None, None, None, "Mode: 0 BOOT, 1 SAFE, 2 DETUMBLE, 3 NOMINAL"),
    "batt_v": ("V", 6.6, 8.45, 6.2, 8.6, "Battery voltage"),
    "soc": ("", 0.3, 1.0, 0.15, 1.01, "Battery state of charge"),
    "solar_w": ("W", None, 20.0, None, 30.0, "Solar array power"),
    "temp_c": ("degC", -10.0, 45.0, -25.0, 60.0, "Structure temperature"),
    "payload_c": ("degC", -5.0, 40.0, -20.0, 50.0, "Payload temperature"),
    "rate_dps": ("deg/s", None, 2.0, None, 10.0, "Body rate magnitude"),
    "sunlit": ("", None, None, None, None, "1 in sunlight, 0 in eclipse"),
    "sun_angle": ("deg", None, None, None, None, "Angle from the +Z panel normal to the sun"),
    "heater": ("", None, None, None, None, "Payload heater on"),
    "loads_shed": ("", None, 1.5, None, 2.5, "Lowest shed load priority (0: nothing shed)"),
    "boot_count": ("", None, None, None, None, "Boots since first power-up"),
    "reset_cause": ("", None, None, None, None, "0 power-on, 1 watchdog, 2 soft, 3 brown-out"),
    "uptime_s": ("s", None, None, None, None, "Seconds since this boot"),
    "obt_s": ("s", None, None, None, None, "Onboard time"),
    "cmd_ok": ("", None, None, None, None, "Commands completed since boot"),
    "cmd_fail": ("", None, None, None, None, "Commands rejected or failed since boot"),
    "tc_rejected": ("", None, None, None, None, "TC frames rejected (sync, CRC, FARM, authentication)"),
    "auth_rejects": ("", None, 0.5, None, None, "TC frames failing authentication or anti-replay"),
    "task_errors": ("", None, 0.5, None, None, "Executive task exceptions since boot"),
    "overruns": ("", None, 0.5, None, None, "Rate-group overruns since boot"),
    "fdir_trips": ("", None, None, None, None, "FDIR rule trips since boot"),
    "isolated": ("", None, 0.5, None, None, "Bit mask of sensors isolated by FDIR (1 mag, 2 gyro, 4 temp)"),
    "rate_src": ("", None, None, None, None, "Body-rate source: 0 gyro, 1 magnetometer estimate"),
    "audit_seq": ("", None, None, None, None, "Records in the hash-chained audit log"),
    "audit_head": ("", None, None, None, None, "First 32 bits of the audit chain head"),
    "sched_len": ("", None, None, None, None, "Time-tagged commands waiting"),
    "heap_free": ("B", None, None, None, None, "Free heap after the last collection"),
    "payload_files": ("", None, None, None, None, "Payload files waiting for downlink"),
}

# The values of the enumerated telemetry, named (ground only: the board packs the numbers, as
# flight/boot.py's reset causes and Sensors.rate's sources; tests/ground/test_xtce.py holds them
# to those). The XTCE export's enumerations come from here and from MODES.
TM_ENUMS = {
    "reset_cause": {"POWER_ON": 0, "WATCHDOG": 1, "SOFT": 2, "BROWN_OUT": 3},
    "rate_src": {"GYRO": 0, "MAGNETOMETER": 1},
}
# encoding in housekeeping reports (struct format); absent: f32
TM_TYPES = {
    "mode": "B",
    "sunlit": "B",
    "heater": "B",
    "loads_shed": "B",
    "boot_count": "H",
    "reset_cause": "B",
    "uptime_s": "I",
    "obt_s": "I",
    "cmd_ok": "H",
    "cmd_fail": "H",
    "tc_rejected": "H",
    "auth_rejects": "H",
    "task_errors": "H",
    "overruns": "H",
    "fdir_trips": "H",
    "isolated": "B",
    "rate_src": "B",
    "audit_seq": "I",
    "audit_head": "I",
    "sched_len": "B",
    "heap_free": "I",
    "payload_files": "B",
}

# PUS-3 housekeeping sets: sid: (name, default period s, enabled at boot, parameters)
HK_SETS = {
    1: (
        "core",
        10,
        True,
        ("obt_s", "mode", "batt_v", "soc", "solar_w", "sunlit", "temp_c", "payload_c", "heater", "rate_dps"),
    ),
    2: ("adcs", 30, False, ("rate_dps", "rate_src", "sun_angle", "isolated")),
    3: (
        "health",
        60,
        True,
        (
            "boot_count",
            "reset_cause",
            "uptime_s",
            "cmd_ok",
            "cmd_fail",
            "tc_rejected",
            "auth_rejects",
            "task_errors",
            "overruns",
            "fdir_trips",
            "isolated",
            "loads_shed",
            "audit_seq",
            "audit_head",
            "sched_len",
            "heap_free",
            "payload_files",
        ),
    ),
}

# PUS-5 events: name: (id, severity (the report's subtype, INFO .. HIGH), aux struct format,
# aux names, description)
EVENTS = {
    "BOOT": (1, _event.INFO, ">HB", ("boot_count", "reset_cause"), "Flight software started"),
    "MODE_CHANGE": (
        2,
        _event.INFO,
        ">BBB",
        ("from", "to", "reason"),
        "Mode transition (reason 0 command, 1 auto, 2 FDIR)",
    ),
    "TASK_FAILED": (3, _event.MEDIUM, ">B", ("task",), "A task raised; the others ran on"),
    "TASK_DISABLED": (4, _event.HIGH, ">B", ("task",), "A task failed repeatedly and was stopped"),
    "OVERRUN": (5, _event.LOW, ">BH", ("group", "ms"), "A rate group ran past its period"),
    "AUTH_REJECT": (
        6,
        _event.HIGH,
        ">B",
        ("check",),
        "TC frame failed authentication (1 MAC, 2 replay, 3 SA, 4 length)",
    ),
    "BATTERY_LOW": (10, _event.HIGH, ">H", ("soc_permille",), "State of charge below the SAFE threshold"),
    "RATE_HIGH": (11, _event.MEDIUM, ">H", ("rate_cdps",), "Body rate above the NOMINAL limit"),
    "LINK_SILENCE_RESET": (
        12,
        _event.MEDIUM,
        ">I",
        ("silent_s",),
        "No telecommand for too long: radio reset",
    ),
    "LINK_SILENCE_SAFE": (
        13,
        _event.HIGH,
        ">I",
        ("silent_s",),
        "Still no telecommand after the radio reset: SAFE",
    ),
    "SENSOR_FAULT": (
        14,
        _event.MEDIUM,
        ">BB",
        ("sensor", "fallback"),
        "Sensor isolated (1 mag, 2 gyro, 4 temp)",
    ),
    "THRUSTER_ANOMALY": (
        15,
        _event.HIGH,
        ">BB",
        ("thruster", "kind"),
        "Thruster anomaly (kind 1 late-close: a valve closed late, 2 unit-silent: the propulsion unit "
        "did not answer): disarmed and inhibited",
    ),
    "LOAD_SHED": (16, _event.MEDIUM, ">B", ("cutoff",), "Loads of this priority and above switched off"),
    "LOAD_RESTORED": (17, _event.INFO, ">B", ("cutoff",), "Load shedding relaxed (0: all loads on)"),
    "DETUMBLED": (18, _event.INFO, ">H", ("rate_cdps",), "Body rate below the detumble threshold"),
    "PARAM_CHANGED": (19, _event.INFO, ">Hf", ("param_id", "value"), "Parameter set and persisted"),
    "SCHEDULED_RELEASE": (20, _event.INFO, ">HH", ("apid", "seq"), "Time-tagged command released"),
    "STORAGE_REPAIRED": (
        21,
        _event.LOW,
        ">BH",
        ("store", "bytes"),
        "Torn or corrupt records found and skipped at boot",
    ),
    "PAYLOAD_FILE": (
        22,
        _event.INFO,
        ">BH",
        ("experiment", "samples"),
        "Payload file closed and queued for downlink",
    ),
    "THRUSTER_FIRED": (23, _event.INFO, ">BH", ("thruster", "ms"), "Thruster pulse done (ms: total on-time)"),
    "ARM_PENDING": (24, _event.LOW, ">H", ("token",), "Thruster arming requested: confirm with this token"),
    "STORE_FULL": (
        25,
        _event.MEDIUM,
        ">BI",
        ("store", "lost"),
        "Packet store full: its oldest segment overwritten (lost packets), or new packets refused (lost 0)",
    ),
    "PLAYBACK_DONE": (
        26,
        _event.INFO,
        ">BIB",
        ("store", "packets", "status"),
        "Packet store playback ended (status 0 done, 1 nothing in the range, 2 aborted, 3 cut by a "
        "reset: the packets it sent are not counted)",
    ),
    "FILE_REFUSED": (
        29,
        _event.MEDIUM,
        ">HBB",
        ("transaction", "reason", "condition"),
        "Incoming file refused (1 outside the uplink folders or the running slot, 2 too big, 3 disk full, "
        "4 needs the admin key, 5 no heap for a transfer, 6 an update is staged)",
    ),
}

# PUS-15 packet stores: id: (name, service of the packets it keeps, segments, segment bytes, wrap
# when full; else new packets are refused). flight/packet_store.py; 384 KiB of housekeeping hold
# about 10 hours of the default sets, the longest gap between passes over one station.
PACKET_STORES = {
    1: ("hk", _hk.SERVICE, 48, 8192, True),
    2: ("events", _event.SERVICE, 16, 4096, True),
    3: ("verification", _verification.SERVICE, 8, 4096, True),
}
PLAYBACK_DEST = 0x100  # destination ID of a played-back packet: PLAYBACK_DEST + its store id
