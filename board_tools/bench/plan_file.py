"""Bench plans: named test cases of instrument steps and checks, run against a powered target.

A plan is TOML (or JSON with the same structure):

    name = "EPS power-cycling"

    [target]                    # optional: the board's power supervisor (TwinPowerTarget)
    brownout_v = 5.5            # rail below this for longer than brownout_ms: reset
    brownout_ms = 50
    por_v = 2.0                 # rail fell below this: a cold power-on, not a brown-out

    [[case]]
    name = "boot counter survives power cycles"
    steps = [
        "psu.set(8.0, 1.0)",                 # volts, amps (current limit)
        "psu.on()",
        "wait(2)",                           # seconds of target time (simulated on the twin)
        "expect(boot_count=1, reset_cause='POWER_ON', mode='SAFE')",
        "param.set('comms.beacon_s', 120)",
        "power_cycle(off_ms=500)",
        "brownout(4.0, 300)",                # volts, ms; then the setpoint is restored
        "load.set(0.5)", "load.on()",
        { do = "expect", param = { "comms.beacon_s" = 120.0 } },   # table form of a step
    ]

Steps: psu.set(volts, amps), psu.on(), psu.off(), load.set(amps), load.on(), load.off(),
wait(seconds), brownout(volts, ms), power_cycle(off_ms), param.set(name, value) and
expect(...) with any of: boot_count, reset_cause (0-3 or POWER_ON/WATCHDOG/SOFT/BROWN_OUT),
mode (0-3 or BOOT/SAFE/DETUMBLE/NOMINAL), powered (bool), param ({name: value}), and measured
ranges psu_volts, psu_amps, load_amps ([lo, hi]). String steps are parsed with `ast` and take
literals only. Plans are checked completely when loaded, so a typo fails before the bench moves.

Cases run in order on the same bench (state carries over): each case should set the supply up
as it needs it. A failed expectation or an instrument/target error ends its case; the remaining
steps are reported as skipped and the next case runs.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from board_tools.bench.instruments import BenchError
from flight.boot import BROWN_OUT, POWER_ON, SOFT, WATCHDOG
from flight.dictionary import MODES, PARAM_IDS, PARAMS

RESET_CAUSES = {"POWER_ON": POWER_ON, "WATCHDOG": WATCHDOG, "SOFT": SOFT, "BROWN_OUT": BROWN_OUT}
CAUSE_NAMES = {v: k for k, v in RESET_CAUSES.items()}

# op -> argument names (all required); expect takes keywords only
OPS: dict[str, tuple[str, ...]] = {
    "psu.set": ("volts", "amps"),
    "psu.on": (),
    "psu.off": (),
    "load.set": ("amps",),
    "load.on": (),
    "load.off": (),
    "wait": ("seconds",),
    "brownout": ("volts", "ms"),
    "power_cycle": ("off_ms",),
    "param.set": ("name", "value"),
}
EXPECT_KEYS = ("boot_count", "reset_cause", "mode", "powered", "param", "psu_volts", "psu_amps", "load_amps")
NUMERIC_ARGS = {"volts", "amps", "seconds", "ms", "off_ms", "value"}
# durations a bench step may ask for (target time: a day to wait, an hour off or in brown-out)
MAX_ARGS = {"seconds": 86400.0, "ms": 3_600_000.0, "off_ms": 3_600_000.0}


class PlanError(BenchError):
    """The plan file is malformed or asks for something the bench cannot do."""


class TargetError(BenchError):
    """The target cannot do what a step asks (e.g. it is not powered)."""


# ------------------------------------------------------------------------------------------
# plan model and loading
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    op: str
    args: Mapping[str, Any]
    text: str = ""  # as written in the plan, for reports

    def __str__(self) -> str:
        return self.text or "%s(%s)" % (self.op, ", ".join("%s=%r" % kv for kv in self.args.items()))


@dataclass(frozen=True)
class Case:
    name: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Plan:
    name: str
    cases: tuple[Case, ...]
    target: Mapping[str, float] = field(default_factory=dict)
    description: str = ""
    source: str = ""

    def uses_load(self) -> bool:
        return any(s.op.startswith("load.") or "load_amps" in s.args for c in self.cases for s in c.steps)


TARGET_KEYS = ("brownout_v", "brownout_ms", "por_v")


def load_plan(path: str | Path) -> Plan:
    """Read a .toml or .json plan and check every step."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError("cannot read plan %s: %s" % (p, exc.strerror)) from None
    except UnicodeDecodeError:
        raise PlanError("%s is not a text file; a plan is TOML or JSON" % p) from None
    kind = "JSON" if p.suffix.lower() == ".json" else "TOML"
    try:
        data = json.loads(text) if kind == "JSON" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise PlanError("%s is not a valid %s plan: %s" % (p, kind, exc)) from None
    return parse_plan(data, source=str(p))


