"""CFDP PDUs byte-identical to spacepackets (0.32.0) both ways; file checksums against zlib,
crcmod and the modular checksum as 727.0-B-5 annex F defines it, fed out of order."""

from __future__ import annotations

import random
import zlib
from itertools import pairwise

import crcmod.predefined
import pytest
from spacepackets.cfdp import (
    ChecksumType,
    ConditionCode,
    CrcFlag,
    DeliveryCode,
    Direction,
    FileStatus,
    LargeFileFlag,
    PduConfig,
    PduFactory,
    TransmissionMode,
)
from spacepackets.cfdp.pdu import (
    AckPdu,
    DirectiveType,
    EofPdu,
    FileDataPdu,
    FinishedPdu,
    KeepAlivePdu,
    MetadataParams,
    MetadataPdu,
    NakPdu,
    PromptPdu,
)
from spacepackets.cfdp.pdu.ack import TransactionStatus
from spacepackets.cfdp.pdu.file_data import FileDataParams, RecordContinuationState, SegmentMetadata
from spacepackets.cfdp.pdu.finished import FinishedParams
from spacepackets.cfdp.pdu.prompt import ResponseRequired
from spacepackets.cfdp.tlv import CfdpTlv, EntityIdTlv, FileStoreResponseTlv, TlvType
from spacepackets.cfdp.tlv.defs import FilestoreActionCode, FilestoreResponseStatusCode
from spacepackets.util import ByteFieldGenerator

from protocols import cfdp, errors
from protocols import cfdp_checksum as ck
from protocols import cfdp_directives as cd

# (entity ID length, sequence number length, large file, CRC, transmission mode)
CONFIGS = [
    (1, 1, False, False, 0),
    (1, 2, True, True, 1),
    (2, 1, False, True, 0),
    (2, 4, True, False, 1),
    (4, 2, False, True, 1),
    (4, 8, True, True, 0),
    (8, 1, True, False, 0),
]
IDS = [
    "ids%d-seq%d-%s-%s-m%d" % (i, s, "large" if lg else "small", "crc" if c else "nocrc", m)
    for i, s, lg, c, m in CONFIGS
]


def _ids(id_len, seq_len):
    top = (1 << (8 * id_len)) - 1
    return top // 3, min(0xA5, (1 << (8 * seq_len)) - 1) * 1 + (seq_len > 1) * 0x100, top // 5


def _pair(config):
    """(ours, theirs): the same transaction's header for both libraries."""
    id_len, seq_len, large, crc, mode = config
    src, seq, dst = _ids(id_len, seq_len)
    ours = cfdp.PduHeader(src, seq, dst, id_len, seq_len, mode, crc, large)
    theirs = PduConfig(
        source_entity_id=ByteFieldGenerator.from_int(id_len, src),
        dest_entity_id=ByteFieldGenerator.from_int(id_len, dst),
        transaction_seq_num=ByteFieldGenerator.from_int(seq_len, seq),
        trans_mode=TransmissionMode(mode),
        file_flag=LargeFileFlag.LARGE if large else LargeFileFlag.NORMAL,
        crc_flag=CrcFlag.WITH_CRC if crc else CrcFlag.NO_CRC,
    )
    return ours, theirs


def _fss_value(config, small):
    return (1 << 40) + small if config[2] else small


def _same_header(ours: cfdp.PduHeader, theirs, data_len=True) -> None:
    h = theirs.pdu_header
    assert ours.pdu_type == h.pdu_type
    assert ours.direction == h.direction
    assert ours.mode == h.transmission_mode
    assert ours.crc == (h.crc_flag == CrcFlag.WITH_CRC)
    assert ours.large == (h.file_flag == LargeFileFlag.LARGE)
    if data_len:
        assert ours.data_len == h.pdu_data_field_len
    assert ours.seg_ctrl == h.seg_ctrl
    assert ours.seg_meta == h.segment_metadata_flag
    assert (ours.source_id, ours.seq_num, ours.dest_id) == (
        h.source_entity_id.value,
        h.transaction_seq_num.value,
        h.dest_entity_id.value,
    )
    assert (ours.id_len, ours.seq_len) == (h.source_entity_id.byte_len, h.transaction_seq_num.byte_len)


