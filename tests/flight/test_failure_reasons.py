"""Failure reasons: the board names which check refused a command in one byte of failure data
after the PUS-1 failure code (flight/dictionary.py FAIL_REASONS), with no string of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from spacepackets.ecss.pus_1_verification import ManagedParams, ManagedParamsVerification, Service1Tm
from twin_rig import Rig

from flight.dictionary import FAIL, FAIL_REASONS
from protocols.pus import PusTc

ROOT = Path(__file__).resolve().parents[2]
CONST = re.compile(r"^_R_([A-Z0-9_]+) = const\((\d+)\)", re.M)


def test_the_numbers_flight_code_sends_are_the_dictionary_s() -> None:
    names = [n for n, _t in FAIL_REASONS.values()]
    assert len(set(names)) == len(names)
    # below 32: the ground tells the byte from an older board's text, which starts printable
    assert all(0 < r < 0x20 for r in FAIL_REASONS)
    used = set()
    for path in sorted((ROOT / "flight").glob("*.py")) + sorted((ROOT / "hal" / "drivers").glob("*.py")):
        for name, number in CONST.findall(path.read_text()):
            assert FAIL_REASONS.get(int(number), ("?",))[0] == name, "%s: _R_%s = const(%s)" % (
                path.name, name, number,
            )  # fmt: skip
            used.add(name)
    assert {"ARM_EXPIRED", "ARM_WRONG_TOKEN", "NOT_ARMED", "PROP_MODE", "ARG_1"} <= used


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Rig:
    r = Rig(tmp_path_factory.mktemp("flash"))
    r.run(2.0)  # BOOT -> SAFE
    assert r.send("mode_set", {"mode": "DETUMBLE"}) == [1, 3, 7]
    return r


def _failure(rig: Rig, name: str, values: dict | None = None) -> tuple[int, int | None, str, bytes]:
    req = rig.term.command(name, values)
    assert rig.until(lambda: rig.term.done(req), 30)
    code = rig.term.failures[req][0]
    report = [tm for tm in rig.term.verification_tm if tm.subtype % 2 == 0][-1]
    return code, rig.term.reasons[req], rig.term.stages(req), report.pack()


def _token(rig: Rig) -> int:
    assert rig.send("thruster_arm") == [1, 3, 7]
    return [e for e in rig.term.events if e[1] == "ARM_PENDING"][-1][2]["token"]


def test_an_expired_arm_request_goes_down_with_its_reason(rig: Rig) -> None:
    token = _token(rig)
    rig.run(11.0)  # past the valve's 10 s window, onboard time
    code, reason, stages, packet = _failure(rig, "thruster_arm_confirm", {"token": token})
    assert code == FAIL["INTERLOCK"] and FAIL_REASONS[reason][0] == "ARM_EXPIRED"
    assert "failed (INTERLOCK (arm request expired): interlock not satisfied)" in stages
    # the peer library reads the failure notice as code + data: the reason byte, then the text
    params = (ManagedParams(timestamp_len=6), ManagedParamsVerification(bytes_err_code=2))
    ref = Service1Tm.unpack(packet, *params)
    assert ref.message_subtype == 8 and ref.error_code.val == FAIL["INTERLOCK"]
    notice = ref.failure_notice.data
    assert notice[0] == reason and notice[1:].endswith(b"arm request expired")


def test_each_check_names_itself(rig: Rig) -> None:
    token = _token(rig)
    got = _failure(rig, "thruster_arm_confirm", {"token": (token + 1) & 0xFFFF or 1})
    assert got[:2] == (FAIL["INTERLOCK"], 3) and "(wrong arm token)" in got[2]  # ARM_WRONG_TOKEN
    got = _failure(rig, "thruster_fire", {"thruster": 0, "duration_ms": 50})
    assert got[:2] == (FAIL["INTERLOCK"], 5)  # NOT_ARMED
    got = _failure(rig, "param_get", {"param_id": 999})
    assert got[:2] == (FAIL["UNKNOWN_ID"], 24) and "(argument 1 (param_id))" in got[2]
    # an argument the ground would refuse, sent raw: thruster_fire's duration_ms (argument 2)
    raw = PusTc(8, 1, bytes([0, 11, 0]) + (5000).to_bytes(2, "big"), apid=0x10, seq_count=900)
    req = rig.term.send_tc(raw, "thruster_fire")
    assert rig.until(lambda: rig.term.done(req), 30)
    assert rig.term.failures[req][0] == FAIL["ARG_RANGE"] and rig.term.reasons[req] == 25
    assert "argument 2 (duration_ms)" in rig.term.stages(req)
