"""The telecommand half of the command and telemetry dictionary (flight/dictionary.py reads it
in): every command with its kind, function id, arguments, hazard and description. Import COMMANDS
from flight.dictionary, as every other table.
"""

from flight.dictionary_tm import PACKET_STORES

# A command's kind (service, subtype) is named by its PUS service's module (protocols/pus_*.py,
# which also encode and decode the service's reports); a bundle's generated copy holds the numbers.
from protocols import pus_1_verification as _verification
from protocols import pus_3_hk as _hk
from protocols import pus_5_event as _event
from protocols import pus_8_function as _function
from protocols import pus_9_time as _time
from protocols import pus_11_schedule as _schedule
from protocols import pus_15_storage as _storage
from protocols import pus_17_test as _test
from protocols import pus_20_param as _param
from protocols import pus_23_file as _file

_MODE_ARG = (("mode", "enum", None, {"SAFE": 1, "DETUMBLE": 2, "NOMINAL": 3}, ""),)
_STORE_ARG = ("store", "u8", 1, len(PACKET_STORES), "")
_STORE_RATE = ("rate", "u8", 1, 50, "packets/s")

# name: (service, subtype, function id or None, args, hazardous, description)
# args: tuple of (name, type, minimum, maximum or enum mapping, unit)
COMMANDS = {
    "ping": (_test.SERVICE, _test.PING, None, (), False, "Connection test; answered by TM(17,2)"),
    "verification_query": (
        _verification.SERVICE,
        _verification.QUERY,
        None,
        (("apid", "u16", 0, 2047, ""), ("seq", "u16", 0, 16383, "")),
        False,
        "Repeat the PUS-1 reports of a recent command (its reports were lost on the downlink)",
    ),
    "hk_enable": (
        _hk.SERVICE,
        _hk.ENABLE,
        None,
        (("sid", "u8", 0, 255, ""),),
        False,
        "Enable periodic housekeeping set",
    ),
    "hk_disable": (
        _hk.SERVICE,
        _hk.DISABLE,
        None,
        (("sid", "u8", 0, 255, ""),),
        False,
        "Disable periodic housekeeping set",
    ),
    "hk_oneshot": (
        _hk.SERVICE,
        _hk.ONE_SHOT,
        None,
        (("sid", "u8", 0, 255, ""),),
        False,
        "Report a housekeeping set now",
    ),
    "hk_interval": (
        _hk.SERVICE,
        _hk.INTERVAL,
        None,
        (("sid", "u8", 0, 255, ""), ("interval_s", "u16", 1, 3600, "s")),
        False,
        "Change a housekeeping set's period",
    ),
    "event_enable": (
        _event.SERVICE,
        _event.ENABLE,
        None,
        (("event_id", "u16", 0, 65535, ""),),
        False,
        "Enable an event report",
    ),
    "event_disable": (
        _event.SERVICE,
        _event.DISABLE,
        None,
        (("event_id", "u16", 0, 65535, ""),),
        False,
        "Disable an event report",
    ),
    "mode_set": (
        _function.SERVICE,
        _function.PERFORM,
        1,
        _MODE_ARG,
        False,
        "Request a mode transition (checked against the allowed ones)",
    ),
    "mode_override": (
        _function.SERVICE,
        _function.PERFORM,
        2,
        _MODE_ARG,
        True,
        "Force a mode, bypassing FDIR inhibits",
    ),
    "radio_reset": (_function.SERVICE, _function.PERFORM, 3, (), False, "Reset and reconfigure the radio"),
    "fdir_reset": (
        _function.SERVICE,
        _function.PERFORM,
        4,
        (),
        False,
        "Clear FDIR isolations and inhibits (sensors back in use)",
    ),
    "thruster_arm": (
        _function.SERVICE,
        _function.PERFORM,
        10,
        (),
        True,
        "Two-step thruster arming: request, then confirm with the token",
    ),
    "thruster_arm_confirm": (
        _function.SERVICE,
        _function.PERFORM,
        13,
        (("token", "u16", 1, 65535, ""),),
        True,
        "Second arming step: quote the token of the ARM_PENDING event",
    ),
    "thruster_fire": (
        _function.SERVICE,
        _function.PERFORM,
        11,
        (("thruster", "u8", 0, 3, ""), ("duration_ms", "u16", 1, 500, "ms")),
        True,
        "Open one thruster valve for a bounded pulse (requires arming)",
    ),
    "thruster_disarm": (_function.SERVICE, _function.PERFORM, 12, (), False, "Close all valves and disarm"),
    "payload_start": (
        _function.SERVICE,
        _function.PERFORM,
        30,
        (("experiment", "u8", 1, 3, ""), ("period_s", "u16", 1, 3600, "s"), ("samples", "u16", 1, 1000, "")),
        False,
        "Start a payload experiment: hold its temperature setpoint, sample into a file",
    ),
    "payload_stop": (
        _function.SERVICE,
        _function.PERFORM,
        31,
        (),
        False,
        "Stop the running payload experiment and queue its file",
    ),
    "rekey": (
        _function.SERVICE,
        _function.PERFORM,
        20,
        (("spi", "u16", 1, 65534, ""), ("wrapped_key", "bytes32", None, None, "")),
        True,
        "Install a new authentication key (wrapped under the current one)",
    ),
    "file_downlink": (
        _file.SERVICE,
        _file.DOWNLINK,
        None,
        (("name", "text48", None, None, ""),),
        False,
        "Send a file (a path under files/, flash/ or a slot; NUL-padded UTF-8) to the ground by CFDP",
    ),
    "update": (
        _function.SERVICE,
        _function.PERFORM,
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
    "time_report": (
        _time.SERVICE,
        _time.RATE,
        None,
        (("rate_exp", "u8", 0, 8, ""),),
        False,
        "Time report every 2^n HK cycles",
    ),
    "time_set": (
        _time.SERVICE,
        _time.SET,
        None,
        (("seconds", "u32", 0, 4294967295, "s"),),
        True,
        "Set onboard time",
    ),
    "schedule_enable": (
        _schedule.SERVICE,
        _schedule.ENABLE,
        None,
        (),
        False,
        "Enable release of time-tagged commands",
    ),
    "schedule_disable": (
        _schedule.SERVICE,
        _schedule.DISABLE,
        None,
        (),
        False,
        "Disable release of time-tagged commands",
    ),
    "schedule_reset": (
        _schedule.SERVICE,
        _schedule.RESET,
        None,
        (),
        False,
        "Delete every time-tagged command",
    ),
    "schedule_insert": (
        _schedule.SERVICE,
        _schedule.INSERT,
        None,
        (("release_s", "u32", 0, 4294967295, "s"), ("command", "tc", None, None, "")),
        False,
        "Insert a time-tagged command (released at onboard time release_s)",
    ),
    "schedule_delete": (
        _schedule.SERVICE,
        _schedule.DELETE,
        None,
        (("apid", "u16", 0, 2047, ""), ("seq", "u16", 0, 16383, "")),
        False,
        "Delete the time-tagged command with this request id",
    ),
    "schedule_list": (
        _schedule.SERVICE,
        _schedule.SUMMARY,
        None,
        (),
        False,
        "Summary report of the schedule: TM(11,13)",
    ),
    "store_enable": (
        _storage.SERVICE,
        _storage.ENABLE,
        None,
        (_STORE_ARG,),
        False,
        "Resume storing packets in a packet store",
    ),
    "store_disable": (
        _storage.SERVICE,
        _storage.DISABLE,
        None,
        (_STORE_ARG,),
        False,
        "Stop storing packets in a packet store",
    ),
    "store_dump": (
        _storage.SERVICE,
        _storage.DUMP,
        None,
        (_STORE_ARG, ("from_s", "u32", 0, 4294967295, "s"), ("to_s", "u32", 0, 4294967295, "s"), _STORE_RATE),
        False,
        "Play back a store's packets made from from_s to to_s (onboard time), rate packets per second",
    ),
    "store_dump_seq": (
        _storage.SERVICE,
        _storage.DUMP_SEQ,
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
    "store_abort": (
        _storage.SERVICE,
        _storage.ABORT,
        None,
        (_STORE_ARG,),
        False,
        "Stop a store's running playback",
    ),
    "store_delete": (
        _storage.SERVICE,
        _storage.DELETE,
        None,
        (_STORE_ARG, ("to_s", "u32", 0, 4294967295, "s")),
        False,
        "Delete a store's packets made up to to_s (whole segments: later packets always stay)",
    ),
    "store_summary": (
        _storage.SERVICE,
        _storage.SUMMARY,
        None,
        (("store", "u8", 0, len(PACKET_STORES), ""),),
        False,
        "Report packet stores (0: all): TM(15,13)",
    ),
    "param_get": (
        _param.SERVICE,
        _param.GET,
        None,
        (("param_id", "u16", 0, 65535, ""),),
        False,
        "Report a parameter value",
    ),
    "param_set": (
        _param.SERVICE,
        _param.SET,
        None,
        (("param_id", "u16", 0, 65535, ""), ("value", "f32", -3.4e38, 3.4e38, "")),
        False,
        "Set an onboard parameter (bounds checked onboard, persisted)",
    ),
}
