"""CCSDS 727.0-B-5 CFDP file directive PDUs (section 5.2): EOF, Finished and ACK here; Metadata in
protocols/cfdp_metadata.py, NAK, Prompt and Keep Alive in protocols/cfdp_nak.py (all also
reachable as names of this module).

A directive's data field is its directive code (1 byte) and its parameters; FSS fields (file
size, progress, offsets) are 4 bytes, 8 with the header's large file flag. Each class takes a
protocols.cfdp.PduHeader first; pack() sets the header's PDU type and direction (fixed by the
directive; for ACK by the acknowledged directive) and returns the PDU as a bytearray, with its
CRC when the header asks for one. unpack() refuses a PDU of another kind, a wrong direction, a
bad CRC, fields that run past the data field and bytes left over.

TLVs (5.4) are kept raw, except the fault location, which is an entity ID (an int; packed in
the header's entity ID length): Finished filestore responses are a list of TLV values (type 1)
and Metadata options a list of (type, value) pairs, packed as given.
"""

from protocols._lazy import forward
from protocols.cfdp import TOWARD_RECEIVER, TOWARD_SENDER, PduHeader, check_uint, get_uint, need, put_uint
from protocols.cfdp_lean import (  # noqa: F401 (one copy, the board codec's; re-exported)
    ACK,
    CANCEL_REQUEST_RECEIVED,
    CHECK_LIMIT_REACHED,
    EOF,
    FILE_CHECKSUM_FAILURE,
    FILE_SIZE_ERROR,
    FILESTORE_REJECTION,
    FINISHED,
    INACTIVITY_DETECTED,
    KEEP_ALIVE,
    METADATA,
    NAK,
    NAK_LIMIT_REACHED,
    NO_ERROR,
    POSITIVE_ACK_LIMIT_REACHED,
    PROMPT,
    UNSUPPORTED_CHECKSUM_TYPE,
)
from protocols.errors import EncodeError, FieldValueError, OversizedError

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const


# the other condition codes (5.2.2, table 5-5)
KEEP_ALIVE_LIMIT_REACHED = const(2)
INVALID_TRANSMISSION_MODE = const(3)
INVALID_FILE_STRUCTURE = const(9)
SUSPEND_REQUEST_RECEIVED = const(14)

# TLV types (5.4)
TLV_FILESTORE_REQUEST = const(0x00)
TLV_FILESTORE_RESPONSE = const(0x01)
TLV_MESSAGE_TO_USER = const(0x02)
TLV_FAULT_HANDLER_OVERRIDE = const(0x04)
TLV_FLOW_LABEL = const(0x05)
TLV_ENTITY_ID = const(0x06)

# ACK transaction status, Finished delivery code and file status, Prompt response
TRANSACTION_UNDEFINED = const(0)
TRANSACTION_ACTIVE = const(1)
TRANSACTION_TERMINATED = const(2)
TRANSACTION_UNRECOGNIZED = const(3)
DATA_COMPLETE = const(0)
DATA_INCOMPLETE = const(1)
FILE_DISCARDED = const(0)
FILE_REJECTED = const(1)
FILE_RETAINED = const(2)
FILE_STATUS_UNREPORTED = const(3)
PROMPT_NAK = const(0)
PROMPT_KEEP_ALIVE = const(1)
# a Finished PDU has no fault location with these conditions (an EOF only not with No error)
_NO_FAULT = (NO_ERROR, UNSUPPORTED_CHECKSUM_TYPE)


def _nibble(pdu, field, value):
    """EncodeError (field pdu.NAME + field) unless value is an int 0..15."""
    if not isinstance(value, int) or not 0 <= value <= 15:
        raise EncodeError(pdu.NAME + field, "must be 0..15, got %r" % (value,))


def _tlv_len(field, value):
    n = len(value)
    if n > 255:
        raise EncodeError(field, "TLV/LV value of %d bytes, limit 255" % n)
    return n + 2


def _put_tlv(buf, pos, tlv_type, value):
    n = len(value)
    buf[pos] = tlv_type
    buf[pos + 1] = n
    buf[pos + 2 : pos + 2 + n] = value
    return pos + 2 + n


def _tlvs(field, data, pos, end):
    """[(type, value bytes)] of the TLVs filling data[pos:end]."""
    out = []
    while pos < end:
        need(field, data, pos, 2, end)
        n = data[pos + 1]
        need(field, data, pos + 2, n, end)
        out.append((data[pos], bytes(data[pos + 2 : pos + 2 + n])))
        pos += 2 + n
    return out


def _fault_size(pdu, hdr, not_with):
    """Bytes of pdu's fault location TLV (an entity ID in the header's ID length), 0 if None."""
    if pdu.fault_location is None:
        return 0
    field = pdu.NAME + ".fault_location"
    if pdu.condition in not_with:
        raise EncodeError(field, "omitted with condition code %d" % pdu.condition)
    check_uint(field, pdu.fault_location, hdr.id_len)
    return 2 + hdr.id_len