def parse_plan(data: Mapping[str, Any], source: str = "<plan>") -> Plan:
    if not isinstance(data, Mapping):
        raise PlanError("%s: a plan is a table" % source)
    unknown = set(data) - {"name", "description", "target", "case"}
    if unknown:
        raise PlanError("%s: unknown key(s) %s" % (source, ", ".join(sorted(unknown))))
    target = data.get("target", {})
    if not isinstance(target, Mapping) or set(target) - set(TARGET_KEYS):
        raise PlanError("%s: [target] takes %s" % (source, ", ".join(TARGET_KEYS)))
    for k, v in target.items():
        if not _is_number(v) or v < 0:
            raise PlanError("%s: target.%s must be a non-negative number" % (source, k))
    raw_cases = data.get("case")
    if not isinstance(raw_cases, list) or not raw_cases:
        raise PlanError("%s: no [[case]] in the plan" % source)
    cases = []
    names: set[str] = set()
    for i, rc in enumerate(raw_cases, 1):
        if not isinstance(rc, Mapping) or not isinstance(rc.get("name"), str) or not rc["name"]:
            raise PlanError("%s: case %d needs a name" % (source, i))
        name = rc["name"]
        if name in names:
            raise PlanError("%s: two cases are named %r" % (source, name))
        names.add(name)
        if set(rc) - {"name", "steps"} or not isinstance(rc.get("steps"), list) or not rc["steps"]:
            raise PlanError("%s: case %r takes name and a non-empty steps list" % (source, name))
        steps = []
        for j, rs in enumerate(rc["steps"], 1):
            try:
                steps.append(parse_step(rs))
            except PlanError as exc:
                raise PlanError("%s: case %r step %d: %s" % (source, name, j, exc)) from None
        cases.append(Case(name, tuple(steps)))
    return Plan(
        name=str(data.get("name", Path(source).stem)),
        cases=tuple(cases),
        target=dict(target),
        description=str(data.get("description", "")),
        source=source,
    )