def _both_ways(ours_pdu, theirs_pdu, data_len=True):
    """Ours packs what theirs packs; each decodes the other's bytes; (ours decoded, theirs decoded)."""
    raw = bytes(ours_pdu.pack())
    assert raw == bytes(theirs_pdu.pack())
    mine = cfdp.decode(raw)
    assert type(mine) is type(ours_pdu)
    assert mine == ours_pdu
    assert bytes(mine.pack()) == raw
    back = PduFactory.from_raw(raw)
    assert type(back) is type(theirs_pdu)
    _same_header(mine.header, back, data_len)
    return mine, back


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
@pytest.mark.parametrize("size", [0, 1, 200])
def test_file_data(config, size):
    ours, theirs = _pair(config)
    data = random.Random(size).randbytes(size)
    offset = _fss_value(config, 4096 + size)
    if size == 0 and not config[3]:
        # spacepackets refuses to decode an empty File Data PDU without a CRC (see
        # test_spacepackets_refuses_empty_file_data): compare the encoding only
        assert (
            cfdp.FileData(ours, offset, data).pack()
            == FileDataPdu(theirs, FileDataParams(data, offset)).pack()
        )
        return
    mine, back = _both_ways(
        cfdp.FileData(ours, offset, data), FileDataPdu(theirs, FileDataParams(data, offset))
    )
    assert (
        (mine.offset, mine.data, mine.metadata) == (back.offset, back.file_data, None) == (offset, data, None)
    )


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
@pytest.mark.parametrize("rcs", [0, 3])
def test_file_data_with_segment_metadata(config, rcs):
    ours, theirs = _pair(config)
    ours.seg_ctrl = 1
    theirs.seg_ctrl = 1
    meta = bytes(range(rcs * 21))  # 0 or 63 bytes, the limit
    params = FileDataParams(b"record", 12, SegmentMetadata(RecordContinuationState(rcs), meta))
    pdu = cfdp.FileData(ours, 12, b"record", meta, rcs)
    mine, back = _both_ways(pdu, FileDataPdu(theirs, params), data_len=False)
    # spacepackets' FileDataPdu.unpack sets the segment metadata (which recomputes the data field
    # length) before the file data, then stores the file data without recomputing: its decoded
    # header is short by len(file data), and packing it again writes that wrong length
    assert mine.header.data_len == back.pdu_header.pdu_data_field_len + len(b"record")
    assert back.pack() != pdu.pack()
    assert (
        (mine.metadata, mine.rcs) == (back.segment_metadata.metadata, back.record_cont_state) == (meta, rcs)
    )


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
@pytest.mark.parametrize("fault", [False, True])
def test_eof(config, fault):
    ours, theirs = _pair(config)
    size = _fss_value(config, 123456)
    cond = ConditionCode.FILE_CHECKSUM_FAILURE if fault else ConditionCode.NO_ERROR
    where = _ids(config[0], 1)[2] if fault else None
    ref = EofPdu(
        theirs,
        0xDEADBEEF,
        size,
        EntityIdTlv(where.to_bytes(config[0], "big")) if fault else None,
        cond,
    )
    mine, back = _both_ways(cd.Eof(ours, size, 0xDEADBEEF, cond, where), ref)
    assert (mine.condition, mine.checksum, mine.file_size) == (cond, 0xDEADBEEF, size)
    assert back.file_size == size and back.file_checksum == (0xDEADBEEF).to_bytes(4, "big")
    assert mine.fault_location == where
    assert (back.fault_location.value if fault else None) == (
        where.to_bytes(config[0], "big") if fault else None
    )


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
@pytest.mark.parametrize("variant", ["success", "fault", "filestore"])
def test_finished(config, variant):
    ours, theirs = _pair(config)
    where = _ids(config[0], 1)[0]
    responses = []
    if variant == "filestore":
        responses = [
            FileStoreResponseTlv(
                FilestoreActionCode.DELETE_FILE_SNN, FilestoreResponseStatusCode.DELETE_SUCCESS, "/tmp/a.bin"
            ),
            FileStoreResponseTlv(
                FilestoreActionCode.RENAME_FILE_SNP,
                FilestoreResponseStatusCode.RENAME_NOT_ALLOWED,
                "/tmp/b",
                "/tmp/c",
            ),
        ]
    if variant == "fault":
        params = FinishedParams(
            ConditionCode.INACTIVITY_DETECTED,
            DeliveryCode.DATA_INCOMPLETE,
            FileStatus.DISCARDED_FILESTORE_REJECTION,
            fault_location=EntityIdTlv(where.to_bytes(config[0], "big")),
        )
        pdu = cd.Finished(ours, cd.INACTIVITY_DETECTED, cd.DATA_INCOMPLETE, cd.FILE_REJECTED, (), where)
    else:
        params = FinishedParams(
            ConditionCode.NO_ERROR, DeliveryCode.DATA_COMPLETE, FileStatus.FILE_RETAINED, responses
        )
        values = [bytes(r.pack()[2:]) for r in responses]  # the TLV values, kept raw by ours
        pdu = cd.Finished(ours, cd.NO_ERROR, cd.DATA_COMPLETE, cd.FILE_RETAINED, values)
    mine, back = _both_ways(pdu, FinishedPdu(theirs, params))
    assert (mine.condition, mine.delivery, mine.file_status) == (
        back.condition_code,
        back.delivery_code,
        back.file_status,
    )
    assert mine.filestore_responses == [bytes(r.pack()[2:]) for r in back.file_store_responses]
    assert mine.fault_location == (where if variant == "fault" else None)
    if variant == "fault":
        assert back.fault_location.value == where.to_bytes(config[0], "big")


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
@pytest.mark.parametrize("acked", [cd.EOF, cd.FINISHED])
def test_ack(config, acked):
    ours, theirs = _pair(config)
    ref = AckPdu(
        theirs, DirectiveType(acked), ConditionCode.CANCEL_REQUEST_RECEIVED, TransactionStatus.TERMINATED
    )
    mine, back = _both_ways(cd.Ack(ours, acked, cd.CANCEL_REQUEST_RECEIVED, cd.TRANSACTION_TERMINATED), ref)
    assert (mine.directive, mine.condition, mine.status) == (
        back.directive_code_of_acked_pdu,
        back.condition_code_of_acked_pdu,
        back.transaction_status,
    )
    assert mine.header.direction == (
        Direction.TOWARDS_RECEIVER if acked == cd.FINISHED else Direction.TOWARDS_SENDER
    )


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
@pytest.mark.parametrize("with_options", [False, True])
def test_metadata(config, with_options):
    ours, theirs = _pair(config)
    size = _fss_value(config, 70000)
    options = (
        [(cd.TLV_MESSAGE_TO_USER, b"cfdp\x00hello"), (cd.TLV_FLOW_LABEL, b"\x07")] if with_options else []
    )
    ref = MetadataPdu(
        theirs,
        MetadataParams(True, ChecksumType.CRC_32, size, "/data/hk/2026-01-01.bin", "hk.bin"),
        [CfdpTlv(TlvType(t), v) for t, v in options] if with_options else None,
    )
    pdu = cd.Metadata(ours, size, "/data/hk/2026-01-01.bin", b"hk.bin", ck.CRC32, True, options)
    mine, back = _both_ways(pdu, ref)
    assert (mine.closure, mine.checksum_type, mine.file_size) == (
        back.closure_requested,
        back.checksum_type,
        back.file_size,
    )
    assert (mine.source_name.decode(), mine.dest_name.decode()) == (
        back.source_file_name,
        back.dest_file_name,
    )
    assert mine.options == [(t.tlv_type, t.value) for t in back.options_as_tlv() or []]


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
@pytest.mark.parametrize("nseg", [0, 1, 5])
def test_nak(config, nseg):
    ours, theirs = _pair(config)
    base = _fss_value(config, 0)
    segs = [(base + 1000 * i, base + 1000 * i + 512) for i in range(nseg)]
    if nseg == 1:
        segs = [(0, 0)]  # metadata re-request
    mine, back = _both_ways(cd.Nak(ours, 0, base + 9000, segs), NakPdu(theirs, 0, base + 9000, list(segs)))
    assert (mine.start, mine.end, mine.segments) == (
        back.start_of_scope,
        back.end_of_scope,
        back.segment_requests,
    )


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
@pytest.mark.parametrize("response", [0, 1])
def test_prompt(config, response):
    ours, theirs = _pair(config)
    mine, back = _both_ways(cd.Prompt(ours, response), PromptPdu(theirs, ResponseRequired(response)))
    assert mine.response == back.response_required == response


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_keep_alive(config):
    ours, theirs = _pair(config)
    progress = _fss_value(config, 31337)
    mine, back = _both_ways(cd.KeepAlive(ours, progress), KeepAlivePdu(theirs, progress))
    assert mine.progress == back.progress == progress


