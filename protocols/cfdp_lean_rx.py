"""The board's CFDP receiver: one incoming transaction, class 1 and class 2, in the heap a board
has (protocols/cfdp_lean.py says why; protocols/cfdp_receiver.py is the full one, which this one
follows procedure for procedure and tests hold equal on the wire).

feed(pdu, now_ms) takes each PDU from the sender (a File Data, Metadata or EOF PDU opens the
transaction); poll(now_ms) runs the timers and returns the PDUs (bytearrays) to send back.
Segments go straight to a temporary file in the file store (protocols/cfdp_filestore.py) at
their offsets; what arrived is a short list of spans (protocols/cfdp_spans.py, at most max_spans:
a segment that would open one more is dropped and asked for again). The modular checksum grows
with every new byte; CRC-32 (IEEE 802.3), where the port has binascii.crc32, is computed once the
file is whole, reading it back CRC_BACK bytes a poll; the NULL type checks nothing; any other
type is delivered unchecked with Unsupported checksum type, as the standard says.

Class 2: every EOF is acknowledged; a gap is NAKed when a segment lands past it and, after the
EOF, all of them (the Metadata as (0, 0) while missing) every nak_timeout_ms until filled;
nak_limit rounds without progress is NAK limit reached. A Prompt (NAK) gets the NAKs, a Prompt
(Keep Alive) a Keep Alive. The Finished PDU is repeated every ack_timeout_ms until its ACK,
ack_limit times, then Positive ACK limit reached (a delivered file stays delivered). Class 1:
check_limit periods after an incomplete EOF is Check limit reached; a Finished goes out when the
Metadata asked for closure. No PDU for inactivity_ms is Inactivity detected. A fault removes the
temporary file and ends the transaction with its condition code.

checkpoint() and protocols/cfdp_lean_resume.py's resume() carry a transaction over a reset: the
Metadata and EOF PDUs and the spans on flash; after a resume the held bytes are read back for the
checksum a piece at a time. That module loads only to resume: an uplink that meets no reset holds
none of its code.
"""

from protocols import cfdp_lean as cl
from protocols.cfdp_spans import add_span, contiguous, gaps
from protocols.errors import FieldValueError

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const
try:
    from binascii import crc32
except ImportError:  # a port without it: CRC-32 files come in unchecked
    crc32 = None

RECEIVING = const(0)
FINISHING = const(1)  # class 2: the Finished PDU waits for its ACK
DONE = const(2)
CRC_BACK = const(8192)  # bytes per poll for CRC-32 (binascii's C: the flash read is the cost)
PIECE = const(512)  # bytes per file store read