def parse_step(raw: str | Mapping[str, Any]) -> Step:
    """'psu.set(8, 1.0)' or {do = "psu.set", volts = 8, amps = 1.0} -> checked Step."""
    text = ""
    if isinstance(raw, str):
        op, pos, kw = _parse_call(raw)
        text = " ".join(raw.split())
    elif isinstance(raw, Mapping) and isinstance(raw.get("do"), str):
        op, pos, kw = raw["do"], [], {k: v for k, v in raw.items() if k != "do"}
    else:
        raise PlanError("a step is a string like 'wait(1)' or a table with do = \"op\"")
    if op == "expect":
        if pos:
            raise PlanError("expect() takes keywords only")
        return Step(op, _check_expect(kw), text)
    if op not in OPS:
        raise PlanError("unknown step %r (steps: %s, expect)" % (op, ", ".join(OPS)))
    names = OPS[op]
    if len(pos) > len(names):
        raise PlanError("%s takes %d argument(s): %s" % (op, len(names), ", ".join(names) or "none"))
    args = dict(zip(names, pos))
    for k, v in kw.items():
        if k not in names or k in args:
            raise PlanError("%s: unexpected or repeated argument %r" % (op, k))
        args[k] = v
    missing = [n for n in names if n not in args]
    if missing:
        raise PlanError("%s: missing %s" % (op, ", ".join(missing)))
    for k in names:
        if k in NUMERIC_ARGS:
            if not _is_number(args[k]) or args[k] < 0:
                raise PlanError("%s: %s must be a non-negative number, not %r" % (op, k, args[k]))
            if k in MAX_ARGS and args[k] > MAX_ARGS[k]:
                raise PlanError("%s: %s must be at most %g, not %r" % (op, k, MAX_ARGS[k], args[k]))
            args[k] = float(args[k])
    if op == "param.set":
        pid = _param_id(args["name"])
        _name, _default, lo, hi = PARAMS[pid][:4]
        if not lo <= args["value"] <= hi:
            raise PlanError("param.set: %s=%g outside %g..%g" % (_name, args["value"], lo, hi))
    return Step(op, args, text)


def _parse_call(text: str) -> tuple[str, list[Any], dict[str, Any]]:
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise PlanError("cannot parse %r" % text) from None
    call = node if isinstance(node, ast.Call) else None
    func = call.func if call else node
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        raise PlanError("%r is not a step call" % text)
    op = ".".join([func.id, *reversed(parts)])
    if call is None:
        return op, [], {}
    try:
        pos = [ast.literal_eval(a) for a in call.args]
        kw = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except ValueError:
        raise PlanError("%r: arguments must be literals" % text) from None
    if len(kw) != len(call.keywords):
        raise PlanError("%r: **kwargs are not allowed" % text)
    return op, pos, kw


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _param_id(name: Any) -> int:
    if isinstance(name, str) and name in PARAM_IDS:
        return PARAM_IDS[name]
    if isinstance(name, int) and not isinstance(name, bool) and name in PARAMS:
        return name
    raise PlanError("no parameter %r" % (name,))


def _range(key: str, v: Any) -> tuple[float, float]:
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(_is_number(x) for x in v) and v[0] <= v[1]:
        return float(v[0]), float(v[1])
    raise PlanError("expect %s=[lo, hi] with lo <= hi, not %r" % (key, v))


def _check_expect(kw: Mapping[str, Any]) -> dict[str, Any]:
    if not kw:
        raise PlanError("expect() needs at least one check")
    out: dict[str, Any] = {}
    for k, v in kw.items():
        if k not in EXPECT_KEYS:
            raise PlanError("expect: unknown check %r (checks: %s)" % (k, ", ".join(EXPECT_KEYS)))
        if k == "boot_count":
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise PlanError("expect boot_count must be a positive integer")
            out[k] = v
        elif k == "reset_cause":
            out[k] = _enum(k, v, RESET_CAUSES)
        elif k == "mode":
            out[k] = _enum(k, v, MODES)
        elif k == "powered":
            if not isinstance(v, bool):
                raise PlanError("expect powered must be true or false")
            out[k] = v
        elif k == "param":
            if not isinstance(v, Mapping) or not v or not all(_is_number(x) for x in v.values()):
                raise PlanError("expect param={name: value, ...}")
            out[k] = {PARAMS[_param_id(n)][0]: float(x) for n, x in v.items()}
        else:
            out[k] = _range(k, v)
    return out


def _enum(key: str, v: Any, table: Mapping[str, int]) -> int:
    if isinstance(v, str) and v.upper() in table:
        return table[v.upper()]
    if isinstance(v, int) and not isinstance(v, bool) and v in table.values():
        return v
    raise PlanError("expect %s=%r: one of %s" % (key, v, ", ".join(table)))