def test_ours_refuses_what_spacepackets_would_pack_inconsistently():
    # spacepackets counts a Finished fault location in the data field length even where it
    # omits it from the bytes (condition No error): the PDU it packs is 2 + id_len bytes short
    # of its own length field. Ours refuses to build it and refuses the bytes.
    ours, theirs = _pair(CONFIGS[0])
    ref = FinishedPdu(
        theirs,
        FinishedParams(
            ConditionCode.NO_ERROR,
            DeliveryCode.DATA_COMPLETE,
            FileStatus.FILE_RETAINED,
            fault_location=EntityIdTlv(b"\x05"),
        ),
    )
    raw = bytes(ref.pack())
    assert ref.packet_len == len(raw) + 3
    with pytest.raises(errors.TruncatedError):
        cfdp.decode(raw)
    with pytest.raises(errors.EncodeError):
        cd.Finished(ours, fault_location=5).pack()


def test_spacepackets_refuses_entity_ids_of_3_5_6_7_bytes():
    # 727.0-B-5 5.1 (table 5-1): "Length of entity IDs": the number of octets less one, 3
    # bits, so 1..8 octets; the same for the transaction sequence number. spacepackets accepts
    # only 1, 2, 4 and 8 (PduHeader.check_len_in_bytes); ours takes all eight.
    for n in (3, 5, 6, 7):
        hdr = cfdp.PduHeader((1 << (8 * n)) - 2, 7, 3, n, n, crc=True)
        raw = bytes(cd.KeepAlive(hdr, 99).pack())
        back = cfdp.decode(raw)
        assert (back.header.source_id, back.header.id_len, back.header.seq_len, back.progress) == (
            (1 << (8 * n)) - 2,
            n,
            n,
            99,
        )
        with pytest.raises(ValueError):
            PduFactory.from_raw(raw)


