"""The command and telemetry dictionary: the single source of truth for both ends.

Flight code dispatches on these tables; the ground derives its command encoder, its
telemetry decoder, its limit checks and its XTCE export from them (never a copied list).
Plain tuples and dicts: cheap on MicroPython (frozen into the firmware as bytecode).

Argument types: "u8", "u16", "u32", "i16", "f32", "enum" (u8 with names), "bytes<N>".
"""

# name: (service, subtype, function id or None, args, hazardous, description)
# args: tuple of (name, type, minimum, maximum or enum mapping, unit)
COMMANDS = {
    "ping": (17, 1, None, (), False, "Connection test; answered by TM(17,2)"),
    "mode_set": (
        8,
        1,
        1,
        (("mode", "enum", None, {"SAFE": 1, "DETUMBLE": 2, "NOMINAL": 3}, ""),),
        False,
        "Request a mode transition (checked against the allowed transitions)",
    ),
    "mode_override": (
        8,
        1,
        2,
        (("mode", "enum", None, {"SAFE": 1, "DETUMBLE": 2, "NOMINAL": 3}, ""),),
        True,
        "Force a mode, bypassing FDIR inhibits",
    ),
    "param_set": (
        20,
        1,
        None,
        (("param_id", "u16", 0, 65535, ""), ("value", "f32", -3.4e38, 3.4e38, "")),
        False,
        "Set an onboard parameter (bounds checked onboard, persisted)",
    ),
    "param_get": (20, 3, None, (("param_id", "u16", 0, 65535, ""),), False, "Report a parameter value"),
    "hk_enable": (3, 5, None, (("sid", "u8", 0, 255, ""),), False, "Enable periodic housekeeping set"),
    "hk_disable": (3, 6, None, (("sid", "u8", 0, 255, ""),), False, "Disable periodic housekeeping set"),
    "hk_interval": (
        3,
        31,
        None,
        (("sid", "u8", 0, 255, ""), ("interval_s", "u16", 1, 3600, "s")),
        False,
        "Change a housekeeping set's period",
    ),
    "thruster_arm": (8, 1, 10, (), True, "First step of the two-step thruster arming"),
    "thruster_fire": (
        8,
        1,
        11,
        (("thruster", "u8", 0, 3, ""), ("duration_ms", "u16", 1, 500, "ms")),
        True,
        "Open one thruster valve for a bounded pulse (requires arming)",
    ),
    "thruster_disarm": (8, 1, 12, (), False, "Close all valves and disarm"),
    "rekey": (
        8,
        1,
        20,
        (("spi", "u16", 1, 65534, ""), ("wrapped_key", "bytes32", None, None, "")),
        True,
        "Install a new authentication key (wrapped under the current one)",
    ),
}

# telemetry parameter: (unit, yellow low, yellow high, red low, red high, description)
TELEMETRY = {
    "batt_v": ("V", 6.6, 8.45, 6.2, 8.6, "Battery voltage"),
    "soc": ("", 0.3, 1.0, 0.15, 1.01, "Battery state of charge"),
    "solar_w": ("W", None, 20.0, None, 30.0, "Solar array power"),
    "temp_c": ("degC", -10.0, 45.0, -25.0, 60.0, "Structure temperature"),
    "rate_dps": ("deg/s", None, 2.0, None, 10.0, "Body rate magnitude"),
    "sunlit": ("", None, None, None, None, "1 in sunlight, 0 in eclipse"),
}

# roles allowed to send hazardous commands (every command needs at least "operator")
HAZARD_ROLES = {
    "mode_override": ("operator", "admin"),
    "thruster_arm": ("operator", "admin"),
    "thruster_fire": ("operator", "admin"),
    "rekey": ("admin",),
}
