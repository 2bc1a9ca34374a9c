"""CCSDS 727.0-B-5 CFDP protocol data units: the fixed header and the File Data PDU.

Fixed PDU header (4 bytes, then the IDs), big-endian:
  version (3 bits, 001) | PDU type (1: 0 directive, 1 file data) | direction (1: 0 toward
  the file receiver, 1 toward the sender) | transmission mode (1: 0 acknowledged) | CRC flag (1)
  | large file flag (1) || PDU data field length (16) || segmentation control (1) | length of
  entity IDs - 1 (3) | segment metadata flag (1) | length of transaction sequence number - 1 (3)
  || source entity ID | transaction sequence number | destination entity ID
The data field length counts the 2-byte PDU CRC (CRC-16-CCITT, protocols/crc.py) when the CRC
flag is set. File sizes and offsets (FSS) are 4 bytes, 8 with the large file flag.

File Data PDU data field: [record continuation state (2) | segment metadata length (6)
  | segment metadata (0..63 bytes), when the header's segment metadata flag is set]
  | offset (FSS) | file data.

The file directive PDUs (EOF, Finished, ACK, Metadata, NAK, Prompt, Keep Alive) are in
protocols/cfdp_directives.py, the file checksums in protocols/cfdp_checksum.py; `decode` picks
the class for any PDU. Every decoding error is a protocols.errors.DecodeError whose field starts
with "cfdp.".
"""

from protocols.cfdp_lean import get_uint, put_uint  # one copy of each, the board codec's
from protocols.crc import crc16
from protocols.errors import (
    CrcError,
    EncodeError,
    FieldValueError,
    LengthError,
    TruncatedError,
    VersionError,
)

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const


VERSION = const(1)  # "001": CFDP version 2 (727.0-B-4 and -5)
FILE_DIRECTIVE = const(0)
FILE_DATA = const(1)
TOWARD_RECEIVER = const(0)
TOWARD_SENDER = const(1)
ACKNOWLEDGED = const(0)
UNACKNOWLEDGED = const(1)
MAX_DATA_FIELD_LEN = const(0xFFFF)
MAX_SEGMENT_METADATA_LEN = const(63)

# record continuation state of a File Data PDU (segmentation control set)
RCS_NO_START_NO_END = const(0)
RCS_START = const(1)
RCS_END = const(2)
RCS_START_AND_END = const(3)


def check_uint(field, value, nbytes):
    """Raise EncodeError unless value is an int that fits nbytes unsigned bytes."""
    if not isinstance(value, int) or value < 0 or value >> (8 * nbytes):
        raise EncodeError(field, "must be an int 0..2^%d-1, got %r" % (8 * nbytes, value))


def need(field, data, pos, nbytes, end):
    """Raise TruncatedError unless nbytes are there between pos and end."""
    if end - pos < nbytes:
        raise TruncatedError(field, pos, nbytes, max(0, end - pos))


def check_transaction(hdr, own):
    """FieldValueError unless hdr belongs to the transaction of the header own."""
    if (hdr.source_id, hdr.seq_num, hdr.dest_id) != (own.source_id, own.seq_num, own.dest_id):
        raise FieldValueError(
            "cfdp.transaction",
            0,
            "PDU of transaction %d/%d to %d, this one is %d/%d to %d"
            % (hdr.source_id, hdr.seq_num, hdr.dest_id, own.source_id, own.seq_num, own.dest_id),
        )


