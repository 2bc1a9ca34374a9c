"""The end-to-end checks every target must pass (see conftest.py for --target)."""

from __future__ import annotations

import struct

import pytest

from flight.dictionary import FAIL, PARAM_IDS
from protocols import cltu, sdls
from protocols.pus import PusTc


def test_boot_and_ping(target) -> None:
    assert target.send("ping") == ([1, 3, 7], None)
    assert any((tm.service, tm.subtype) == (17, 2) for tm in target.term.tm)


def test_housekeeping_decodes_in_range(target) -> None:
    target.pump(target.mission_s(2))  # past the first control tick: sensors read once
    assert target.send("hk_oneshot", {"sid": 1})[0] == [1, 3, 7]
    assert target.pump(10, lambda: bool(target.term.latest(1)))
    core = target.term.latest(1)
    assert 6.0 < core["batt_v"] < 8.6 and 0.0 < core["soc"] <= 1.0 and core["mode"] in (1, 2, 3)
    assert target.send("hk_oneshot", {"sid": 3})[0] == [1, 3, 7]
    assert target.pump(10, lambda: bool(target.term.latest(3)))
    assert target.term.latest(3)["task_errors"] == 0


def test_parameter_set_survives_a_reset(target) -> None:
    pid = PARAM_IDS["comms.beacon_s"]
    assert target.send("param_set", {"param_id": pid, "value": 123.0})[0] == [1, 3, 7]
    boots = len(target.events("BOOT"))
    target.reset()
    # the terminal sees the BOOT event and resynchronises COP-1 with the fresh FARM by itself
    assert target.pump(60, lambda: len(target.events("BOOT")) > boots), "no BOOT event after the reset"
    assert target.pump(30, lambda: target.term.fop._init_frame is None)
    assert target.send("param_get", {"param_id": pid})[0] == [1, 3, 7]
    rep = [tm for tm in target.term.tm if (tm.service, tm.subtype) == (20, 2)][-1]
    assert struct.unpack(">BHf", rep.source_data) == (1, pid, 123.0)


def test_mode_changes_and_refusals(target) -> None:
    target.pump(target.mission_s(2))
    assert target.send("param_set", {"param_id": PARAM_IDS["fdir.auto_recover"], "value": 0.0})[0] == [
        1,
        3,
        7,
    ]
    assert target.send("hk_oneshot", {"sid": 1})[0] == [1, 3, 7]
    assert target.pump(5, lambda: bool(target.term.latest(1)))
    if target.term.latest(1)["mode"] != 1:
        assert target.send("mode_set", {"mode": "SAFE"})[0] == [1, 3, 7]
    assert target.send("mode_set", {"mode": "NOMINAL"}) == ([1, 4], FAIL["WRONG_MODE"])  # SAFE -> NOMINAL
    assert target.send("mode_set", {"mode": "DETUMBLE"})[0] == [1, 3, 7]
    assert {"from": 1, "to": 2, "reason": 0} in target.events("MODE_CHANGE")


def test_fdir_trip(target) -> None:
    if target.kind == "twin":
        target.battery_low()
        low = target.wait_event("BATTERY_LOW", 30)
        assert low["soc_permille"] < 250
        target.wait_event("LOAD_SHED", 10)
        n = len(target.term.hk)
        assert target.send("hk_oneshot", {"sid": 1})[0] == [1, 3, 7]
        assert target.pump(5, lambda: len(target.term.hk) > n)
        assert target.term.latest(1)["mode"] == 1  # SAFE (FDIR), whatever mode it was in
        return
    # anywhere else: the command-link silence rule, which needs nothing but time
    pid = PARAM_IDS["fdir.link_silence_s"]
    assert target.send("param_set", {"param_id": pid, "value": 60.0})[0] == [1, 3, 7]
    ev = target.wait_event("LINK_SILENCE_RESET", target.mission_s(60) + 30)
    assert ev["silent_s"] >= 60


def test_authentication_rejection(target) -> None:
    if not target.keyed:
        pytest.skip("the %s target runs without an SDLS key" % target.kind)
    wrong = sdls.SecurityAssociation(1, bytes(32))
    wrong.last_sn = 1 << 30
    tc = PusTc(17, 1, apid=0x10, seq_count=4000)
    frame = sdls.secure_frame(wrong, 0x2A, 0, target.term.fop.vs, tc.pack())
    target.link.write(cltu.encode(frame))
    ev = target.wait_event("AUTH_REJECT", 20)
    assert ev["check"] == 1  # the MAC check failed
    assert not target.term.verdict((0x10, 4000))  # nothing was executed or even accepted
    assert target.send("ping")[0] == [1, 3, 7]  # the real operator is unaffected


def test_cop1_retransmits_a_lost_command(target) -> None:
    lost = []

    def drop_first_ad(burst: bytes) -> bool:
        if not lost:
            lost.append(burst)
            return True
        return False

    target.drop_uplink = drop_first_ad
    assert target.send("ping", timeout=40)[0] == [1, 3, 7]
    assert lost and target.term.fop.retransmissions > 0


def test_thruster_arm_fire_and_interlocks(target) -> None:
    assert target.send("param_set", {"param_id": PARAM_IDS["fdir.auto_recover"], "value": 0.0})[0] == [
        1,
        3,
        7,
    ]
    target.pump(target.mission_s(2))  # BOOT -> SAFE happens at the first control tick
    assert target.send("mode_set", {"mode": "DETUMBLE"})[0] == [1, 3, 7]  # from SAFE (or already there)
    assert target.send("thruster_fire", {"thruster": 0, "duration_ms": 50}) == ([1, 4], FAIL["INTERLOCK"])
    assert target.send("thruster_arm") == ([1, 3, 7], None), target.term.failures
    token = target.wait_event("ARM_PENDING", 10)["token"]
    assert target.send("thruster_arm_confirm", {"token": token}) == ([1, 3, 7], None), target.term.failures
    assert target.send("thruster_fire", {"thruster": 0, "duration_ms": 50}) == ([1, 3, 7], None), (
        target.term.failures
    )
    assert target.wait_event("THRUSTER_FIRED", 20)["thruster"] == 0
    assert target.send("thruster_disarm")[0] == [1, 3, 7]