def test_spacepackets_refuses_empty_file_data():
    # a File Data PDU whose file data field is empty and has no CRC: spacepackets' unpack
    # wants at least one byte after the offset ("Packet too small to accommodate offset");
    # 727.0-B-5 5.3 sets no minimum on the file data. Ours decodes it.
    ours, theirs = _pair(CONFIGS[0])
    raw = bytes(cfdp.FileData(ours, 5, b"").pack())
    assert raw == bytes(FileDataPdu(theirs, FileDataParams(b"", 5)).pack())
    assert cfdp.decode(raw).data == b""
    with pytest.raises(ValueError):
        FileDataPdu.unpack(raw)


# --- checksums ---------------------------------------------------------------------------------


def _modular_reference(data: bytes) -> int:
    """727.0-B-5 annex F: the file as 4-octet words aligned on its start, the last one padded
    with zeros, added modulo 2^32."""
    padded = data + bytes(-len(data) % 4)
    return sum(int.from_bytes(padded[i : i + 4], "big") for i in range(0, len(padded), 4)) % (1 << 32)


REFERENCE = {
    ck.MODULAR: _modular_reference,
    ck.CRC32: zlib.crc32,
    ck.CRC32C: crcmod.predefined.mkCrcFun("crc-32c"),
    ck.NULL: lambda data: 0,
}


