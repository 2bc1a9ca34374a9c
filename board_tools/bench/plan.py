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
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import tomllib

from flight.boot import BROWN_OUT, POWER_ON, SOFT, WATCHDOG
from flight.dictionary import MODE_NAMES, MODES, PARAM_IDS, PARAMS
from flight.params import ParamError
from ground.bench.instruments import BenchError, ElectronicLoad, PowerSupply
from ground.flight_twin import FlightTwin

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


# ------------------------------------------------------------------------------------------
# targets
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetStatus:
    powered: bool
    boot_count: int | None = None
    reset_cause: int | None = None
    mode: int | None = None


class PowerTarget(Protocol):
    """The board on the bench, as the plan runner sees it.

    TwinPowerTarget implements it on the flight-software twin (simulated time). A hardware
    target would implement the same five members over its serial port and the ground link:
    advance() sleeps in real time, status() decodes boot_count / reset_cause / mode from the
    housekeeping stream (powered: telemetry seen recently), set_param() / get_param() are
    PUS-20 telecommands verified through ground.commanding.
    """

    name: str

    def now_ms(self) -> int: ...

    def advance(self, ms: int) -> None: ...

    def status(self) -> TargetStatus: ...

    def set_param(self, pid: int, value: float) -> float: ...

    def get_param(self, pid: int) -> float: ...


class SupplyProbe(Protocol):
    def output_state(self) -> tuple[bool, float]: ...


class TwinPowerTarget:
    """The flight twin behind a power supervisor, powered from a (simulated) bench supply.

    Every slice of time (at most one 100 ms tick) starts by reading the supply's output state
    and measured voltage, the way the board's supervisor watches its rail:
      - output disabled: the rail is gone, the board stops at once;
      - rail below brownout_v for longer than brownout_ms: the supervisor holds the MCU in
        reset (shorter dips are ridden through on the bulk capacitance);
      - unpowered boards are not stepped; the environment (orbit, battery) flies on;
      - rail back above brownout_v: one reset, `power_cycle(brown_out=...)`, then ticks again.
        The cause is a brown-out if the rail stayed above por_v, else a power-on reset.
    The twin is built at the first power-up, so the first boot is a power-on boot.
    """

    name = "flight twin"

    def __init__(
        self,
        flash_dir: str | Path,
        supply: SupplyProbe,
        *,
        brownout_v: float = 5.5,
        brownout_ms: float = 50.0,
        por_v: float = 2.0,
        tick_ms: int = 100,
        twin_factory: Callable[..., FlightTwin] = FlightTwin,
    ) -> None:
        if not 0 <= por_v <= brownout_v:
            raise BenchError("target: need 0 <= por_v <= brownout_v")
        self.flash_dir = Path(flash_dir)
        self.flash_dir.mkdir(parents=True, exist_ok=True)  # the flight HostFs creates one level only
        self.supply = supply
        self.brownout_v = brownout_v
        self.brownout_ms = brownout_ms
        self.por_v = por_v
        self.tick_ms = tick_ms
        self.twin_factory = twin_factory
        self.twin: FlightTwin | None = None
        self.powered = False
        self.power_ups = 0
        self.samples = 0  # supply reads
        self._now_ms = 0
        self._phase_ms = 0  # powered time since the last tick
        self._low_ms = 0.0  # how long the rail has been below brownout_v while running
        self._low_min = math.inf
        self._cause = POWER_ON  # reset cause the supervisor will report at the next power-up

    def now_ms(self) -> int:
        return self._now_ms

    def advance(self, ms: int) -> None:
        remaining = int(ms)
        while remaining > 0:
            chunk = min(remaining, self.tick_ms - self._phase_ms)
            on, volts = self.supply.output_state()
            self.samples += 1
            self._supervise(on, volts, chunk)
            if self.powered:
                assert self.twin is not None
                self._phase_ms += chunk
                if self._phase_ms >= self.tick_ms:
                    self.twin.step()
                    self._phase_ms = 0
            elif self.twin is not None:
                self.twin.world.advance(chunk)
            self._now_ms += chunk
            remaining -= chunk

    def _supervise(self, on: bool, volts: float, chunk: int) -> None:
        if self.powered:
            if not on:
                self._power_lost(POWER_ON)
            elif volts < self.brownout_v:
                self._low_ms += chunk
                self._low_min = min(self._low_min, volts)
                if self._low_ms > self.brownout_ms:
                    self._power_lost(BROWN_OUT if self._low_min >= self.por_v else POWER_ON)
            else:
                self._low_ms, self._low_min = 0.0, math.inf
        elif on and volts >= self.brownout_v:
            self._power_up()
        elif not on or volts < self.por_v:
            self._cause = POWER_ON  # the rail went all the way down: a cold start

    def _power_lost(self, cause: int) -> None:
        self.powered = False
        self._cause = cause
        self._phase_ms = 0
        self._low_ms, self._low_min = 0.0, math.inf

    def _power_up(self) -> None:
        if self.twin is None:
            self.twin = self.twin_factory(self.flash_dir, tick_ms=self.tick_ms)
        else:
            self.twin.power_cycle(brown_out=self._cause == BROWN_OUT)
        self.powered = True
        self.power_ups += 1

    def _app(self) -> Any:
        if not self.powered or self.twin is None:
            raise TargetError("%s is not powered" % self.name)
        return self.twin.app

    def status(self) -> TargetStatus:
        if not self.powered or self.twin is None:
            return TargetStatus(False)
        app = self.twin.app
        return TargetStatus(True, app.boot.count, app.boot.cause, app.modes.mode)

    def set_param(self, pid: int, value: float) -> float:
        try:
            return float(self._app().params.set(pid, value))
        except ParamError as exc:  # e.g. heater on point above the off point: the board refuses
            raise TargetError("%s refused parameter %d = %g: %s" % (self.name, pid, value, exc)) from None

    def get_param(self, pid: int) -> float:
        return float(self._app().params.get(pid))


