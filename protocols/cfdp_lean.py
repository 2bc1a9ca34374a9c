"""CFDP (CCSDS 727.0-B-5) as a board's heap can carry it: the fixed PDU header and the PDUs the
onboard file service exchanges, as functions over bytes, with the modular file checksum.

protocols/cfdp.py and its siblings are the whole protocol as classes (every directive, option and
checksum); the ground and the twin run them. Loaded as .mpy they take about 31 KB of a 32-bit
heap, more than the RP2040's and the samd51's stock-firmware profiles have spare, so the board
runs this module with protocols/cfdp_lean_rx.py (a class 1 and 2 receiver) and cfdp_lean_tx.py
(a class 2 sender): no PDU objects, a PDU is bytes from start to end. Tests hold the PDUs
byte-equal with the classes' and spacepackets', and run the lean machines against the full ones
and against cfdp-py under loss.

A transaction is named by its `key`: the header from its fourth octet on (the ID and sequence
number lengths, then source ID, sequence number, destination ID) with the segmentation bits
cleared. `parse` checks a PDU's header and gives where its data field lies; `build` writes one.
Decoding errors are protocols.errors.DecodeError, fields "cfdp.*" as in protocols/cfdp.py.
"""

import sys

from protocols.crc import crc16
from protocols.errors import CrcError, FieldValueError, LengthError, TruncatedError, VersionError

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

# directive codes (5.2, table 5-4)
EOF = const(0x04)
FINISHED = const(0x05)
ACK = const(0x06)
METADATA = const(0x07)
NAK = const(0x08)
PROMPT = const(0x09)
KEEP_ALIVE = const(0x0C)
# condition codes (table 5-5) the lean machines raise or report
NO_ERROR = const(0)
POSITIVE_ACK_LIMIT_REACHED = const(1)
FILESTORE_REJECTION = const(4)
FILE_CHECKSUM_FAILURE = const(5)
FILE_SIZE_ERROR = const(6)
NAK_LIMIT_REACHED = const(7)
INACTIVITY_DETECTED = const(8)
CHECK_LIMIT_REACHED = const(10)
UNSUPPORTED_CHECKSUM_TYPE = const(11)
CANCEL_REQUEST_RECEIVED = const(15)
MODULAR = const(0)  # checksum types (SANA registry) the lean receiver checks
CRC32 = const(3)  # where the port has binascii.crc32 (C), reading the file back once at the end
NULL_CHECKSUM = const(15)
_ENTITY_ID_TLV = const(0x06)
# CPython sums every 4th byte in C (memoryview slices with a step); MicroPython has no step
_STEP = sys.implementation.name == "cpython"


def put_uint(buf, pos, value, nbytes):
    """Write value big-endian into buf[pos:pos+nbytes]; the position after it."""
    end = pos + nbytes
    i = end
    while i > pos:
        i -= 1
        buf[i] = value & 0xFF
        value >>= 8
    return end


def uint(value, nbytes):
    """value as nbytes big-endian bytes."""
    buf = bytearray(nbytes)
    put_uint(buf, 0, value, nbytes)
    return buf


def get_uint(data, pos, nbytes):
    """The big-endian unsigned int in data[pos:pos+nbytes] (the caller checked the length)."""
    value = 0
    for i in range(pos, pos + nbytes):
        value = (value << 8) | data[i]
    return value


def need(field, pos, nbytes, end):
    """TruncatedError unless nbytes lie between pos and end."""
    if end - pos < nbytes:
        raise TruncatedError(field, pos, nbytes, max(0, end - pos))


def parse(pdu):
    """(header length, end of the data field without the CRC) of one whole PDU, after checking
    the version, the lengths and the CRC (when its flag is set)."""
    n = len(pdu)
    need("cfdp.header", 0, 4, n)
    if pdu[0] >> 5 != 1:
        raise VersionError("cfdp.header.version", 0, 1, pdu[0] >> 5)
    b3 = pdu[3]
    hlen = 7 + 2 * ((b3 >> 4) & 7) + (b3 & 7)  # 4 + 2 ID lengths + the sequence number length
    need("cfdp.header", 0, hlen, n)
    dlen = (pdu[1] << 8) | pdu[2]
    need("cfdp.data_field", hlen, dlen, n)
    if n > hlen + dlen:
        raise LengthError("cfdp.data_field_length", 1, n - hlen, dlen)
    if pdu[0] & 2:
        n -= 2
        need("cfdp.crc", hlen, 2, n + 2)
        want = crc16(memoryview(pdu)[:n])
        if (pdu[n] << 8) | pdu[n + 1] != want:
            raise CrcError("cfdp.crc", n, want, (pdu[n] << 8) | pdu[n + 1])
    return hlen, n