@pytest.mark.parametrize("kind", sorted(REFERENCE))
@pytest.mark.parametrize("seed", range(6))
def test_checksum_of_segments_out_of_order(kind, seed):
    r = random.Random(seed)
    data = r.randbytes(r.choice([0, 1, 3, 4, 5, 1000, 4099]))
    cuts = sorted({0, len(data), *(r.randrange(len(data) + 1) for _ in range(r.randrange(12)))})
    segments = list(pairwise(cuts))
    r.shuffle(segments)
    fc = ck.FileChecksum(kind)
    for i, (a, b) in enumerate(segments):
        fc.update(a, data[a:b])
        if i == len(segments) // 2 and data:  # a retransmission overlapping what is there
            a2 = r.randrange(len(data))
            fc.update(a2, data[a2 : a2 + 300])
    assert fc.value(len(data)) == REFERENCE[kind](data)
    assert fc.spans() == ([(0, len(data))] if data else [])


@pytest.mark.parametrize("kind", sorted(REFERENCE))
def test_checksum_reads_gaps_and_the_tail_as_zeros(kind):
    data = bytes(range(1, 200))
    fc = ck.FileChecksum(kind)
    fc.update(150, data[150:])
    fc.update(10, data[10:40])
    sparse = bytes(10) + data[10:40] + bytes(110) + data[150:] + bytes(51)
    assert fc.value(250) == REFERENCE[kind](sparse)
    assert fc.spans() == [(10, 40), (150, 199)]


def test_crc_helpers_against_zlib():
    data = random.Random(7).randbytes(3000)
    assert ck.crc32_py(data) == zlib.crc32(data)
    assert ck.crc32_combine(zlib.crc32(data[:1234]), zlib.crc32(data[1234:]), 3000 - 1234) == zlib.crc32(data)
    assert ck.crc32_zeros(4097) == zlib.crc32(bytes(4097))
    crc32c = REFERENCE[ck.CRC32C]
    assert ck.crc32_py(data, 0, 0x82F63B78) == crc32c(data)


# --- the fuzz target's CFDP case ---------------------------------------------------------------


def test_the_fuzz_target_reaches_the_cfdp_decoder_at_real_sizes(monkeypatch):
    import importlib.util
    from collections import Counter
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "fuzz" / "atheris_decoders.py"
    spec = importlib.util.spec_from_file_location("atheris_decoders", path)
    target = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(target)
    seen = Counter()
    sizes = []
    decode = cfdp.decode

    def counting(data):
        sizes.append(len(data))
        try:
            pdu = decode(data)
        except errors.ProtocolError as exc:
            seen[type(exc).__name__] += 1
            raise
        seen[type(pdu).__name__] += 1
        return pdu

    monkeypatch.setattr(cfdp, "decode", counting)
    pick = target.PICKS - 1  # the last small target
    r = random.Random(727)
    for i in range(400):
        a = (i % 40) << 2 | (i // 40) % 4
        body = r.randbytes(r.choice([0, 4, 8, 40, 200]))
        target.test_one_input(bytes([pick, a, 0]) + body)
    assert max(sizes) > 1000
    kinds = {"FileData", "Eof", "Finished", "Ack", "Metadata", "Nak", "Prompt", "KeepAlive"}
    assert kinds <= set(seen), seen
    assert {"CrcError", "TruncatedError"} <= set(seen), seen
