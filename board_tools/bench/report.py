"""Bench plan results as JUnit XML (for CI) and as a Markdown report (for people).

JUnit: one <testsuite> per plan, one <testcase> per case; a failed expectation is a <failure>,
an instrument or target error an <error>, both with the first bad step as message and the full
step log as text. Every case's step log is also in its <system-out>.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

from board_tools.bench.plan import CaseResult, PlanResult, StepResult


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_").lower() or "plan"


def _readings(s: StepResult) -> str:
    r = s.readings
    if not r:
        return ""
    text = "PSU %s %.3f V %.3f A%s" % (
        "on" if r["psu_on"] else "off",
        r["psu_v"],
        r["psu_a"],
        " CC" if r["psu_cc"] else "",
    )
    if "load_a" in r:
        text += ", load %s %.3f A" % ("on" if r["load_on"] else "off", r["load_a"])
    return text


def step_log(case: CaseResult) -> str:
    lines = []
    for s in case.steps:
        lines.append(
            "%2d %-7s t=%8.3f s  %7.1f ms  %-40s %s%s"
            % (
                s.index,
                s.status.upper(),
                s.target_ms / 1000.0,
                s.wall_s * 1000.0,
                s.step,
                _readings(s),
                ("  [%s]" % s.target_state) if s.target_state else "",
            )
        )
        if s.message:
            lines.append("   -> " + s.message)
    return "\n".join(lines)


def junit_xml(result: PlanResult) -> ET.ElementTree:
    suite = ET.Element(
        "testsuite",
        name=result.name,
        tests=str(len(result.cases)),
        failures=str(result.count("fail")),
        errors=str(result.count("error")),
        skipped="0",
        time="%.3f" % result.wall_s,
        timestamp=result.started.strftime("%Y-%m-%dT%H:%M:%S"),
        hostname=socket.gethostname(),
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (("target", result.target), ("plan", result.source), *result.instruments.items()):
        ET.SubElement(props, "property", name=key, value=value)
    classname = "bench." + _slug(result.name)
    for case in result.cases:
        tc = ET.SubElement(suite, "testcase", classname=classname, name=case.name, time="%.3f" % case.wall_s)
        log = step_log(case)
        if case.status == "fail":
            ET.SubElement(tc, "failure", message=case.message, type="ExpectationError").text = log
        elif case.status == "error":
            bad = next(s for s in case.steps if s.status == "error")
            ET.SubElement(tc, "error", message=case.message, type=bad.message.split(":", 1)[0]).text = log
        ET.SubElement(tc, "system-out").text = log
    ET.indent(suite)
    return ET.ElementTree(suite)


def write_junit(result: PlanResult, path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    junit_xml(result).write(p, encoding="utf-8", xml_declaration=True)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(result: PlanResult) -> str:
    verdict = "PASS" if result.ok else "FAIL"
    counts = (len(result.cases), result.count("pass"), result.count("fail"), result.count("error"))
    out = [
        "# Bench plan: %s" % result.name,
        "",
        "**%s**: %d case(s), %d passed, %d failed, %d error(s)" % (verdict, *counts),
        "",
        "- plan: `%s`" % result.source,
        "- target: %s" % result.target,
    ]
    out += ["- %s: `%s`" % kv for kv in result.instruments.items()]
    out += [
        "- started: %s UTC, wall time %.2f s" % (result.started.strftime("%Y-%m-%d %H:%M:%S"), result.wall_s),
        "",
    ]
    for case in result.cases:
        out += ["## %s: %s (%.2f s)" % (case.status.upper(), case.name, case.wall_s), ""]
        if case.message:
            out += ["> %s" % _cell(case.message), ""]
        out += [
            "| # | step | result | target t [s] | wall [ms] | readings | target | note |",
            "|---|------|--------|-------------:|----------:|----------|--------|------|",
        ]
        for s in case.steps:
            out.append(
                "| %d | `%s` | %s | %.3f | %.1f | %s | %s | %s |"
                % (
                    s.index,
                    _cell(s.step),
                    s.status.upper(),
                    s.target_ms / 1000.0,
                    s.wall_s * 1000.0,
                    _readings(s),
                    s.target_state,
                    _cell(s.message),
                )
            )
        out.append("")
    return "\n".join(out)


def write_markdown(result: PlanResult, path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(markdown(result))