def _put_fault(hdr, buf, pos, fault_location):
    if fault_location is not None:
        buf[pos] = TLV_ENTITY_ID
        buf[pos + 1] = hdr.id_len
        put_uint(buf, pos + 2, fault_location, hdr.id_len)


def _fault_location(cls, value, offset):
    if not 1 <= len(value) <= 8:
        raise FieldValueError(
            cls.NAME + ".fault_location", offset, "entity ID of %d bytes, must be 1..8" % len(value)
        )
    return get_uint(value, 0, len(value))


class Directive:
    """What every directive PDU shares; subclasses set CODE, NAME and define _size, _write, _read.
    Error fields are NAME + ".field", joined when raised: no string per field on a board."""

    CODE = 0
    DIRECTION = TOWARD_RECEIVER

    def __eq__(self, other):
        return type(other) is type(self) and self.pack() == other.pack()

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.header)

    def _direction(self):
        return self.DIRECTION

    def pack(self):
        hdr = self.header
        buf, pos = hdr.start(0, self._direction(), 1 + self._size(hdr))
        buf[pos] = self.CODE
        self._write(hdr, buf, pos + 1)
        return hdr.seal(buf)

    @classmethod
    def unpack(cls, data):
        hdr, pos, end = PduHeader.unpack(data)
        if hdr.pdu_type != 0:
            raise FieldValueError("cfdp.pdu_type", 0, "a File Data PDU, not a file directive")
        need("cfdp.directive_code", data, pos, 1, end)
        if data[pos] != cls.CODE:
            raise FieldValueError(
                "cfdp.directive_code", pos, "expected 0x%02X, got 0x%02X" % (cls.CODE, data[pos])
            )
        return cls._checked(hdr, data, pos + 1, end)

    @classmethod
    def _checked(cls, hdr, data, pos, end):
        pdu = cls._read(hdr, data, pos, end)
        if hdr.direction != pdu._direction():
            raise FieldValueError("cfdp.header.direction", 0, "wrong direction for this directive")
        return pdu

    @classmethod
    def _fixed(cls, data, pos, end, size):
        """Check that the parameters take exactly size bytes."""
        need(cls.NAME, data, pos, size, end)
        if end - pos > size:
            raise OversizedError(cls.NAME, pos, size, end - pos)


class Eof(Directive):
    """EOF (5.2.2): condition code, file checksum (32-bit int), file size, and the fault
    location (an entity ID, or None; present only with an error condition)."""

    CODE = EOF
    NAME = "cfdp.eof"

    def __init__(self, header, file_size, checksum, condition=NO_ERROR, fault_location=None):
        self.header = header
        self.file_size = file_size
        self.checksum = checksum
        self.condition = condition
        self.fault_location = fault_location

    def _size(self, hdr):
        _nibble(self, ".condition", self.condition)
        check_uint(self.NAME + ".checksum", self.checksum, 4)
        check_uint(self.NAME + ".file_size", self.file_size, hdr.fss())
        return 5 + hdr.fss() + _fault_size(self, hdr, (NO_ERROR,))

    def _write(self, hdr, buf, pos):
        buf[pos] = self.condition << 4
        pos = put_uint(buf, pos + 1, self.checksum, 4)
        pos = put_uint(buf, pos, self.file_size, hdr.fss())
        _put_fault(hdr, buf, pos, self.fault_location)

    @classmethod
    def _read(cls, hdr, data, pos, end):
        fss = hdr.fss()
        need(cls.NAME, data, pos, 5 + fss, end)
        condition = data[pos] >> 4
        fault = None
        tlv_at = pos + 5 + fss
        field = cls.NAME + ".fault_location"
        for tlv_type, value in _tlvs(field, data, tlv_at, end):
            if tlv_type != TLV_ENTITY_ID or fault is not None or condition == NO_ERROR:
                raise FieldValueError(field, tlv_at, "unexpected TLV 0x%02X" % tlv_type)
            fault = _fault_location(cls, value, tlv_at)
        return cls(hdr, get_uint(data, pos + 5, fss), get_uint(data, pos + 1, 4), condition, fault)


