"""HIL bench: Modbus instrument clients against the simulated PSU/e-load servers, and bench plans
run on the flight twin powered from the simulated supply (power cycles, brown-outs, JUnit)."""

from __future__ import annotations

import struct
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from board_tools.bench import bench
from board_tools.bench.instruments import (
    BenchError,
    ElectronicLoad,
    InstrumentRejectedError,
    InstrumentTimeoutError,
    InstrumentUnreachableError,
    PowerSupply,
    SetpointError,
)
from board_tools.bench.plan import PlanError, TwinPowerTarget, load_plan, parse_plan, run_plan, run_plan_file
from board_tools.bench.sim_instruments import SimBench
from flight.boot import BROWN_OUT, POWER_ON
from flight.dictionary import PARAM_IDS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "bench_plan.toml"
BEACON = PARAM_IDS["comms.beacon_s"]


@pytest.fixture
def sim() -> Iterator[SimBench]:
    with SimBench(board_ohms=40.0) as b:
        yield b


@pytest.fixture
def psu(sim: SimBench) -> Iterator[PowerSupply]:
    with sim.connect_psu(timeout=0.5, retries=1) as p:
        yield p


@pytest.fixture
def load(sim: SimBench) -> Iterator[ElectronicLoad]:
    with sim.connect_load(timeout=0.5, retries=1) as ld:
        yield ld


# ---- instruments -----------------------------------------------------------------------------
def test_psu_and_load_read_back_the_circuit(psu: PowerSupply, load: ElectronicLoad) -> None:
    assert psu.identify() == 6006 and load.identify() == 8500
    psu.set(8.0, 1.0)
    assert psu.read_raw(8, 7) == [8000, 1000, 0, 0, 0, 0, 0]  # output off: nothing measured
    psu.on()
    # V_SET, I_SET, V_OUT mV, I_OUT mA (8 V into 40 ohm), P_OUT 10 mW, CV, OUTPUT
    assert psu.read_raw(8, 7) == [8000, 1000, 8000, 200, 160, 0, 1]
    load.set(0.5)
    load.on()
    r = psu.read_all()
    assert (r.volts, r.amps, r.cc) == (8.0, 0.7, False)
    lr = load.read_all()
    assert (lr.mode, lr.i_set, lr.input, lr.volts, lr.amps, lr.watts) == (0, 0.5, True, 8.0, 0.5, 4.0)
    # 0.7 A demanded, 0.6 A allowed: constant current, the rail sags until V/40 + 0.5 = 0.6
    psu.set_current_limit(0.6)
    r = psu.read_all()
    assert r.cc and r.amps == 0.6 and r.volts == pytest.approx(4.0, abs=0.001)
    assert load.read_all().volts == pytest.approx(4.0, abs=0.001)
    assert psu.output_state() == (True, pytest.approx(4.0, abs=0.001))
    psu.off()
    assert psu.output_state() == (False, 0.0)
    assert load.read_all().amps == 0.0


def test_bad_registers_and_values_get_modbus_exceptions(sim: SimBench, psu: PowerSupply) -> None:
    psu.set(8.0, 1.0)
    cases = [
        (lambda: psu.read_raw(3), 2),  # reserved address
        (lambda: psu.read_raw(14, 2), 2),  # runs past the end of the map
        (lambda: psu.write_raw(10, [5]), 2),  # V_OUT is measured: read-only
        (lambda: psu.write_raw(8, [60001, 1000]), 3),  # above the 60 V range
        (lambda: psu.write_raw(14, [2]), 3),  # OUTPUT is 0 or 1
    ]
    for call, code in cases:
        with pytest.raises(InstrumentRejectedError) as ei:
            call()
        assert ei.value.exception_code == code, ei.value
    with pytest.raises(InstrumentRejectedError, match="illegal data value"):
        psu.set(61.0, 1.0)
    # nothing rejected was applied
    assert psu.read_raw(8, 2) == [8000, 1000]
    # FC4 (input registers) is not part of the instrument's protocol
    rsp = psu.client.read_input_registers(8, count=1, device_id=1)
    assert rsp.isError() and rsp.exception_code == 1
    # a value no 16-bit register holds is refused before anything goes on the wire
    before = sim.psu.requests
    with pytest.raises(SetpointError):
        psu.set(70.0, 1.0)
    with pytest.raises(SetpointError):
        psu.set(-1.0, 1.0)
    assert sim.psu.requests == before
    with sim.connect_load(timeout=0.5, retries=0) as ld, pytest.raises(InstrumentRejectedError) as ei:
        ld.write_raw(8, [1])  # CV mode: not modelled, refused
    assert ei.value.exception_code == 3