class PduHeader:
    """The transaction's part of every PDU header. pdu_type, direction, seg_meta and data_len
    are what a decoded header held; a PDU's pack() sets them from its own kind and size."""

    def __init__(
        self,
        source_id,
        seq_num,
        dest_id,
        id_len=1,
        seq_len=1,
        mode=ACKNOWLEDGED,
        crc=False,
        large=False,
        seg_ctrl=0,
    ):
        field = "cfdp.header"  # + ".id_len" and so on: one string, not one per field
        if type(id_len) is not int or not 1 <= id_len <= 8:
            raise EncodeError(field + ".id_len", "entity IDs take 1..8 bytes, got %r" % (id_len,))
        if type(seq_len) is not int or not 1 <= seq_len <= 8:
            raise EncodeError(field + ".seq_len", "sequence numbers take 1..8 bytes, got %r" % (seq_len,))
        check_uint(field + ".source_id", source_id, id_len)
        check_uint(field + ".dest_id", dest_id, id_len)
        check_uint(field + ".seq_num", seq_num, seq_len)
        if mode not in range(2) or seg_ctrl not in range(2):
            raise EncodeError(field, "mode and seg_ctrl are 0 or 1, got %r, %r" % (mode, seg_ctrl))
        self.source_id = source_id
        self.seq_num = seq_num
        self.dest_id = dest_id
        self.id_len = id_len
        self.seq_len = seq_len
        self.mode = mode
        self.crc = bool(crc)
        self.large = bool(large)
        self.seg_ctrl = seg_ctrl
        self.pdu_type = FILE_DIRECTIVE
        self.direction = TOWARD_RECEIVER
        self.seg_meta = 0
        self.data_len = 0

    def __eq__(self, other):
        return isinstance(other, PduHeader) and self.fields() == other.fields()

    def __repr__(self):
        return "PduHeader(src=%d seq=%d dst=%d ids=%d/%d mode=%d crc=%d large=%d)" % (
            self.source_id,
            self.seq_num,
            self.dest_id,
            self.id_len,
            self.seq_len,
            self.mode,
            self.crc,
            self.large,
        )

    def fields(self):
        """Every header field as a tuple (what __eq__ compares)."""
        return (
            self.pdu_type,
            self.direction,
            self.mode,
            self.crc,
            self.large,
            self.data_len,
            self.seg_ctrl,
            self.id_len,
            self.seg_meta,
            self.seq_len,
            self.source_id,
            self.seq_num,
            self.dest_id,
        )

    def header_len(self):
        return 4 + 2 * self.id_len + self.seq_len

    def fss(self):
        """Bytes in a file size or offset field: 8 with the large file flag, else 4."""
        return 8 if self.large else 4

    def start(self, pdu_type, direction, body_len, seg_meta=0):
        """A bytearray for a whole PDU with body_len bytes of data field (CRC not counted), the
        header written; (buf, position of the data field). seal() writes the CRC."""
        self.pdu_type = pdu_type
        self.direction = direction
        self.seg_meta = seg_meta
        dlen = body_len + (2 if self.crc else 0)
        if dlen > MAX_DATA_FIELD_LEN:
            raise EncodeError("cfdp.data_field", "%d bytes, limit %d" % (dlen, MAX_DATA_FIELD_LEN))
        self.data_len = dlen
        hlen = self.header_len()
        buf = bytearray(hlen + dlen)
        buf[0] = (
            (VERSION << 5)
            | (pdu_type << 4)
            | (direction << 3)
            | (self.mode << 2)
            | (self.crc << 1)
            | self.large
        )
        buf[1] = dlen >> 8
        buf[2] = dlen & 0xFF
        buf[3] = (self.seg_ctrl << 7) | ((self.id_len - 1) << 4) | (seg_meta << 3) | (self.seq_len - 1)
        pos = put_uint(buf, 4, self.source_id, self.id_len)
        pos = put_uint(buf, pos, self.seq_num, self.seq_len)
        put_uint(buf, pos, self.dest_id, self.id_len)
        return buf, hlen

    def seal(self, buf):
        """Write the PDU CRC into the last two bytes when the CRC flag is set; buf."""
        if self.crc:
            n = len(buf)
            c = crc16(memoryview(buf)[: n - 2])
            buf[n - 2] = c >> 8
            buf[n - 1] = c & 0xFF
        return buf

    @classmethod
    def unpack(cls, data):
        """The header at the start of data: (header, start, end) with data[start:end] the data
        field without its CRC. The length field must match len(data) and the CRC must check."""
        n = len(data)
        need("cfdp.header", data, 0, 4, n)
        b0 = data[0]
        version = b0 >> 5
        if version != VERSION:
            raise VersionError("cfdp.header" + ".version", 0, VERSION, version)
        b3 = data[3]
        id_len = ((b3 >> 4) & 7) + 1
        seq_len = (b3 & 7) + 1
        hlen = 4 + 2 * id_len + seq_len
        need("cfdp.header", data, 0, hlen, n)
        hdr = cls(
            get_uint(data, 4, id_len),
            get_uint(data, 4 + id_len, seq_len),
            get_uint(data, 4 + id_len + seq_len, id_len),
            id_len,
            seq_len,
            (b0 >> 2) & 1,
            (b0 >> 1) & 1,
            b0 & 1,
            b3 >> 7,
        )
        hdr.pdu_type = (b0 >> 4) & 1
        hdr.direction = (b0 >> 3) & 1
        hdr.seg_meta = (b3 >> 3) & 1
        dlen = hdr.data_len = (data[1] << 8) | data[2]
        if n < hlen + dlen:
            raise TruncatedError("cfdp.data_field", hlen, dlen, n - hlen)
        if n > hlen + dlen:
            raise LengthError("cfdp.data_field_length", 1, n - hlen, dlen)
        end = n
        if hdr.crc:
            if dlen < 2:
                raise TruncatedError("cfdp.crc", hlen, 2, dlen)
            end -= 2
            got = (data[end] << 8) | data[end + 1]
            want = crc16(memoryview(data)[:end])
            if got != want:
                raise CrcError("cfdp.crc", end, want, got)
        return hdr, hlen, end