class Finished(Directive):
    """Finished (5.2.3): condition code, delivery code, file status, filestore responses (a list
    of raw TLV values) and the fault location (an entity ID or None; not with the conditions
    No error and Unsupported checksum type)."""

    CODE = FINISHED
    DIRECTION = TOWARD_SENDER
    NAME = "cfdp.finished"

    def __init__(
        self,
        header,
        condition=NO_ERROR,
        delivery=DATA_COMPLETE,
        file_status=FILE_RETAINED,
        filestore_responses=(),
        fault_location=None,
    ):
        self.header = header
        self.condition = condition
        self.delivery = delivery
        self.file_status = file_status
        self.filestore_responses = list(filestore_responses)
        self.fault_location = fault_location

    def _size(self, hdr):
        _nibble(self, ".condition", self.condition)
        if self.delivery not in range(2) or self.file_status not in range(4):
            raise EncodeError(self.NAME, "delivery 0..1 and file status 0..3")
        n = 1
        for value in self.filestore_responses:
            n += _tlv_len(self.NAME + ".filestore_response", value)
        return n + _fault_size(self, hdr, _NO_FAULT)

    def _write(self, hdr, buf, pos):
        buf[pos] = (self.condition << 4) | (self.delivery << 2) | self.file_status
        pos += 1
        for value in self.filestore_responses:
            pos = _put_tlv(buf, pos, TLV_FILESTORE_RESPONSE, value)
        _put_fault(hdr, buf, pos, self.fault_location)

    @classmethod
    def _read(cls, hdr, data, pos, end):
        need(cls.NAME, data, pos, 1, end)
        b = data[pos]
        pdu = cls(hdr, b >> 4, (b >> 2) & 1, b & 3)
        at = pos + 1
        field = cls.NAME + ".tlv"
        for tlv_type, value in _tlvs(field, data, at, end):
            if tlv_type == TLV_FILESTORE_RESPONSE and pdu.fault_location is None:
                pdu.filestore_responses.append(value)
            elif tlv_type == TLV_ENTITY_ID and pdu.fault_location is None and pdu.condition not in _NO_FAULT:
                pdu.fault_location = _fault_location(cls, value, at)
            else:
                raise FieldValueError(field, at, "unexpected TLV 0x%02X" % tlv_type)
            at += 2 + len(value)
        return pdu


class Ack(Directive):
    """ACK (5.2.4) of an EOF or a Finished PDU: the acknowledged directive code, its condition
    code and the transaction status. The subtype is 1 for a Finished, 0 for an EOF."""

    CODE = ACK
    NAME = "cfdp.ack"

    def __init__(self, header, directive, condition=NO_ERROR, status=TRANSACTION_ACTIVE):
        self.header = header
        self.directive = directive
        self.condition = condition
        self.status = status

    def _direction(self):
        return TOWARD_RECEIVER if self.directive == FINISHED else TOWARD_SENDER

    def _size(self, hdr):
        if self.directive not in (EOF, FINISHED):
            raise EncodeError(
                self.NAME + ".directive", "only EOF (4) and Finished (5), got %r" % (self.directive,)
            )
        _nibble(self, ".condition", self.condition)
        if self.status not in range(4):
            raise EncodeError(self.NAME + ".status", "must be 0..3, got %r" % (self.status,))
        return 2

    def _write(self, hdr, buf, pos):
        buf[pos] = (self.directive << 4) | (1 if self.directive == FINISHED else 0)
        buf[pos + 1] = (self.condition << 4) | self.status

    @classmethod
    def _read(cls, hdr, data, pos, end):
        cls._fixed(data, pos, end, 2)
        directive = data[pos] >> 4
        subtype = data[pos] & 0x0F
        if directive not in (EOF, FINISHED) or subtype != (1 if directive == FINISHED else 0):
            raise FieldValueError(cls.NAME + ".directive", pos, "cannot acknowledge 0x%02X" % data[pos])
        return cls(hdr, directive, data[pos + 1] >> 4, data[pos + 1] & 3)


_CLASSES = {EOF: Eof, FINISHED: Finished, ACK: Ack}


def decode_directive(hdr, data, pos, end):
    """The directive PDU whose data field is data[pos:end] (protocols.cfdp.decode calls this)."""
    need("cfdp.directive_code", data, pos, 1, end)
    code = data[pos]
    cls = _CLASSES.get(code)
    if cls is None and code in (NAK, PROMPT, KEEP_ALIVE):
        from protocols.cfdp_nak import CLASSES

        cls = CLASSES[code]
    elif code == METADATA:
        from protocols.cfdp_metadata import Metadata

        cls = Metadata
    if cls is None:
        raise FieldValueError("cfdp.directive_code", pos, "unknown directive 0x%02X" % code)
    return cls._checked(hdr, data, pos + 1, end)


# NAK, Prompt and Keep Alive live in protocols/cfdp_nak.py, Metadata in protocols/cfdp_metadata.py,
# imported on first use
_nak_names = forward("protocols.cfdp_directives", "protocols.cfdp_nak", ("Nak", "Prompt", "KeepAlive"))
_metadata_name = forward("protocols.cfdp_directives", "protocols.cfdp_metadata", ("Metadata",))


def __getattr__(name):
    return (_metadata_name if name == "Metadata" else _nak_names)(name)
