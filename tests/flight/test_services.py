"""Every onboard service through the real link (CLTU/COP-1 up, CADU down) to the flight
application on the twin: good commands complete, bad ones fail with their specific code."""

from __future__ import annotations

import struct

import pytest
from spacepackets.ecss.pus_1_verification import ManagedParams, ManagedParamsVerification, Service1Tm
from twin_rig import Rig

from flight.dictionary import FAIL, PARAM_IDS
from flight.payload import read_samples
from protocols.pus import PusTc


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path / "flash")
    r.nominal()
    return r


def test_ping_and_verification_bytes_match_spacepackets(rig):
    assert rig.send("ping") == [1, 3, 7]
    assert any((tm.service, tm.subtype) == (17, 2) for tm in rig.term.tm)
    # an acceptance failure as it came down the link, decoded by the peer library
    tc = PusTc(17, 1, b"extra", apid=0x10, seq_count=999)
    verdict, code = rig.send_tc(tc)
    assert verdict == [2] and code == FAIL["BAD_LENGTH"]
    report = [tm for tm in rig.term.verification_tm if tm.subtype == 2][-1]
    params = (ManagedParams(timestamp_len=6), ManagedParamsVerification(bytes_err_code=2))
    ref = Service1Tm.unpack(report.pack(), *params)
    assert ref.message_subtype == 2 and ref.error_code.val == FAIL["BAD_LENGTH"]
    assert ref.tc_req_id.tc_psc.seq_count == 999 and ref.tc_req_id.tc_packet_id.apid == 0x10


def test_unknown_service_bad_length_arg_range_unknown_id(rig):
    assert rig.send_tc(PusTc(99, 1, b"", apid=0x10, seq_count=500))[1] == FAIL["UNKNOWN_SERVICE"]
    assert rig.send_tc(PusTc(8, 1, b"\x00\x63", apid=0x10, seq_count=501))[1] == FAIL["UNKNOWN_SERVICE"]
    assert rig.send_tc(PusTc(3, 31, b"\x01", apid=0x10, seq_count=502))[1] == FAIL["BAD_LENGTH"]
    assert rig.send_tc(PusTc(3, 31, b"\x01\x00\x00", apid=0x10, seq_count=503))[1] == FAIL["ARG_RANGE"]
    assert (
        rig.send_tc(PusTc(8, 1, b"\x00\x01\x09", apid=0x10, seq_count=504))[1] == FAIL["ARG_RANGE"]
    )  # mode 9
    assert rig.code("param_get", {"param_id": 999}) == FAIL["UNKNOWN_ID"]
    assert rig.code("hk_enable", {"sid": 9}) == FAIL["UNKNOWN_ID"]
    assert rig.code("event_disable", {"event_id": 4242}) == FAIL["UNKNOWN_ID"]
    # a packet with a broken CRC inside a valid frame: acceptance failure against its header
    bad = bytearray(PusTc(17, 1, apid=0x10, seq_count=505).pack())
    bad[-1] ^= 0xFF
    req = rig.term.send_tc(PusTc(17, 1, apid=0x10, seq_count=0))  # placeholder to keep FOP busy
    rig.term.fop.send(bytes(bad))
    assert rig.until(lambda: rig.term.done((0x10, 505)))
    assert rig.term.failures[(0x10, 505)][0] == FAIL["BAD_PACKET"]
    assert rig.term.done(req)
    assert rig.app.dispatcher.by_code[FAIL["BAD_PACKET"]] == 1


def test_housekeeping_enable_disable_interval_oneshot(rig):
    assert rig.send("hk_enable", {"sid": 2}) == [1, 3, 7]
    n2 = lambda: sum(1 for h in rig.term.hk if h[1] == 2)  # noqa: E731
    rig.run(65)
    first = n2()
    assert 2 <= first <= 4  # every 30 s
    assert rig.send("hk_interval", {"sid": 2, "interval_s": 5}) == [1, 3, 7]
    rig.run(30)
    assert n2() - first >= 5
    assert rig.send("hk_disable", {"sid": 2}) == [1, 3, 7]
    before = n2()
    rig.run(20)
    assert n2() - before <= 1
    assert rig.send("hk_oneshot", {"sid": 3}) == [1, 3, 7]
    health = rig.term.latest(3)
    assert health["boot_count"] == 1 and health["task_errors"] == 0
    core = rig.term.latest(1)
    assert core["mode"] == 3 and 0.0 < core["soc"] <= 1.0 and 6.0 < core["batt_v"] < 8.6


