"""Building the flight's most frequent report, a PUS-1 verification report, next to spacepackets in
the same run: a TM(1,8) completion failure (request id, code, reason byte, text) as a whole packet
with its CUC time and CRC, byte-identical (tests/protocols/test_pus_services_ref.py).

    ./dev.sh bench -k pus_reports
"""

from __future__ import annotations

import struct

import pytest
from spacepackets.ecss import PusTc as RefTc
from spacepackets.ecss.pus_1_verification import (
    ErrorCode,
    FailureNotice,
    RequestId,
    Service1Tm,
    VerificationParams,
)

from protocols import pus_1_verification as verification
from protocols.pus import PusTc, pack_tm

N = 2000
STAMP = bytes(6)
TEXT = "thruster_fire: not armed"
TCS = [
    (PusTc(8, 1, apid=0x10, seq_count=i), RefTc(service=8, message_subtype=1, apid=0x10, seq_count=i))
    for i in range(N)
]


def _ours() -> list:
    out = []
    for tc, _ref in TCS:
        req = struct.pack(">HH", *tc.request_id())
        data = verification.encode_report(req, 4, 27, TEXT)
        out.append(pack_tm(verification.SERVICE, verification.COMPLETION_FAILED, data, 0x10, 0, 0, 0, STAMP))
    return out


def _spacepackets() -> list:
    out = []
    for _tc, ref in TCS:
        notice = FailureNotice(ErrorCode(16, 4), bytes((27,)) + TEXT.encode())
        params = VerificationParams(RequestId.from_sp_header(ref.sp_header), failure_notice=notice)
        out.append(Service1Tm(apid=0x10, message_subtype=8, timestamp=STAMP, verif_params=params).pack())
    return out


@pytest.mark.benchmark(group="2000 PUS-1 failure reports built (TM(1,8), whole packets)")
def test_verification_reports_ours(benchmark):
    out = benchmark(_ours)
    benchmark.extra_info["bytes"] = sum(len(p) for p in out)
    benchmark.extra_info["impl"] = "ours (pus_1_verification + pack_tm)"
    assert out == _spacepackets()


@pytest.mark.benchmark(group="2000 PUS-1 failure reports built (TM(1,8), whole packets)")
def test_verification_reports_spacepackets(benchmark):
    out = benchmark(_spacepackets)
    benchmark.extra_info["bytes"] = sum(len(p) for p in out)
    benchmark.extra_info["impl"] = "spacepackets Service1Tm"
