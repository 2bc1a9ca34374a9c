"""The PUS services' codecs (protocols/pus_<n>_<name>.py) against spacepackets' ecss package: the
same service and subtype numbers, byte-identical verification reports, and every decoder on
garbage raising protocols' own errors only."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st
from spacepackets.ecss import PusTc as RefTc
from spacepackets.ecss import PusTm as RefTm
from spacepackets.ecss.defs import PusService
from spacepackets.ecss.pus_1_verification import (
    ErrorCode,
    FailureNotice,
    RequestId,
    Service1Tm,
    VerificationParams,
)
from spacepackets.ecss.pus_1_verification import MessageSubtype as Ref1
from spacepackets.ecss.pus_3_hk import MessageSubtype as Ref3
from spacepackets.ecss.pus_5_event import MessageSubtype as Ref5
from spacepackets.ecss.pus_17_test import MessageSubtype as Ref17

from protocols import (
    pus_1_verification,
    pus_3_hk,
    pus_5_event,
    pus_8_function,
    pus_9_time,
    pus_11_schedule,
    pus_13_large_packet,
    pus_15_storage,
    pus_17_test,
    pus_20_param,
    pus_23_file,
)
from protocols.errors import DecodeError
from protocols.pus import PusTc, pack_tm

STAMP = bytes(6)


def test_service_and_subtype_numbers_are_spacepackets():
    codecs = {
        PusService.S1_VERIFICATION: pus_1_verification,
        PusService.S3_HOUSEKEEPING: pus_3_hk,
        PusService.S5_EVENT: pus_5_event,
        PusService.S8_FUNC_CMD: pus_8_function,
        PusService.S9_TIME_MGMT: pus_9_time,
        PusService.S11_TC_SCHED: pus_11_schedule,
        PusService.S15_TM_STORAGE: pus_15_storage,
        PusService.S17_TEST: pus_17_test,
        PusService.S20_PARAMETER: pus_20_param,
        PusService.S23_FILE_MGMT: pus_23_file,
    }
    assert {ref: codec.SERVICE for ref, codec in codecs.items()} == {ref: int(ref) for ref in codecs}
    v = pus_1_verification
    assert (v.ACCEPTED, v.ACCEPTANCE_FAILED, v.STARTED, v.START_FAILED) == (
        Ref1.TM_ACCEPTANCE_SUCCESS,
        Ref1.TM_ACCEPTANCE_FAILURE,
        Ref1.TM_START_SUCCESS,
        Ref1.TM_START_FAILURE,
    )
    assert (v.PROGRESS, v.PROGRESS_FAILED, v.COMPLETED, v.COMPLETION_FAILED) == (
        Ref1.TM_STEP_SUCCESS,
        Ref1.TM_STEP_FAILURE,
        Ref1.TM_COMPLETION_SUCCESS,
        Ref1.TM_COMPLETION_FAILURE,
    )
    assert (pus_3_hk.ENABLE, pus_3_hk.DISABLE, pus_3_hk.REPORT) == (
        Ref3.TC_ENABLE_PERIODIC_HK_GEN,
        Ref3.TC_DISABLE_PERIODIC_HK_GEN,
        Ref3.TM_HK_REPORT,
    )
    assert (pus_3_hk.ONE_SHOT, pus_3_hk.INTERVAL) == (
        Ref3.TC_GENERATE_ONE_PARAMETER_REPORT,
        Ref3.TC_MODIFY_PARAMETER_REPORT_COLLECTION_INTERVAL,
    )
    e = pus_5_event
    assert (e.INFO, e.LOW, e.MEDIUM, e.HIGH, e.ENABLE, e.DISABLE) == (
        Ref5.TM_INFO_EVENT,
        Ref5.TM_LOW_SEVERITY_EVENT,
        Ref5.TM_MEDIUM_SEVERITY_EVENT,
        Ref5.TM_HIGH_SEVERITY_EVENT,
        Ref5.TC_ENABLE_EVENT_REPORTING,
        Ref5.TC_DISABLE_EVENT_REPORTING,
    )
    assert (pus_17_test.PING, pus_17_test.REPORT) == (Ref17.TC_PING, Ref17.TM_REPLY)


@settings(max_examples=150, deadline=None)
@given(
    apid=st.integers(0, 0x7FF),
    seq=st.integers(0, 0x3FFF),
    subtype=st.sampled_from([1, 2, 3, 4, 7, 8]),
    code=st.integers(0, 0xFFFF),
    reason=st.integers(0, 31),
    text=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=48),
)
def test_verification_reports_equal_spacepackets(
    apid: int, seq: int, subtype: int, code: int, reason: int, text: str
) -> None:
    tc = RefTc(service=17, message_subtype=1, apid=apid, seq_count=seq)
    req = struct.pack(
        ">HH", *PusTc(17, 1, apid=apid, seq_count=seq).request_id()
    )  # ours, not the reference's
    failed = pus_1_verification.is_failure(subtype)
    notice = FailureNotice(ErrorCode(16, code), bytes((reason,)) + text.encode()) if failed else None
    ref = Service1Tm(
        apid=0x10,
        message_subtype=subtype,
        timestamp=STAMP,
        verif_params=VerificationParams(RequestId.from_sp_header(tc.sp_header), failure_notice=notice),
    )
    ours = pus_1_verification.encode_report(req, code if failed else None, reason, text)
    assert pack_tm(1, subtype, ours, apid=0x10, timestamp=STAMP) == ref.pack()
    want = (apid, seq, code, reason, text) if failed else (apid, seq, None, None, "")
    assert pus_1_verification.decode_report(ref.pus_tm.tm_data) == want


def test_a_pong_equals_spacepackets_service_17_reply() -> None:
    ref = RefTm(service=17, message_subtype=2, apid=0x10, seq_count=3, timestamp=STAMP)
    ours = pack_tm(
        pus_17_test.SERVICE, pus_17_test.REPORT, pus_17_test.encode_report(), 0x10, 3, timestamp=STAMP
    )
    assert ours == ref.pack()


def _decoders():
    formats = {1: ">HB", 2: ">BBB"}
    return (
        pus_1_verification.decode_report,
        lambda d: pus_3_hk.decode_report(d, formats),
        lambda d: pus_5_event.decode_report(d, formats),
        pus_8_function.decode_request,
        pus_9_time.decode_report,
        pus_11_schedule.decode_report,
        pus_13_large_packet.decode_part,
        pus_15_storage.decode_report,
        pus_20_param.decode_report,
    )


@settings(max_examples=300, deadline=None)
@given(blob=st.binary(max_size=300))
def test_decoders_on_garbage_return_or_raise_protocol_errors_only(blob: bytes) -> None:
    for decode in _decoders():
        try:
            decode(blob)
        except DecodeError:
            pass