def test_hung_instrument_times_out_then_recovers(sim: SimBench, psu: PowerSupply) -> None:
    fast = PowerSupply(sim.psu.url, timeout=0.2, retries=1)
    assert fast.read("MODEL") == {"MODEL": 6006}
    sim.psu.stalled = True
    t0 = time.perf_counter()
    with pytest.raises(InstrumentTimeoutError, match="no response"):
        fast.read_all()
    elapsed = time.perf_counter() - t0
    assert 0.35 < elapsed < 2.0  # (retries + 1) attempts of 0.2 s, not the 3 s pymodbus default
    sim.psu.stalled = False
    assert fast.read_all().v_set == 0.0  # a fresh connection: no stale answer taken for this one
    fast.close()


def test_stopped_server_is_reported_within_the_timeout_budget(sim: SimBench, psu: PowerSupply) -> None:
    psu.set(8.0, 1.0)
    sim.psu.stop()
    for _ in range(2):  # the dropped connection, then the refused reconnect
        t0 = time.perf_counter()
        with pytest.raises(InstrumentUnreachableError) as ei:
            psu.read_all()
        assert time.perf_counter() - t0 < 1.5
        assert isinstance(ei.value, BenchError) and ei.value.instrument == "PSU"
    assert "cannot reach tcp://127.0.0.1:" in str(ei.value)


def test_rtu_over_a_pty_null_modem() -> None:
    with SimBench(rtu=True) as b, b.connect_psu(timeout=0.5, retries=1) as p:
        assert b.psu.url.startswith("rtu:///dev/")
        assert p.identify() == 6006
        p.set(12.0, 2.0)
        p.on()
        assert p.read_raw(8, 7) == [12000, 2000, 12000, 300, 360, 0, 1]
        with pytest.raises(InstrumentRejectedError):
            p.read_raw(2)


# ---- plans on the twin -------------------------------------------------------------------------
def _plan(*cases: tuple[str, list[object]], **target: float) -> object:
    return parse_plan({"name": "t", "target": target, "case": [{"name": n, "steps": s} for n, s in cases]})


def test_three_power_cycles_count_boots_and_keep_a_parameter(
    tmp_path: Path, psu: PowerSupply, load: ElectronicLoad
) -> None:
    target = TwinPowerTarget(tmp_path / "flash", psu)
    up = _plan(
        ("power up", ["psu.set(8.0, 1.0)", "psu.on()", "wait(1)", "expect(boot_count=1, mode='SAFE')"])
    )
    assert run_plan(up, target, psu, load).ok
    assert target.twin is not None
    # set on the running board (as a PUS-20 command would), then power-cycle it three times
    assert target.twin.app.params.set(BEACON, 120.0) == 120.0
    cycles: list[object] = []
    for n in (2, 3, 4):
        cycles += ["power_cycle(off_ms=300)", "expect(powered=False)", "wait(1)", "expect(boot_count=%d)" % n]
    cycles.append({"do": "expect", "reset_cause": "POWER_ON", "param": {"comms.beacon_s": 120.0}})
    result = run_plan(_plan(("three cycles", cycles)), target, psu, load)
    assert result.ok, [(s.step, s.message) for s in result.cases[0].steps]
    app = target.twin.app
    assert (app.boot.count, app.boot.cause, app.params.get(BEACON)) == (4, POWER_ON, 120.0)
    assert target.power_ups == 4 and target.twin.boots == 4
    states = [s.target_state for s in result.cases[0].steps if s.step.startswith("wait")]
    assert states == ["boot 2, POWER_ON, SAFE", "boot 3, POWER_ON, SAFE", "boot 4, POWER_ON, SAFE"]
    # what the flash holds: the boot record slot has count 4, cause 0
    recs = [(tmp_path / "flash" / n).read_bytes() for n in ("boot.a", "boot.b")]
    assert any(struct.pack(">IB", 4, POWER_ON) in r for r in recs)
    assert target.now_ms() == 1000 + 3 * 1300


def test_brown_out_sets_reset_cause_3(tmp_path: Path, psu: PowerSupply, load: ElectronicLoad) -> None:
    target = TwinPowerTarget(tmp_path, psu, brownout_v=5.5, brownout_ms=50, por_v=2.0)
    steps: list[object] = [
        "psu.set(8.0, 1.0)",
        "psu.on()",
        "wait(0.5)",
        "brownout(4.5, 40)",  # shorter than the hold-up: ridden through
        "wait(0.5)",
        "expect(boot_count=1, reset_cause='POWER_ON')",
        "brownout(4.0, 300)",
        "expect(powered=False)",
        "wait(0.5)",
        "expect(boot_count=2, reset_cause=3, psu_volts=[7.99, 8.01])",
        "brownout(1.0, 300)",  # below the POR threshold: a cold start, not a brown-out
        "wait(0.5)",
        "expect(boot_count=3, reset_cause='POWER_ON')",
    ]
    result = run_plan(_plan(("dips", steps)), target, psu, load)
    assert result.ok, result.cases[0].message
    assert result.cases[0].steps[8].target_state == "boot 2, BROWN_OUT, SAFE"
    assert target.twin is not None and target.twin.app.boot.cause == POWER_ON
    assert psu.read_all().v_set == 8.0  # brownout() restored the setpoint


