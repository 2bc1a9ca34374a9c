"""Running bench plans (the plan file: board_tools/bench/plan_file.py): the target behind its power
supervisor (TwinPowerTarget on the flight twin), the runner that plays each case's steps on the
instruments and checks its expectations, and the results the reports are written from.

Cases run in order on the same bench (state carries over): each case should set the supply up
as it needs it. A failed expectation or an instrument/target error ends its case; the remaining
steps are reported as skipped and the next case runs.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from board_tools.bench.instruments import BenchError, ElectronicLoad, PowerSupply
from board_tools.bench.plan_file import (
    CAUSE_NAMES,
    Plan,
    PlanError,
    Step,
    TargetError,
    _param_id,
    load_plan,
    parse_plan,
)
from board_tools.bench.target import PowerTarget, TargetStatus, TwinPowerTarget
from board_tools.errors import BoardToolsError
from flight.dictionary import MODE_NAMES, PARAM_IDS

__all__ = [
    "CaseResult",
    "PlanError",
    "PlanResult",
    "StepResult",
    "TargetError",
    "TwinPowerTarget",
    "load_plan",
    "parse_plan",
    "run_plan",
    "run_plan_file",
]


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


class ExpectationError(BoardToolsError):
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
    from board_tools.bench.report import write_junit, write_markdown

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
    from board_tools.bench.sim_instruments import SimBench

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