def test_events_enable_disable(rig):
    assert rig.send("event_disable", {"event_id": 19}) == [1, 3, 7]  # PARAM_CHANGED
    rig.send("param_set", {"param_id": PARAM_IDS["comms.beacon_s"], "value": 90.0})
    rig.run(2)
    assert not [e for e in rig.term.events if e[1] == "PARAM_CHANGED"]
    assert rig.app.events.last[0] == "PARAM_CHANGED"  # still logged onboard
    assert rig.send("event_enable", {"event_id": 19}) == [1, 3, 7]
    rig.send("param_set", {"param_id": PARAM_IDS["comms.beacon_s"], "value": 95.0})
    rig.run(2)
    assert [e for e in rig.term.events if e[1] == "PARAM_CHANGED"][-1][2] == {"param_id": 11, "value": 95.0}


def test_parameters_bounds_cross_checks_and_persistence(rig, tmp_path):
    pid = PARAM_IDS["fdir.soc_safe"]
    assert rig.send("param_set", {"param_id": pid, "value": 0.2}) == [1, 3, 7]
    assert rig.code("param_set", {"param_id": pid, "value": 0.7}) == FAIL["ARG_RANGE"]  # above max 0.6
    assert rig.code("param_set", {"param_id": pid, "value": 0.5}) == FAIL["ARG_RANGE"]  # >= soc_recover
    on = PARAM_IDS["thermal.heater_on_c"]
    assert rig.code("param_set", {"param_id": on, "value": 30.0}) == FAIL["ARG_RANGE"]  # above off point
    assert rig.send("param_get", {"param_id": pid}) == [1, 3, 7]
    rep = [tm for tm in rig.term.tm if (tm.service, tm.subtype) == (20, 2)][-1]
    n, got_id, value = struct.unpack(">BHf", rep.source_data)
    assert (n, got_id) == (1, pid) and abs(value - 0.2) < 1e-6
    rig.twin.power_cycle()
    assert abs(rig.app.params["fdir.soc_safe"] - 0.2) < 1e-6 and rig.app.boot.count == 2


def test_modes_commanded_transitions_and_interlocks(tmp_path):
    rig = Rig(tmp_path / "f", tumble_dps=6.0)
    assert rig.until(lambda: rig.app.modes.mode == 1)
    assert rig.code("mode_set", {"mode": "NOMINAL"}) == FAIL["WRONG_MODE"]  # SAFE -> NOMINAL skips DETUMBLE
    rig.send("param_set", {"param_id": PARAM_IDS["fdir.auto_recover"], "value": 0.0})
    assert rig.send("mode_set", {"mode": "DETUMBLE"}) == [1, 3, 7]
    assert rig.code("mode_set", {"mode": "NOMINAL"}) == FAIL["INTERLOCK"]  # still tumbling at 6 deg/s
    assert rig.send("mode_override", {"mode": "NOMINAL"}) == [1, 3, 7]
    assert rig.app.modes.mode == 3
    assert rig.send("mode_set", {"mode": "SAFE"}) == [1, 3, 7]
    rig.run(5)
    assert rig.app.modes.mode == 1  # auto-recovery disabled: stays in SAFE
    changes = [e[2] for e in rig.term.events if e[1] == "MODE_CHANGE"]
    assert {"from": 2, "to": 3, "reason": 0} in changes and {"from": 3, "to": 1, "reason": 0} in changes