class Receiver:
    """One incoming file transfer for the entity local_id; see the module doc."""

    # the timers and limits (class attributes: an instance sets only what it changes)
    ack_timeout_ms = 2000
    ack_limit = 4
    nak_timeout_ms = 2000
    nak_limit = 4
    check_timeout_ms = 2000
    check_limit = 2
    inactivity_ms = 30000
    max_spans = 32
    nak_segments = 16
    key = None  # the transaction (protocols/cfdp_lean.py), set by the PDU that opens it
    flags = 0
    seq = None
    state = RECEIVING
    condition = None
    delivered = False
    metadata = None  # the Metadata PDU (bytes) once it came
    file_size = None  # from the Metadata
    checksum_type = None
    closure = False
    eof = None  # the EOF PDU (bytes) once it came
    eof_size = None
    eof_checksum = None
    dest_name = None
    temp_name = None
    naks = 0
    dropped = 0  # segments refused to keep the span list short
    _crc_at = 0  # CRC-32 read back up to here
    _crc = 0

    def __init__(self, store, local_id, now_ms=0):
        self.store = store
        self.local_id = local_id
        self.spans = []
        self._readback = []  # spans whose bytes the checksum still has to read (after a resume)
        self._sum = 0
        self._high = 0  # end of the furthest segment
        self._rounds = 0
        self._heard = self._timer = self._now = now_ms
        self._sends = 0
        self._finished = None
        self._out = []

    @property
    def done(self):
        return self.state == DONE

    @property
    def acked(self):
        return not self.flags & 4

    def missing(self):
        """[(start, end)] of the gaps up to the EOF's file size (the furthest byte before it)."""
        return gaps(self.spans, self._high if self.eof_size is None else self.eof_size)

    def feed(self, pdu, now_ms):
        """Take one PDU (bytes) from the sender."""
        hlen, end = cl.parse(pdu)
        key = cl.key_of(pdu, hlen)
        data = pdu[0] & 0x10  # PDU type: file data
        code = -1 if data else cl.directive(pdu, hlen, end, 0)
        fss = 8 if pdu[0] & 1 else 4
        pos = hlen + 1
        if data:  # the fixed parameters checked before the PDU may open a transaction
            if pdu[3] & 8:  # segment metadata: skipped
                cl.need("cfdp.file_data.metadata", hlen, 1, end)
                hlen += 1 + (pdu[hlen] & 0x3F)
            cl.need("cfdp.file_data.offset", hlen, fss, end)
        elif code == cl.METADATA:
            cl.need("cfdp.metadata", pos, 1 + fss, end)
        elif code == cl.EOF:
            cl.need("cfdp.eof", pos, 5 + fss, end)
        elif code == cl.PROMPT:
            cl.need("cfdp.prompt", pos, 1, end)
        elif code != cl.ACK or end - pos != 2 or pdu[pos] != (cl.FINISHED << 4) | 1:
            raise FieldValueError("cfdp.directive_code", hlen, "a PDU not for a file receiver")
        self._now = now_ms
        if self.key is None:
            if cl.entity(key, 2) != self.local_id:
                raise FieldValueError("cfdp.header.dest_id", 0, "a PDU for another entity")
            if code not in (-1, cl.METADATA, cl.EOF):
                raise FieldValueError("cfdp.transaction", 0, "this PDU cannot open a transaction")
            self._open(pdu, key, True)
        elif key != self.key:
            raise FieldValueError("cfdp.transaction", 0, "a PDU of another transaction")
        self._heard = now_ms
        if data:
            if self.state == RECEIVING:
                self._data(cl.get_uint(pdu, hlen, fss), memoryview(pdu)[hlen + fss : end])
        elif code == cl.METADATA:
            if self.metadata is None and self.state == RECEIVING:
                self._metadata(pdu, pos, end, fss)
        elif code == cl.EOF:
            self._eof(pdu, pos, fss)
        elif code == cl.PROMPT:
            if self.acked and self.state == RECEIVING:
                if pdu[pos] >> 7:
                    self._keep_alive()
                else:
                    self._nak_all()
        elif self.state == FINISHING:  # the ACK of our Finished
            self.state = DONE

    def _open(self, pdu, key, create):
        self.key = key
        self.flags = pdu[0] & 7
        self.seq = cl.entity(key, 1)
        self.temp_name = ".cfdp-%d-%d.part" % (cl.entity(key, 0), self.seq)
        try:
            if create:
                self.store.create(self.temp_name)
        except OSError:
            self._fault(cl.FILESTORE_REJECTION)

    def _keep_alive(self):
        fss = 8 if self.flags & 1 else 4
        self._out.append(self._pdu(bytes((cl.KEEP_ALIVE,)) + cl.uint(contiguous(self.spans), fss)))

    def _pdu(self, body):
        return cl.build(self.flags, self.key, body, 1)

    def cancel(self, condition=cl.CANCEL_REQUEST_RECEIVED):
        """End the transaction here with `condition` (a local cancel, or a refusal such as
        FILESTORE_REJECTION): the temporary file is removed, the Finished PDU reports it."""
        self._fault(condition)

    def checkpoint(self):
        """(Metadata PDU, EOF PDU or None, spans) for resume() after a reset, or None before the
        Metadata or after the end. Taken after a feed, every span it names is in the file store."""
        if self.metadata is None or self.state != RECEIVING:
            return None
        return self.metadata, self.eof, [tuple(s) for s in self.spans]

    def _store(self, op, *args):
        """A file store call; an OSError is a filestore rejection fault (False)."""
        try:
            op(*args)
            return True
        except OSError:
            self._fault(cl.FILESTORE_REJECTION)
            return False

    def _data(self, offset, data):
        end = offset + len(data)
        size = self.eof_size if self.eof_size is not None else self.file_size
        if size is not None and end > size:  # past the EOF's, or else the Metadata's, file size
            self._fault(cl.FILE_SIZE_ERROR)
            return
        spans = self.spans
        new = [(max(s, offset), e) for s, e in gaps(spans, end) if e > offset]
        if not new:
            return  # a duplicate
        if len(spans) >= self.max_spans and not any(s <= end and offset <= e for s, e in spans):
            self.dropped += 1  # would open one span too many: NAKed again later
            return
        if not self._store(self.store.write, self.temp_name, offset, data):
            return
        for s, e in new:
            self._sum += cl.modular(s, data[s - offset : e - offset])
        high = self._high
        if add_span(spans, offset, end) and offset < high:
            self._rounds = 0  # missing data came: the NAK / check count starts again
        self._high = max(high, end)
        if self.acked and self.eof is None:
            segments = [(high, offset)] if offset > high else []
            if self.metadata is None and high == 0:
                segments.insert(0, (0, 0))
            if segments:
                self._send_naks(segments, end)
        self._check_complete()

    def _metadata(self, pdu, pos, end, fss):
        first = pdu[pos]
        size = cl.get_uint(pdu, pos + 1, fss)
        pos += 1 + fss
        for _ in range(2):  # source name, then destination name: length-value
            cl.need("cfdp.metadata.name", pos, 1, end)
            n = pdu[pos]
            cl.need("cfdp.metadata.name", pos + 1, n, end)
            name = pdu[pos + 1 : pos + 1 + n]
            pos += 1 + n
        self.checksum_type = first & 0x0F  # whole: taken
        self.closure = bool(first & 0x40)
        self.file_size = size
        self.metadata = bytes(pdu)
        self._rounds = 0
        if self._high > self.file_size:  # data that came first reaches past the file
            self._fault(cl.FILE_SIZE_ERROR)
            return
        try:
            self.dest_name = cl.check_name(name)
        except FieldValueError:
            self._fault(cl.FILESTORE_REJECTION)
            return
        self._check_complete()

    def _eof(self, pdu, pos, fss):
        condition = pdu[pos] >> 4
        if self.acked:
            status = 1 if self.state != DONE else 2  # transaction active / terminated
            self._out.append(cl.ack(self.flags, self.key, cl.EOF, condition, status))
        if self.state != RECEIVING or self.eof is not None:
            return
        if condition != cl.NO_ERROR:  # EOF (cancel): the sender gave up
            self._fault(condition, cl.entity(self.key, 0))
            return
        self.eof = bytes(pdu)
        self.eof_checksum = cl.get_uint(pdu, pos + 1, 4)
        self.eof_size = cl.get_uint(pdu, pos + 5, fss)
        if self._high > self.eof_size:
            self._fault(cl.FILE_SIZE_ERROR)
            return
        self._timer = self._now
        self._rounds = 0
        if not self._check_complete() and self.acked:
            self._nak_all()

    def _check_complete(self):
        """Verify and deliver once everything is there; True when the transaction ended."""
        if self.state != RECEIVING or self.eof is None or self.metadata is None or self._readback:
            return False
        if self.missing():
            return False
        condition = cl.NO_ERROR
        kind = self.checksum_type
        if kind == cl.CRC32 and crc32 is not None:
            if self._crc_at < self.eof_size:
                return False  # poll reads the file back
            value = self._crc
        elif kind == cl.MODULAR:
            value = self._sum & 0xFFFFFFFF
        elif kind == cl.NULL_CHECKSUM:
            value = 0
        else:
            value = self.eof_checksum
            condition = cl.UNSUPPORTED_CHECKSUM_TYPE
        if value != self.eof_checksum:
            self._fault(cl.FILE_CHECKSUM_FAILURE)
            return True
        if self._store(self.store.rename, self.temp_name, self.dest_name):
            self.delivered = True
            self._finish(condition, 0, 2)  # data complete, file retained
        return True

    def _fault(self, condition, fault_location=None):
        if self.state != RECEIVING:
            return
        try:
            self.store.remove(self.temp_name)
        except Exception:  # OSError, or a name the store refuses: nothing to remove
            pass
        self._finish(condition, 1, 0, self.local_id if fault_location is None else fault_location)

    def _finish(self, condition, delivery, file_status, fault_location=None):
        self.condition = condition
        body = bytes((cl.FINISHED, (condition << 4) | (delivery << 2) | file_status))
        if condition not in (cl.NO_ERROR, cl.UNSUPPORTED_CHECKSUM_TYPE):
            body += cl.fault_tlv(self.key, fault_location)
        self._finished = self._pdu(body)
        self.state = DONE
        if self.acked or self.closure:
            self._out.append(self._finished)
            if self.acked:
                self.state = FINISHING
                self._sends = 1
        self._timer = self._now

    def _nak_all(self):
        segments = self.missing()
        if self.metadata is None:
            segments.insert(0, (0, 0))
        if segments:
            self._send_naks(segments, self._high if self.eof_size is None else self.eof_size)

    def _send_naks(self, segments, scope_end):
        """NAK PDUs for segments, nak_segments requests in each."""
        per = self.nak_segments
        fss = 8 if self.flags & 1 else 4
        for i in range(0, len(segments), per):
            batch = segments[i : i + per]
            start = 0 if i == 0 else batch[0][0]
            end = scope_end if i + per >= len(segments) else batch[-1][1]
            body = bytes((cl.NAK,)) + cl.uint(start, fss) + cl.uint(max(start, end), fss)
            for s, e in batch:
                body += cl.uint(s, fss) + cl.uint(e, fss)
            self._out.append(self._pdu(body))
            self.naks += 1

    def poll(self, now_ms):
        """The PDUs (bytearrays) to send now, after running the timers."""
        self._now = now_ms
        if self._readback and self.state == RECEIVING:  # resumed: the held bytes for the checksum
            from protocols.cfdp_lean_resume import read_back

            read_back(self)
        elif self.checksum_type == cl.CRC32 and self.eof is not None and self.state == RECEIVING:
            self._crc_step()
        if self.key is not None:
            state = self.state
            if state == RECEIVING:
                self._timers(now_ms)
            elif state == FINISHING and now_ms - self._timer >= self.ack_timeout_ms:
                if self._sends >= self.ack_limit:
                    self.state = DONE  # a Finished (cancel) keeps its own condition
                    if self.delivered:
                        self.condition = cl.POSITIVE_ACK_LIMIT_REACHED
                else:
                    self._sends += 1
                    self._timer = now_ms
                    self._out.append(self._finished)
        out = self._out
        self._out = []
        return out

    def _crc_step(self):
        end = self.eof_size
        if crc32 is None or self._crc_at >= end or self.missing():
            return
        stop = min(end, self._crc_at + CRC_BACK)
        try:
            while self._crc_at < stop:
                n = min(PIECE, stop - self._crc_at)
                self._crc = crc32(self.store.read(self.temp_name, self._crc_at, n), self._crc)
                self._crc_at += n
        except OSError:
            self._fault(cl.FILESTORE_REJECTION)
            return
        self._check_complete()

    def _timers(self, now_ms):
        if self.eof is not None and self.metadata is not None and not self.missing():
            # whole, the checksum still reading the file back: busy, not inactive; class 2 keeps
            # the sender from giving up on its Finished with a Keep Alive every NAK period
            self._heard = now_ms
            if self.acked and now_ms - self._timer >= self.nak_timeout_ms:
                self._timer = now_ms
                self._keep_alive()
            return
        if now_ms - self._heard >= self.inactivity_ms:
            self._fault(cl.INACTIVITY_DETECTED)
            return
        if self.eof is None:
            return
        acked = self.acked
        if now_ms - self._timer < (self.nak_timeout_ms if acked else self.check_timeout_ms):
            return
        self._timer = now_ms
        self._rounds += 1
        if self._rounds >= (self.nak_limit if acked else self.check_limit):
            self._fault(cl.NAK_LIMIT_REACHED if acked else cl.CHECK_LIMIT_REACHED)
        elif acked:
            self._nak_all()
