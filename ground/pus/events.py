"""PUS service 5, event reporting: the subtype is the severity; the data the dictionary's event
(flight/events.py packs and unpacks it), its codes named from the dictionary for the operator."""

from __future__ import annotations

import re
from typing import Any

from flight import events as flight_events
from flight.dictionary import EVENTS, MODE_NAMES, PARAMS, RATE_GROUPS, TELEMETRY

INFO, LOW, MEDIUM, HIGH = 1, 2, 3, 4
SEVERITY = {INFO: "info", LOW: "low", MEDIUM: "medium", HIGH: "high"}


def _numbered(text: str) -> dict[int, str]:
    """The "N name" list of a dictionary description: "0 power-on, 1 watchdog" -> {0: "power-on", 1: ...}."""
    return {int(n): name for n, name in re.findall(r"\b(\d+) ([A-Za-z][\w-]*)", text)}


# Event arguments that carry a code, named from flight/dictionary.py (the single source: named
# tables where it has them, else the numbered list in the description of the event or parameter).
_MODES = dict(enumerate(MODE_NAMES))
EVENT_VALUE_NAMES: dict[tuple[str, str], dict[int, str]] = {
    ("BOOT", "reset_cause"): _numbered(TELEMETRY["reset_cause"][5]),
    ("MODE_CHANGE", "from"): _MODES,
    ("MODE_CHANGE", "to"): _MODES,
    ("MODE_CHANGE", "reason"): _numbered(EVENTS["MODE_CHANGE"][4]),
    ("OVERRUN", "group"): {i: name for i, (name, _ms) in enumerate(RATE_GROUPS)},
    ("AUTH_REJECT", "check"): _numbered(EVENTS["AUTH_REJECT"][4]),
    ("SENSOR_FAULT", "sensor"): _numbered(EVENTS["SENSOR_FAULT"][4]),
    ("SENSOR_FAULT", "fallback"): _numbered(EVENTS["SENSOR_FAULT"][4]),
    ("PARAM_CHANGED", "param_id"): {pid: p[0] for pid, p in PARAMS.items()},
    ("THRUSTER_ANOMALY", "kind"): _numbered(EVENTS["THRUSTER_ANOMALY"][4]),
}


def event_text(name: str, aux: dict) -> str:
    """An event as an operator reads it: "MODE_CHANGE from=SAFE to=DETUMBLE reason=command"."""
    parts = [name]
    for key, value in aux.items():
        names = EVENT_VALUE_NAMES.get((name, key), {})
        if isinstance(value, float):
            shown = "%g" % value
        else:
            shown = names.get(value, str(value))
        parts.append("%s=%s" % (key, shown))
    return " ".join(parts)


def decode(subtype: int, data: bytes) -> dict[str, Any]:
    name, aux = flight_events.decode(data)
    out: dict[str, Any] = {"event": name, "severity": subtype, "args": aux, "text": event_text(name, aux)}
    if name in EVENTS:
        out["description"] = EVENTS[name][4]
    return out