def test_current_limit_brown_out_emerges_from_the_circuit(
    tmp_path: Path, psu: PowerSupply, load: ElectronicLoad
) -> None:
    target = TwinPowerTarget(tmp_path, psu)
    steps: list[object] = [
        "psu.set(8.0, 0.5)",
        "psu.on()",
        "load.set(0.4)",
        "wait(1)",
        "load.on()",  # 0.4 + 0.2 A > 0.5 A: CC, the rail sags to 4 V
        "wait(1)",
        "expect(powered=False, psu_volts=[3.99, 4.01], psu_amps=[0.499, 0.501])",
        "load.off()",
        "wait(1)",
    ]
    result = run_plan(_plan(("sag", steps)), target, psu, load)
    assert result.ok, result.cases[0].message
    assert result.cases[0].steps[5].readings["psu_cc"] is True
    assert target.twin is not None and target.twin.app.boot.cause == BROWN_OUT


def test_failing_expectation_gives_junit_failure_and_nonzero_result(
    tmp_path: Path, psu: PowerSupply, load: ElectronicLoad
) -> None:
    plan = _plan(
        ("boots", ["psu.set(8.0, 1.0)", "psu.on()", "wait(1)", "expect(boot_count=1)"]),
        ("wrong count", ["wait(1)", "expect(boot_count=99, mode='SAFE')", "psu.off()"]),
        ("unpowered command", ["psu.off()", "wait(0.2)", "param.set('comms.beacon_s', 90)", "wait(1)"]),
        ("recovers", ["psu.on()", "wait(1)", "expect(boot_count=2, param={'comms.beacon_s': 60})"]),
    )
    junit, report = tmp_path / "out" / "bench.xml", tmp_path / "out" / "bench.md"
    result = run_plan(plan, TwinPowerTarget(tmp_path / "flash", psu), psu, load, junit=junit, report=report)
    assert not result.ok
    assert [c.status for c in result.cases] == ["pass", "fail", "error", "pass"]
    wrong = result.cases[1]
    assert [s.status for s in wrong.steps] == ["pass", "fail", "skipped"]
    assert wrong.message == "step 2 expect(boot_count=99, mode='SAFE'): boot_count: expected 99, got 1"

    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite"
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "4",
        "failures": "1",
        "errors": "1",
        "skipped": "0",
    }
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["boots", "wrong count", "unpowered command", "recovers"]
    assert all(float(c.get("time", "-1")) >= 0 for c in cases)
    failure = cases[1].find("failure")
    assert failure is not None and "expected 99, got 1" in failure.get("message", "")
    assert "SKIPPED" in (failure.text or "") and "psu.off()" in (failure.text or "")
    error = cases[2].find("error")
    assert error is not None and error.get("type") == "TargetError"
    assert "flight twin is not powered" in error.get("message", "")
    assert cases[0].find("failure") is None and cases[3].find("error") is None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["target"] == "flight twin" and props["psu"].startswith("tcp://127.0.0.1:")

    md = report.read_text()
    assert "**FAIL**: 4 case(s), 2 passed, 1 failed, 1 error(s)" in md
    assert "## FAIL: wrong count" in md and "| 3 | `psu.off()` | SKIPPED |" in md


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ("psu.explode()", "unknown step 'psu.explode'"),
        ("psu.set(8.0)", "psu.set: missing amps"),
        ("wait(-1)", "non-negative"),
        ("wait(1e308)", "seconds must be at most 86400"),
        ("wait(1e999)", "non-negative number, not inf"),
        ({"do": "wait", "seconds": float("nan")}, "non-negative number, not nan"),
        ({"do": "wait", "seconds": float("-inf")}, "non-negative number, not -inf"),
        ("brownout(4.0, 1e300)", "ms must be at most"),
        ("power_cycle(off_ms=1e20)", "off_ms must be at most"),
        ("wait(__import__('os'))", "literals"),
        ("param.set('no.such', 1)", "no parameter 'no.such'"),
        ("param.set('comms.beacon_s', 5)", "outside 10..3600"),
        ("expect(boot_count=0)", "positive integer"),
        ("expect(mode='FLYING')", "expect mode='FLYING'"),
        ("expect(psu_volts=[9, 8])", "lo <= hi"),
        ("expect(colour='red')", "unknown check 'colour'"),
        ({"volts": 1}, "a step is a string"),
    ],
)
def test_plan_errors_name_the_case_and_step(step: object, error: str) -> None:
    with pytest.raises(
        PlanError, match="case 'c' step 2: .*" + error.replace("(", r"\(").replace(")", r"\)")
    ):
        parse_plan({"case": [{"name": "c", "steps": ["psu.on()", step]}]})