def test_schedule_insert_list_delete_release_and_reboot(rig):
    obt = int(rig.app.obt())
    inner = rig.term.build("hk_oneshot", {"sid": 3})
    rig.term.expect(inner, "hk_oneshot@")
    assert rig.send("schedule_insert", {"release_s": obt + 60, "command": inner}) == [1, 3, 7]
    other = rig.term.build("ping")
    assert rig.send("schedule_insert", {"release_s": obt + 3600, "command": other}) == [1, 3, 7]
    assert (
        rig.code("schedule_insert", {"release_s": obt - 10, "command": rig.term.build("ping")})
        == FAIL["TIME_PASSED"]
    )
    assert rig.code("schedule_delete", {"apid": 0x10, "seq": 4000}) == FAIL["UNKNOWN_ID"]
    assert rig.send("schedule_list") == [1, 3, 7]
    summary = [tm for tm in rig.term.tm if (tm.service, tm.subtype) == (11, 13)][-1].source_data
    assert summary[0] == 2
    assert struct.unpack_from(">IHH", summary, 1) == (obt + 60, 0x10, inner.seq_count)
    rig.twin.power_cycle()  # the schedule is persisted
    assert len(rig.app.schedule.entries) == 2
    rig.term.start(rig.ms)  # a new FARM after the reboot: COP-1 resynchronises
    assert rig.send("schedule_delete", {"apid": 0x10, "seq": other.seq_count}) == [1, 3, 7]
    assert rig.until(lambda: rig.term.done((0x10, inner.seq_count)), 120)
    assert rig.term.verdict((0x10, inner.seq_count)) == [1, 3, 7]
    assert any(e[1] == "SCHEDULED_RELEASE" for e in rig.term.events)
    assert rig.app.schedule.entries == []


def test_schedule_full(rig):
    obt = int(rig.app.obt())
    for i in range(32):
        rig.app.schedule.insert(obt + 1000 + i, rig.term.build("ping").pack(), obt)
    assert (
        rig.code("schedule_insert", {"release_s": obt + 5000, "command": rig.term.build("ping")})
        == FAIL["TABLE_FULL"]
    )
    assert rig.send("schedule_reset") == [1, 3, 7] and rig.app.schedule.entries == []


def test_time_management(rig):
    assert rig.send("time_report", {"rate_exp": 0}) == [1, 3, 7]
    assert any((tm.service, tm.subtype) == (9, 2) for tm in rig.term.tm)
    assert rig.send("time_set", {"seconds": 1_000_000}) == [1, 3, 7]
    assert abs(rig.app.obt() - 1_000_000) < 2
    rig.run(3)
    assert rig.term.latest(1)["obt_s"] >= 1_000_000 or rig.send("hk_oneshot", {"sid": 1}) == [1, 3, 7]


def test_payload_experiment_holds_setpoint_samples_and_downlinks(rig):
    assert rig.code("payload_stop") == FAIL["EXEC_FAILED"]  # nothing running
    # the ground encoder refuses samples=0; a raw packet shows the spacecraft refuses it too
    bad = PusTc(8, 1, struct.pack(">HBHH", 30, 3, 5, 0), apid=0x10, seq_count=600)
    assert rig.send_tc(bad)[1] == FAIL["ARG_RANGE"]
    assert rig.send("payload_start", {"experiment": 1, "period_s": 5, "samples": 8}) == [1, 3, 7]
    assert rig.code("payload_start", {"experiment": 2, "period_s": 5, "samples": 8}) == FAIL["INTERLOCK"]
    assert rig.app.heater.on_below == 24.0  # experiment 1 holds 25 degC
    assert rig.until(lambda: any(e[1] == "PAYLOAD_FILE" for e in rig.term.events), 120)
    assert rig.until(lambda: any((tm.service, tm.subtype) == (13, 3) for tm in rig.term.tm), 60)
    parts = [tm.source_data for tm in rig.term.tm if tm.service == 13]
    data = b"".join(p[4:] for p in parts)
    samples = read_samples(data)
    assert len(samples) == 8 and samples[1][0] - samples[0][0] == 5
    assert rig.app.payload.queue == []


