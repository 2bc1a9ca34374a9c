"""CFDP PDUs (727.0-B-5): layouts by hand, round trips, every decoding error, file checksums."""

from _check import raises, unhex

from protocols import cfdp, errors
from protocols import cfdp_checksum as ck
from protocols import cfdp_directives as cd


def _hdr(id_len=1, seq_len=1, crc=False, large=False, mode=cfdp.ACKNOWLEDGED):
    top = (1 << (8 * id_len)) - 1
    return cfdp.PduHeader(top // 3, (1 << (8 * seq_len)) - 2, top // 5, id_len, seq_len, mode, crc, large)


def _samples(hdr):
    big = (1 << 33) if hdr.large else 0
    fault = hdr.dest_id
    return [
        cfdp.FileData(hdr, big + 10, b"file bytes"),
        cfdp.FileData(hdr, big, b""),
        cfdp.FileData(hdr, 0, b"rec", b"meta", cfdp.RCS_START_AND_END),
        cd.Eof(hdr, big + 1234, 0xCAFEF00D),
        cd.Eof(hdr, 0, 0, cd.FILE_SIZE_ERROR, fault),
        cd.Finished(hdr),
        cd.Finished(
            hdr, cd.NAK_LIMIT_REACHED, cd.DATA_INCOMPLETE, cd.FILE_DISCARDED, [b"\x10\x01a\x00\x00"], fault
        ),
        cd.Ack(hdr, cd.EOF),
        cd.Ack(hdr, cd.FINISHED, cd.CANCEL_REQUEST_RECEIVED, cd.TRANSACTION_TERMINATED),
        cd.Metadata(hdr, big + 99, "src.bin", b"dst.bin", ck.CRC32, True, [(cd.TLV_FLOW_LABEL, b"\x01")]),
        cd.Metadata(hdr, 0, b"", b""),
        cd.Nak(hdr, 0, big + 5000, [(0, 0), (100, 200), (big + 300, big + 4000)]),
        cd.Nak(hdr, 7, 7),
        cd.Prompt(hdr, cd.PROMPT_KEEP_ALIVE),
        cd.KeepAlive(hdr, big + 77),
    ]


def test_keep_alive_layout_by_hand():
    # 001 0 1 0 0 0: version 1, directive, toward sender, acknowledged, no CRC, small file
    # data field 5 | IDs 1 byte, sequence number 1 byte | src 1, seq 2, dst 3 | 0C | progress
    pdu = cd.KeepAlive(cfdp.PduHeader(1, 2, 3), 256)
    assert pdu.pack() == unhex("28 0005 00 01 02 03 0C 00000100")


def test_file_data_layout_by_hand_with_crc_and_large_file():
    # 001 1 0 1 1 1: file data, toward receiver, unacknowledged, CRC, large file
    # IDs of 2 bytes, sequence number of 3: 0 001 0 010; data field 8 + 2 + 2 (CRC)
    hdr = cfdp.PduHeader(0x0102, 0x030405, 0x0607, 2, 3, cfdp.UNACKNOWLEDGED, True, True)
    raw = cfdp.FileData(hdr, 0x1122334455, b"hi").pack()
    assert raw[:-2] == unhex("37 000C 12 0102 030405 0607 0000001122334455 6869")
    assert cfdp.decode(raw).offset == 0x1122334455


def test_every_pdu_round_trips_in_every_geometry():
    for id_len, seq_len, crc, large in (
        (1, 1, False, False),
        (2, 4, True, True),
        (3, 5, True, False),
        (8, 8, False, True),
    ):
        for pdu in _samples(_hdr(id_len, seq_len, crc, large)):
            raw = pdu.pack()
            back = cfdp.decode(raw)
            assert type(back) is type(pdu), (pdu, back)
            assert back == pdu and back.pack() == raw
            assert type(pdu).unpack(bytes(raw)) == pdu
            assert back.header.fields() == pdu.header.fields()


def test_decoded_fields():
    hdr = _hdr(2, 2, True, True)
    nak = cfdp.decode(cd.Nak(hdr, 1, 9, [(2, 3)]).pack())
    assert (nak.start, nak.end, nak.segments) == (1, 9, [(2, 3)])
    fin = cfdp.decode(cd.Finished(hdr, cd.FILESTORE_REJECTION, 1, 1, [b"x"], 0x1234).pack())
    assert (fin.condition, fin.delivery, fin.file_status, fin.filestore_responses, fin.fault_location) == (
        4,
        1,
        1,
        [b"x"],
        0x1234,
    )
    md = cfdp.decode(cd.Metadata(hdr, 5, "a", "b", ck.CRC32C, True, [(2, b"msg")]).pack())
    assert (md.file_size, md.source_name, md.dest_name, md.checksum_type, md.closure, md.options) == (
        5,
        b"a",
        b"b",
        2,
        True,
        [(2, b"msg")],
    )
    ack = cfdp.decode(cd.Ack(hdr, cd.FINISHED, 0, cd.TRANSACTION_ACTIVE).pack())
    assert (ack.directive, ack.header.direction) == (cd.FINISHED, cfdp.TOWARD_RECEIVER)
    assert cfdp.decode(cd.Ack(hdr, cd.EOF).pack()).header.direction == cfdp.TOWARD_SENDER


def test_every_truncation_is_a_truncated_error():
    for hdr in (_hdr(), _hdr(4, 2, True, True)):
        for pdu in _samples(hdr):
            raw = bytes(pdu.pack())
            for n in range(len(raw)):
                exc = raises(errors.TruncatedError, cfdp.decode, raw[:n])
                assert exc.field.startswith("cfdp."), exc.field


def test_declared_length_cut_short_inside_the_pdu():
    # the data field length says less than the parameters need: truncated at that field
    raw = bytearray(cd.Eof(_hdr(), 100, 1).pack())
    raw[2] -= 3
    exc = raises(errors.TruncatedError, cfdp.decode, bytes(raw[:-3]))
    assert exc.field == "cfdp.eof"
    raw = bytearray(cd.Metadata(_hdr(), 1, b"abc", b"de").pack())
    raw[2] -= 1
    assert raises(errors.TruncatedError, cfdp.decode, bytes(raw[:-1])).field == "cfdp.metadata.dest_name"


def test_trailing_bytes_and_oversized_fixed_pdus():
    raw = bytes(cd.Prompt(_hdr()).pack())
    exc = raises(errors.LengthError, cfdp.decode, raw + b"\x00")
    assert (exc.expected, exc.got) == (len(raw) - 7 + 1, len(raw) - 7)
    for pdu in (cd.Prompt(_hdr()), cd.Ack(_hdr(), cd.EOF), cd.KeepAlive(_hdr(), 1)):
        raw = bytearray(pdu.pack()) + b"\x00"
        raw[2] += 1
        exc = raises(errors.OversizedError, cfdp.decode, bytes(raw))
        assert exc.got == exc.limit + 1


def test_wrong_version_bad_crc_and_bad_crc_length():
    raw = bytearray(cd.Eof(_hdr(crc=True), 5, 6).pack())
    bad = bytearray(raw)
    bad[0] = (bad[0] & 0x1F) | (2 << 5)
    exc = raises(errors.VersionError, cfdp.decode, bytes(bad))
    assert (exc.expected, exc.got, exc.field) == (1, 2, "cfdp.header.version")
    bad = bytearray(raw)
    bad[9] ^= 0x40
    exc = raises(errors.CrcError, cfdp.decode, bytes(bad))
    assert exc.offset == len(raw) - 2
    # CRC flag set, data field of 1 byte: no room for the CRC
    short = bytearray(cfdp.PduHeader(1, 2, 3).start(0, 0, 1)[0])
    short[0] |= 2
    assert raises(errors.TruncatedError, cfdp.decode, bytes(short)).field == "cfdp.crc"


def test_inconsistent_pdus_are_field_value_errors():
    hdr = _hdr()
    cases = []
    raw = bytearray(cd.Metadata(hdr, 1, b"a", b"b").pack())
    raw[0] |= 0x08  # Metadata toward the sender
    cases.append(raw)
    raw = bytearray(cfdp.FileData(hdr, 0, b"x").pack())
    raw[0] |= 0x08  # file data toward the sender
    cases.append(raw)
    raw = bytearray(cd.Prompt(hdr).pack())
    raw[7] = 0x0B  # no such directive
    cases.append(raw)
    raw = bytearray(cd.Ack(hdr, cd.EOF).pack())
    raw[8] = 0x71  # ACK of a Metadata
    cases.append(raw)
    raw = bytearray(cd.Ack(hdr, cd.EOF).pack())
    raw[8] = 0x41  # ACK of an EOF with the Finished subtype
    cases.append(raw)
    raw = bytearray(cd.Eof(hdr, 1, 2).pack()) + b"\x06\x01\x05"
    raw[2] += 3  # EOF, No error, with a fault location TLV
    cases.append(raw)
    for raw in cases:
        raises(errors.FieldValueError, cfdp.decode, bytes(raw))
    # a Finished with an unexpected TLV type, and with a fault location though No error
    for tlv in (b"\x02\x00", b"\x06\x01\x05"):
        raw = bytearray(cd.Finished(hdr).pack()) + tlv
        raw[2] += len(tlv)
        assert raises(errors.FieldValueError, cfdp.decode, bytes(raw)).field == "cfdp.finished.tlv"
    # a NAK whose segment request is cut in half, and one whose start is after its end
    raw = bytearray(cd.Nak(hdr, 0, 10, [(1, 2)]).pack()[:-4])
    raw[2] -= 4
    assert raises(errors.LengthError, cfdp.decode, bytes(raw)).field == "cfdp.nak.segments"
    raw = bytearray(cd.Nak(hdr, 0, 10, [(1, 2)]).pack())
    raw[-5] = 9
    assert raises(errors.FieldValueError, cfdp.decode, bytes(raw)).field == "cfdp.nak.offset"
    # a class's unpack refuses the other kinds
    raises(errors.FieldValueError, cd.Eof.unpack, bytes(cd.Prompt(hdr).pack()))
    raises(errors.FieldValueError, cd.Eof.unpack, bytes(cfdp.FileData(hdr, 0, b"").pack()))
    raises(errors.FieldValueError, cfdp.FileData.unpack, bytes(cd.Prompt(hdr).pack()))


def test_empty_directive_and_tlv_running_past_the_end():
    empty = bytes(cfdp.PduHeader(1, 2, 3).start(0, 0, 0)[0])
    assert raises(errors.TruncatedError, cfdp.decode, empty).field == "cfdp.directive_code"
    raw = bytearray(cd.Metadata(_hdr(), 1, b"a", b"b", 0, False, [(2, b"abc")]).pack())
    raw[-4] = 9  # the option says 9 bytes, 3 follow
    assert raises(errors.TruncatedError, cfdp.decode, bytes(raw)).field == "cfdp.metadata.options"


class _Sized:
    """A length without the bytes: 64 KiB does not fit a board's heap twice."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


def test_encoder_refuses_what_does_not_fit():
    raises(errors.EncodeError, cfdp.PduHeader, 256, 0, 0)
    raises(errors.EncodeError, cfdp.PduHeader, 0, 0, 0, 9)
    raises(errors.EncodeError, cfdp.PduHeader, 0, 0, 0, 1, 0)
    hdr = _hdr()
    for pdu in (
        cfdp.FileData(hdr, 1 << 32, b""),
        cfdp.FileData(hdr, 0, b"", bytes(64)),
        cfdp.FileData(hdr, 0, _Sized(65532)),  # + the 4-byte offset: one past 65535
        cd.Eof(hdr, 0, 1 << 32),
        cd.Eof(hdr, 0, 0, cd.NO_ERROR, 1),
        cd.Finished(hdr, cd.UNSUPPORTED_CHECKSUM_TYPE, fault_location=1),
        cd.Finished(hdr, cd.NO_ERROR, 0, 2, [bytes(256)]),
        cd.Ack(hdr, cd.METADATA),
        cd.Metadata(hdr, 0, bytes(256), b""),
        cd.Metadata(hdr, 0, b"", b"", 16),
        cd.Nak(hdr, 5, 4),
        cd.Prompt(hdr, 2),
        cd.KeepAlive(hdr, -1),
    ):
        raises(errors.EncodeError, pdu.pack)


def test_entity_ids_of_every_length():
    for n in range(1, 9):
        hdr = cfdp.PduHeader((1 << (8 * n)) - 1, n, 1, n, 9 - n)
        back = cfdp.decode(cd.Prompt(hdr).pack()).header
        assert (back.source_id, back.seq_num, back.dest_id, back.id_len, back.seq_len) == (
            (1 << (8 * n)) - 1,
            n,
            1,
            n,
            9 - n,
        )


def test_checksum_check_values():
    fc = ck.FileChecksum(ck.CRC32)
    fc.update(4, b"56789")
    fc.update(0, b"1234")
    assert fc.value() == 0xCBF43926
    fc = ck.FileChecksum(ck.CRC32C)
    fc.update(0, b"12345")
    fc.update(5, b"6789")
    assert fc.value() == 0xE3069283
    assert ck.crc32_py(b"123456789") == 0xCBF43926
    raises(errors.ArgumentError, ck.FileChecksum, ck.CRC32_PROXIMITY1)


def test_modular_checksum_by_hand_at_odd_offsets():
    fc = ck.FileChecksum(ck.MODULAR)
    fc.update(5, b"\x01\x02\x03\x04\x05")  # offsets 5..9
    fc.update(0, b"\xff\x00\x00")  # offsets 0..2
    fc.update(2, b"\x77\x99\x10\x55")  # offsets 2 and 5 are there already: only 3 and 4 count
    # words: ff000099 | 10010203 | 04050000
    assert fc.value() == (0xFF000099 + 0x10010203 + 0x04050000) & 0xFFFFFFFF
    assert fc.spans() == [(0, 10)]


def test_checksums_out_of_order_agree_with_in_order():
    data = bytes((i * 37 + 11) & 0xFF for i in range(1031))
    order = [(700, 1031), (3, 250), (250, 251), (0, 3), (251, 700)]
    for kind in (ck.MODULAR, ck.CRC32, ck.CRC32C, ck.NULL):
        whole = ck.FileChecksum(kind)
        whole.update(0, data)
        parts = ck.FileChecksum(kind)
        for a, b in order:
            parts.update(a, data[a:b])
        parts.update(100, data[100:900])  # all there already
        assert parts.value() == whole.value(), kind
        assert parts.spans() == [(0, 1031)]