def key_of(pdu, hlen):
    """The transaction key of a parsed PDU (see the module doc)."""
    key = bytearray(pdu[3:hlen])
    key[0] &= 0x77
    return bytes(key)


def entity(key, which):
    """Source (0), sequence number (1) or destination (2) of a transaction key."""
    id_len = ((key[0] >> 4) & 7) + 1
    seq_len = (key[0] & 7) + 1
    if which == 1:
        return get_uint(key, 1 + id_len, seq_len)
    return get_uint(key, 1 if which == 0 else 1 + id_len + seq_len, id_len)


def build(flags, key, body, toward_sender, file_data=0):
    """A whole PDU (bytearray): flags the first octet's mode, CRC and large file bits of the
    transaction, body its data field without the CRC."""
    crc = flags & 2
    n = len(body) + (2 if crc else 0)
    k = len(key)
    buf = bytearray(3 + k + n)
    buf[0] = 0x20 | (file_data << 4) | (toward_sender << 3) | (flags & 7)
    buf[1] = n >> 8
    buf[2] = n & 0xFF
    buf[3 : 3 + k] = key
    buf[3 + k : 3 + k + len(body)] = body
    if crc:
        c = crc16(memoryview(buf)[: len(buf) - 2])
        buf[-2] = c >> 8
        buf[-1] = c & 0xFF
    return buf


def fault_tlv(key, entity_id):
    """The fault location TLV (an entity ID in the key's ID length)."""
    id_len = ((key[0] >> 4) & 7) + 1
    tlv = bytearray(2 + id_len)
    tlv[0] = _ENTITY_ID_TLV
    tlv[1] = id_len
    put_uint(tlv, 2, entity_id, id_len)
    return tlv


def ack(flags, key, directive, condition, status):
    """The ACK of an EOF (toward the sender) or of a Finished PDU (toward the receiver)."""
    body = bytes((ACK, (directive << 4) | (directive == FINISHED), (condition << 4) | status))
    return build(flags, key, body, directive == EOF)


def modular(offset, data):
    """The modular checksum contribution (mod 2^32) of data placed at file offset: the file as
    4-byte big-endian words aligned on offset 0, the last one padded with zeros."""
    n = len(data)
    total = 0
    i = 0
    while i < n and (offset + i) & 3:  # bytes before the first aligned word
        total += data[i] << (24 - 8 * ((offset + i) & 3))
        i += 1
    stop = i + ((n - i) & ~3)
    if _STEP:
        mv = memoryview(data)
        l0 = sum(mv[i:stop:4])
        l1 = sum(mv[i + 1 : stop : 4])
        l2 = sum(mv[i + 2 : stop : 4])
        l3 = sum(mv[i + 3 : stop : 4])
    else:
        l0 = l1 = l2 = l3 = 0
        for j in range(i, stop, 4):
            l0 += data[j]
            l1 += data[j + 1]
            l2 += data[j + 2]
            l3 += data[j + 3]
    total += (l0 << 24) + (l1 << 16) + (l2 << 8) + l3
    for j in range(stop, n):
        total += data[j] << (24 - 8 * ((offset + j) & 3))
    return total & 0xFFFFFFFF


def directive(pdu, hlen, end, toward_sender):
    """The directive code of a parsed directive PDU, checking its direction bit."""
    need("cfdp.directive_code", hlen, 1, end)
    if (pdu[0] >> 3) & 1 != toward_sender:
        raise FieldValueError("cfdp.header.direction", 0, "a PDU for the other end")
    return pdu[hlen]


def check_name(name):
    """name (bytes) as a str, or FieldValueError unless it is relative, UTF-8, without '..'."""
    try:
        name = bytes(name).decode()
    except UnicodeError:
        name = ""
    bad = not name or name[0] == "/" or "\x00" in name
    for part in name.split("/"):
        bad = bad or part in ("", ".", "..")
    if bad:
        raise FieldValueError("cfdp.metadata.dest_name", 0, "not a relative file name")
    return name