def test_a_file_waits_while_the_tm_queue_is_half_full(rig):
    """Radio down: the queue does not drain, and a file part queued behind it would be dropped
    as the oldest packet, its file already deleted. The part waits instead."""
    from flight.app import TM_QUEUE_MAX

    app = rig.app
    app.fs.write("exp_5.bin", b"\x01" * 300)
    app.payload.queue.append("exp_5.bin")
    app.tm_queue[:] = [b"stuck"] * (TM_QUEUE_MAX // 2)
    app.payload.files_task()
    assert app.tm_queue == [b"stuck"] * (TM_QUEUE_MAX // 2) and app.payload.queue == ["exp_5.bin"]
    app.tm_queue[:] = []  # the radio is back
    app.payload.files_task()
    assert len(app.tm_queue) == 1 and app.tm_queue[0][7:9] == bytes((13, 1))  # TM(13,1), the first part
    assert app.fs.read("exp_5.bin") is not None  # kept until its last part is queued


def test_payload_refused_outside_nominal(tmp_path):
    rig = Rig(tmp_path / "f")
    assert rig.until(lambda: rig.app.modes.mode == 1)
    assert rig.code("payload_start", {"experiment": 1, "period_s": 5, "samples": 8}) == FAIL["WRONG_MODE"]


def test_thruster_two_step_arming_fire_and_interlocks(rig):
    assert rig.code("thruster_fire", {"thruster": 0, "duration_ms": 50}) == FAIL["INTERLOCK"]  # not armed
    assert rig.send("thruster_arm") == [1, 3, 7]
    token = [e for e in rig.term.events if e[1] == "ARM_PENDING"][-1][2]["token"]
    assert rig.code("thruster_arm_confirm", {"token": (token + 1) & 0xFFFF or 1}) == FAIL["INTERLOCK"]
    assert rig.send("thruster_arm") == [1, 3, 7]
    token = [e for e in rig.term.events if e[1] == "ARM_PENDING"][-1][2]["token"]
    assert rig.send("thruster_arm_confirm", {"token": token}) == [1, 3, 7]
    assert rig.code("thruster_fire", {"thruster": 0, "duration_ms": 300}) == FAIL["ARG_RANGE"]  # > max 200
    assert rig.send("thruster_fire", {"thruster": 2, "duration_ms": 100}) == [1, 3, 7]
    rig.run(2)
    assert rig.app.propulsion.valves[2].pulses == 1
    assert [e for e in rig.term.events if e[1] == "THRUSTER_FIRED"]
    assert rig.send("thruster_disarm") == [1, 3, 7]
    assert not rig.app.propulsion.armed()


def test_audit_log_records_every_executed_command(rig, tmp_path):
    from flight.audit import GENESIS, verify

    rig.send("ping")
    rig.code("param_get", {"param_id": 999})
    recs = rig.app.audit.records()
    texts = [r[16 + 9 :].decode() for r in recs]
    assert any("ping OK" in t for t in texts) and any("param_get FAILED 7" in t for t in texts)
    ok, _n, why = verify(recs, head=rig.app.audit.head[:4], count=rig.app.audit.seq, anchor=GENESIS)
    assert ok, why
    hk = rig.send("hk_oneshot", {"sid": 3}) and rig.term.latest(3)
    assert hk["audit_seq"] == rig.app.audit.seq or hk["audit_seq"] == rig.app.audit.seq - 1


def test_verification_query_repeats_reports_of_a_recent_request(rig):
    req = rig.term.command("ping")
    assert rig.until(lambda: rig.term.done(req))
    n = len(rig.term.verification_tm)
    assert rig.send("verification_query", {"apid": req[0], "seq": req[1]}) == [1, 3, 7]
    repeated = [
        tm.subtype for tm in rig.term.verification_tm[n:] if tm.source_data[2:4] == bytes((0xC0, req[1]))
    ]
    assert repeated == [1, 3, 7]  # the ping's three reports, sent again
    assert rig.code("verification_query", {"apid": 0x10, "seq": 9999}) == FAIL["UNKNOWN_ID"]


def test_radio_reset_command(rig):
    before = rig.app.radio.recoveries
    assert rig.send("radio_reset") == [1, 3, 7]
    assert rig.app.radio.recoveries == before + 1
    rig.app.radio.recover = lambda: (_ for _ in ()).throw(OSError(19, "no SX1276"))
    assert rig.code("radio_reset") == FAIL["EXEC_FAILED"]
