"""PUS service 5, event reporting: the subtype is the severity; the data the dictionary's event
(protocols/pus_5_event.py: the flight packs it with), its values named from the dictionary for
the operator.

    name, aux = decode_event(data)      # ("MODE_CHANGE", {"from": 1, "to": 3, "reason": 0})
"""

from __future__ import annotations

import re
from typing import Any

from flight.dictionary import EVENTS, MODE_NAMES, PARAMS, RATE_GROUPS, TELEMETRY
from protocols import pus_5_event

SEVERITY = {
    pus_5_event.INFO: "info",
    pus_5_event.LOW: "low",
    pus_5_event.MEDIUM: "medium",
    pus_5_event.HIGH: "high",
}
_BY_ID = {v[0]: name for name, v in EVENTS.items()}
_FORMATS = {v[0]: v[2] for v in EVENTS.values()}


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


def decode_event(data: bytes) -> tuple[str, dict[str, Any]]:
    """(name, {argument: value}) of a TM(5,x)'s source data; ("EVENT_<id>", {}) for an event the
    dictionary does not have. A report too short for its event raises protocols' TruncatedError."""
    event_id, values = pus_5_event.decode_report(data, _FORMATS)
    if values is None:
        return "EVENT_%d" % event_id, {}
    name = _BY_ID[event_id]
    return name, dict(zip(EVENTS[name][3], values))


def decode(subtype: int, data: bytes) -> dict[str, Any]:
    name, aux = decode_event(data)
    out: dict[str, Any] = {"event": name, "severity": subtype, "args": aux, "text": event_text(name, aux)}
    if name in EVENTS:
        out["description"] = EVENTS[name][4]
    return out