class FileData:
    """A File Data PDU: `data` (bytes) at file `offset`, with optional segment metadata
    (`metadata` bytes, 0..63, and the record continuation state `rcs`) when metadata is not None."""

    def __init__(self, header, offset, data, metadata=None, rcs=RCS_NO_START_NO_END):
        self.header = header
        self.offset = offset
        self.data = data
        self.metadata = metadata
        self.rcs = rcs

    def __eq__(self, other):
        return isinstance(other, FileData) and self.pack() == other.pack()

    def __repr__(self):
        return "FileData(offset=%d, %d bytes, %r)" % (self.offset, len(self.data), self.header)

    def pack(self):
        hdr = self.header
        fss = hdr.fss()
        field = "cfdp.file_data"
        check_uint(field + ".offset", self.offset, fss)
        meta = self.metadata
        mlen = 0
        if meta is not None:
            mlen = len(meta)
            if mlen > MAX_SEGMENT_METADATA_LEN:
                raise EncodeError(field + ".metadata", "%d bytes, limit 63" % mlen)
            if self.rcs not in range(4):
                raise EncodeError(field + ".rcs", "must be 0..3, got %r" % (self.rcs,))
            mlen += 1
        n = len(self.data)
        buf, pos = hdr.start(FILE_DATA, TOWARD_RECEIVER, mlen + fss + n, 0 if meta is None else 1)
        if meta is not None:
            buf[pos] = (self.rcs << 6) | (mlen - 1)
            buf[pos + 1 : pos + mlen] = meta
            pos += mlen
        pos = put_uint(buf, pos, self.offset, fss)
        buf[pos : pos + n] = self.data
        return hdr.seal(buf)

    @classmethod
    def unpack(cls, data):
        hdr, pos, end = PduHeader.unpack(data)
        if hdr.pdu_type != FILE_DATA:
            raise FieldValueError("cfdp.pdu_type", 0, "a file directive, not a File Data PDU")
        return cls._body(hdr, data, pos, end)

    @classmethod
    def _body(cls, hdr, data, pos, end):
        if hdr.direction != TOWARD_RECEIVER:
            raise FieldValueError("cfdp.header.direction", 0, "file data must go toward the receiver")
        metadata = None
        rcs = RCS_NO_START_NO_END
        field = "cfdp.file_data"
        if hdr.seg_meta:
            need(field + ".metadata", data, pos, 1, end)
            rcs = data[pos] >> 6
            mlen = data[pos] & 0x3F
            need(field + ".metadata", data, pos + 1, mlen, end)
            metadata = bytes(data[pos + 1 : pos + 1 + mlen])
            pos += 1 + mlen
        fss = hdr.fss()
        need(field + ".offset", data, pos, fss, end)
        offset = get_uint(data, pos, fss)
        return cls(hdr, offset, bytes(data[pos + fss : end]), metadata, rcs)


def decode(data):
    """The PDU in data (one whole PDU, bytes-like): a FileData or a cfdp_directives object."""
    hdr, pos, end = PduHeader.unpack(data)
    if hdr.pdu_type == FILE_DATA:
        return FileData._body(hdr, data, pos, end)
    from protocols.cfdp_directives import decode_directive

    return decode_directive(hdr, data, pos, end)