# ------------------------------------------------------------------------------------------
# running
# ------------------------------------------------------------------------------------------
@dataclass
class StepResult:
    index: int
    step: str
    status: str  # pass, fail, error, skipped
    message: str = ""
    wall_s: float = 0.0
    target_ms: int = 0  # target time when the step finished
    target_state: str = ""  # e.g. "boot 2, BROWN_OUT, SAFE" or "unpowered"
    readings: dict[str, float | bool] = field(default_factory=dict)


@dataclass
class CaseResult:
    name: str
    steps: list[StepResult] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def status(self) -> str:
        states = {s.status for s in self.steps}
        return "error" if "error" in states else "fail" if "fail" in states else "pass"

    @property
    def message(self) -> str:
        bad = [s for s in self.steps if s.status in ("fail", "error")]
        return "step %d %s: %s" % (bad[0].index, bad[0].step, bad[0].message) if bad else ""


@dataclass
class PlanResult:
    name: str
    target: str
    cases: list[CaseResult]
    started: datetime
    wall_s: float
    source: str = ""
    instruments: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.status == "pass" for c in self.cases)

    def count(self, status: str) -> int:
        return sum(1 for c in self.cases if c.status == status)


class ExpectationError(Exception):
    pass


class _Runner:
    def __init__(self, target: PowerTarget, psu: PowerSupply, load: ElectronicLoad | None) -> None:
        self.target = target
        self.psu = psu
        self.load = load

    def readings(self) -> dict[str, float | bool]:
        r = self.psu.read_all()
        out: dict[str, float | bool] = {"psu_on": r.output, "psu_v": r.volts, "psu_a": r.amps, "psu_cc": r.cc}
        if self.load is not None:
            lr = self.load.read_all()
            out.update(load_on=lr.input, load_v=lr.volts, load_a=lr.amps)
        return out

    def _load(self) -> ElectronicLoad:
        assert self.load is not None  # run_plan refuses plans that need a missing load
        return self.load

    def run(self, step: Step) -> dict[str, float | bool]:
        a = step.args
        op = step.op
        if op == "psu.set":
            self.psu.set(a["volts"], a["amps"])
        elif op == "psu.on":
            self.psu.on()
        elif op == "psu.off":
            self.psu.off()
        elif op == "load.set":
            self._load().set(a["amps"])
        elif op == "load.on":
            self._load().on()
        elif op == "load.off":
            self._load().off()
        elif op == "wait":
            self.target.advance(int(round(a["seconds"] * 1000)))
        elif op == "brownout":
            v_set = self.psu.read_all().v_set
            self.psu.set_voltage(a["volts"])
            try:
                self.target.advance(int(round(a["ms"])))
            finally:
                self.psu.set_voltage(v_set)
        elif op == "power_cycle":
            self.psu.off()
            try:
                self.target.advance(int(round(a["off_ms"])))
            finally:
                self.psu.on()
        elif op == "param.set":
            self.target.set_param(_param_id(a["name"]), a["value"])
        elif op == "expect":
            readings = self.readings()
            self.expect(a, readings)
            return readings
        else:  # parse_step admits only the ops above
            raise PlanError("unknown step %s" % op)
        return self.readings()

    def expect(self, checks: Mapping[str, Any], readings: Mapping[str, float | bool]) -> None:
        st = self.target.status()
        problems = []
        for key, want in checks.items():
            if key == "powered":
                if st.powered != want:
                    problems.append("powered: expected %s, got %s" % (want, st.powered))
            elif key in ("psu_volts", "psu_amps", "load_amps"):
                got = readings[{"psu_volts": "psu_v", "psu_amps": "psu_a", "load_amps": "load_a"}[key]]
                if not want[0] <= got <= want[1]:
                    problems.append("%s: expected %g..%g, measured %.3f" % (key, want[0], want[1], got))
            elif not st.powered:
                problems.append("%s: target is not powered" % key)
            elif key == "boot_count":
                if st.boot_count != want:
                    problems.append("boot_count: expected %d, got %s" % (want, st.boot_count))
            elif key == "reset_cause":
                if st.reset_cause != want:
                    problems.append(
                        "reset_cause: expected %s, got %s"
                        % (CAUSE_NAMES[want], CAUSE_NAMES.get(st.reset_cause, st.reset_cause))
                    )
            elif key == "mode":
                if st.mode != want:
                    problems.append("mode: expected %s, got %s" % (MODE_NAMES[want], _mode_name(st.mode)))
            elif key == "param":
                for name, value in want.items():
                    got = self.target.get_param(PARAM_IDS[name])
                    if not math.isclose(got, value, rel_tol=1e-6, abs_tol=1e-9):
                        problems.append("param %s: expected %g, got %g" % (name, value, got))
        if problems:
            raise ExpectationError("; ".join(problems))