def test_plan_needing_a_load_refuses_to_run_without_one(tmp_path: Path, psu: PowerSupply) -> None:
    with pytest.raises(PlanError, match="electronic load"):
        run_plan(_plan(("x", ["load.on()"])), TwinPowerTarget(tmp_path, psu), psu, None)


def test_example_plan_runs(tmp_path: Path) -> None:
    plan = load_plan(EXAMPLE)
    assert len(plan.cases) == 5
    result = CliRunner().invoke(
        bench,
        ["run", str(EXAMPLE), "--junit", str(tmp_path / "b.xml"), "--report", str(tmp_path / "b.md")],
    )
    assert result.exit_code == 0, result.output
    assert "PASS: 5/5 cases passed" in result.output
    suite = ET.parse(tmp_path / "b.xml").getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "0", "0")
    assert "brown-out resets the board" in (tmp_path / "b.md").read_text()


def test_cli_exit_codes(tmp_path: Path) -> None:
    failing = tmp_path / "fail.json"
    failing.write_text(
        '{"case": [{"name": "c", "steps": ["psu.set(8, 1)", "psu.on()", "wait(1)", "expect(boot_count=2)"]}]}'
    )
    result = CliRunner().invoke(bench, ["run", str(failing), "-q"])
    assert (
        result.exit_code == 1 and "FAIL: c" in result.output and "boot_count: expected 2" not in result.output
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('[[case]]\nname = "c"\nsteps = ["wait(one)"]\n')
    result = CliRunner().invoke(bench, ["run", str(bad)])
    assert result.exit_code == 2 and "arguments must be literals" in result.output


def test_plan_file_on_instruments_given_by_url_leaves_the_bench_safe(tmp_path: Path, sim: SimBench) -> None:
    result = run_plan_file(EXAMPLE, psu_url=sim.psu.url, load_url=sim.load.url, flash_dir=tmp_path / "f")
    assert result.ok and result.instruments == {"psu": sim.psu.url, "load": sim.load.url}
    assert sim.circuit.psu["OUTPUT"] == 0 and sim.circuit.load["INPUT"] == 0  # switched off afterwards
    assert (tmp_path / "f" / "boot.a").exists()  # the twin flew on the flash we gave it
    with pytest.raises(PlanError, match="give its URL"):
        run_plan_file(EXAMPLE, psu_url=sim.psu.url)
    sim.psu.stop()
    result_cli = CliRunner().invoke(
        bench, ["run", str(EXAMPLE), "--psu", sim.psu.url, "--load", sim.load.url]
    )
    assert result_cli.exit_code == 2 and "cannot reach" in result_cli.output


def test_plan_files_that_are_not_plans(tmp_path: Path) -> None:
    binary = tmp_path / "plan.toml"
    binary.write_bytes(b"\x00\x01\xff\xfe" * 64)
    with pytest.raises(PlanError, match="not a text file"):
        load_plan(binary)
    with pytest.raises(PlanError, match="cannot read plan"):
        load_plan(tmp_path / "missing.toml")
    with pytest.raises(PlanError, match="cannot read plan"):
        load_plan(tmp_path)
    result = CliRunner().invoke(bench, ["run", str(binary)])
    assert result.exit_code == 2 and "not a text file" in result.output


def test_setpoints_a_register_cannot_hold_are_refused(psu: PowerSupply) -> None:
    for volts in (1e308, float("inf"), float("nan"), -1.0):
        with pytest.raises(SetpointError, match="does not fit"):
            psu.set_voltage(volts)


def test_cli_reports_that_cannot_be_written_fail_before_the_bench_moves(tmp_path: Path) -> None:
    plan = tmp_path / "p.toml"
    plan.write_text('[[case]]\nname = "c"\nsteps = ["psu.on()"]\n')
    (tmp_path / "file").write_text("")
    result = CliRunner().invoke(bench, ["run", str(plan), "--junit", str(tmp_path / "file" / "j.xml")])
    assert result.exit_code == 2 and "cannot write --junit" in result.output
    assert "PASS" not in result.output  # refused before the run


def test_cli_unreachable_instrument_says_what_to_check(tmp_path: Path) -> None:
    import socket

    plan = tmp_path / "p.toml"
    plan.write_text('[[case]]\nname = "c"\nsteps = ["psu.on()"]\n')
    with socket.socket() as s:  # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        result = CliRunner().invoke(bench, ["run", str(plan), "--psu", "tcp://127.0.0.1:%d" % port])
    assert result.exit_code == 2
    assert "cannot reach" in result.output and "is the instrument on" in result.output