def run_plan(
    plan: Plan,
    target: PowerTarget,
    psu: PowerSupply,
    load: ElectronicLoad | None = None,
    *,
    junit: str | Path | None = None,
    report: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> PlanResult:
    """Run every case; record per-step verdicts, wall and target times and instrument readings.

    Writes JUnit XML to `junit` and a Markdown report to `report` when given. `result.ok` is
    the overall verdict.
    """
    from ground.bench.report import write_junit, write_markdown

    if load is None and plan.uses_load():
        raise PlanError("%s uses the electronic load, but no load is connected" % plan.name)
    runner = _Runner(target, psu, load)
    started = datetime.now(timezone.utc)
    t_plan = time.perf_counter()
    cases = []
    for case in plan.cases:
        cr = CaseResult(case.name)
        t_case = time.perf_counter()
        stop = False
        for i, step in enumerate(case.steps, 1):
            if stop:
                cr.steps.append(StepResult(i, str(step), "skipped", target_ms=target.now_ms()))
                continue
            t0 = time.perf_counter()
            status, message, readings = "pass", "", {}
            try:
                readings = runner.run(step)
            except ExpectationError as exc:
                status, message = "fail", str(exc)
            except BenchError as exc:
                status, message = "error", "%s: %s" % (type(exc).__name__, exc)
            wall = time.perf_counter() - t0
            state = format_status(target.status())
            sr = StepResult(i, str(step), status, message, wall, target.now_ms(), state, readings)
            cr.steps.append(sr)
            stop = status != "pass"
            if log:
                log("  %-5s %s%s" % (status.upper(), sr.step, ("  -- " + message) if message else ""))
        cr.wall_s = time.perf_counter() - t_case
        cases.append(cr)
        if log:
            log("%s: %s (%.2f s)" % (cr.status.upper(), case.name, cr.wall_s))
    result = PlanResult(
        name=plan.name,
        target=target.name,
        cases=cases,
        started=started,
        wall_s=time.perf_counter() - t_plan,
        source=plan.source,
        instruments={"psu": str(psu.endpoint), **({"load": str(load.endpoint)} if load else {})},
    )
    if junit:
        write_junit(result, junit)
    if report:
        write_markdown(result, report)
    return result


def run_plan_file(
    path: str | Path,
    *,
    junit: str | Path | None = None,
    report: str | Path | None = None,
    flash_dir: str | Path | None = None,
    psu_url: str | None = None,
    load_url: str | None = None,
    log: Callable[[str], None] | None = None,
) -> PlanResult:
    """`cubesat bench run`: the plan against the twin, on simulated instruments unless URLs are given.

    With no flash_dir the twin boots from a fresh temporary flash (boot count starts at 1).
    Afterwards the load and the supply output are switched off: the bench is left safe.
    """
    from ground.bench.sim_instruments import SimBench

    plan = load_plan(path)
    if psu_url is not None and load_url is None and plan.uses_load():
        raise PlanError("%s uses the electronic load: give its URL too" % plan.name)
    sim = SimBench() if psu_url is None else None
    with tempfile.TemporaryDirectory(prefix="bench-flash-") as tmp:
        if sim is not None:
            sim.start()
        try:
            if sim is not None:
                psu, load = sim.connect_psu(), sim.connect_load()
            else:
                psu = PowerSupply(psu_url or "")
                load = ElectronicLoad(load_url) if load_url else None
            try:
                psu.identify()
                if load is not None:
                    load.identify()
                target = TwinPowerTarget(flash_dir or tmp, psu, **plan.target)
                return run_plan(plan, target, psu, load, junit=junit, report=report, log=log)
            finally:
                _safe_off(psu, load)
        finally:
            if sim is not None:
                sim.stop()


def _safe_off(psu: PowerSupply, load: ElectronicLoad | None) -> None:
    for inst in (load, psu):
        if inst is None:
            continue
        try:
            inst.off()
        except BenchError:
            pass  # the run's own error (if any) is the one worth reporting
        finally:
            inst.close()


def format_status(st: TargetStatus) -> str:
    if not st.powered:
        return "unpowered"
    return "boot %s, %s, %s" % (
        st.boot_count,
        CAUSE_NAMES.get(st.reset_cause, st.reset_cause),
        _mode_name(st.mode),
    )


def _mode_name(mode: int | None) -> str:
    return MODE_NAMES[mode] if mode is not None and 0 <= mode < len(MODE_NAMES) else str(mode)
