"""The board's CFDP sender: one outgoing class 1 or class 2 transaction in the heap a board has
(protocols/cfdp_lean.py says why; protocols/cfdp_sender.py is the full one, which this one follows
procedure for procedure and tests hold equal on the wire).

poll(now_ms) returns the PDUs (bytearrays) to send now, feed(pdu, now_ms) takes each PDU from the
receiver. Metadata first, then File Data read from the file store one segment at a time (at most
`burst` a poll: the caller's flow control), then the EOF with the modular checksum of what went
out. The EOF is repeated every ack_timeout_ms until its ACK, ack_limit times in all, then
Positive ACK limit reached (a Finished also acknowledges it). NAKs put their ranges in a short
list of spans sent again before new data, (0, 0) the Metadata. No PDU from the receiver for
inactivity_ms after the EOF is Inactivity detected. The Finished PDU is acknowledged (again each
time it comes) and ends it with its condition. A fault sends an EOF (cancel) naming this entity,
except Positive ACK limit reached, which is about the EOF itself. checkpoint() and resume() carry
a transaction over a reset until its EOF is out. Class 1 (acked=False) ends with its EOF, or with
`closure` waits up to inactivity_ms for the Finished PDU; it takes no NAK and acknowledges nothing.
"""

from protocols import cfdp_lean as cl
from protocols.cfdp_spans import add_span, squeeze
from protocols.errors import FieldValueError, LengthError

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

SENDING = const(0)
WAIT_EOF_ACK = const(1)
WAIT_FINISHED = const(2)
DONE = const(3)


class Sender:
    """One outgoing file transfer; see the module doc."""

    ack_timeout_ms = 2000
    ack_limit = 4
    max_spans = 32
    state = SENDING
    condition = None
    progress = 0  # bytes sent once, from offset 0
    resent = 0  # bytes sent again on NAKs
    naks = 0
    eof_count = 0

    def __init__(
        self,
        store,
        source_name,
        dest_name,
        source_id,
        dest_id,
        seq_num,
        now_ms=0,
        seq_len=1,
        segment_len=1024,
        burst=1,
        inactivity_ms=30000,
        acked=True,
        closure=False,
    ):
        self.store = store
        self.source_name = source_name
        self.size = size = store.size(source_name)
        # the mode bit (class 1: 4), the large file bit; no PDU CRC
        self.flags = (0 if acked else 4) | (1 if size > 0xFFFFFFFF else 0)
        fss = 8 if self.flags & 1 else 4
        self.key = key = bytes((seq_len - 1, source_id)) + cl.uint(seq_num, seq_len) + bytes((dest_id,))
        self.seq = seq_num
        self.closure = closure or acked  # class 2 always waits for the Finished
        body = bytearray((cl.METADATA, (0x40 if closure else 0) | cl.MODULAR)) + cl.uint(size, fss)
        for name in (source_name, dest_name):
            name = name.encode()
            body += bytes((len(name),)) + name
        self._metadata = cl.build(self.flags, key, body, 0)
        self.segment_len = segment_len
        self.burst = burst
        self.inactivity_ms = inactivity_ms
        self._sum = 0
        self._meta_due = True
        self._resend = []  # spans the receiver asked for again
        self._eof = None
        self._timer = now_ms  # when the EOF went out / the receiver was last heard
        self._out = []

    @property
    def done(self):
        return self.state == DONE

    def poll(self, now_ms):
        """The PDUs (bytearrays) to send now, after running the timers."""
        state = self.state
        if state == WAIT_EOF_ACK and now_ms - self._timer >= self.ack_timeout_ms:
            if self.eof_count >= self.ack_limit:
                self._fault(cl.POSITIVE_ACK_LIMIT_REACHED)
            else:
                self._send_eof(now_ms)
        elif state == WAIT_FINISHED and now_ms - self._timer >= self.inactivity_ms:
            self._fault(cl.INACTIVITY_DETECTED)
        if self.state != DONE:
            if self._meta_due:
                self._meta_due = False
                self._out.append(self._metadata)
            budget = self.burst
            spans = self._resend
            while budget > 0 and spans:
                span = spans[0]
                n = min(self.segment_len, span[1] - span[0])
                self._file_data(span[0], n)
                self.resent += n
                span[0] += n
                if span[0] >= span[1]:
                    spans.pop(0)
                budget -= 1
            if self.state == SENDING:
                self._send_new(budget, now_ms)
        out = self._out
        self._out = []
        return out

    def _file_data(self, offset, n):
        data = self.store.read(self.source_name, offset, n)
        if len(data) != n:
            raise FieldValueError("cfdp.sender.file", offset, "the file shrank while it was sent")
        fss = 8 if self.flags & 1 else 4
        self._out.append(cl.build(self.flags, self.key, cl.uint(offset, fss) + data, 0, 1))
        return data

    def _send_new(self, budget, now_ms):
        while budget > 0 and self.progress < self.size:
            offset = self.progress
            data = self._file_data(offset, min(self.segment_len, self.size - offset))
            self._sum += cl.modular(offset, data)
            self.progress = offset + len(data)
            budget -= 1
        if self.progress >= self.size:
            self._eof = self._eof_pdu(cl.NO_ERROR, self.size)
            self._send_eof(now_ms)
            if self.flags & 4:  # class 1: no ACK to wait for
                self.state = WAIT_FINISHED if self.closure else DONE
                if not self.closure:
                    self.condition = cl.NO_ERROR

    def _eof_pdu(self, condition, size):
        body = bytes((cl.EOF, condition << 4)) + cl.uint(self._sum & 0xFFFFFFFF, 4)
        body += cl.uint(size, 8 if self.flags & 1 else 4)
        if condition != cl.NO_ERROR:
            body += cl.fault_tlv(self.key, cl.entity(self.key, 0))
        return cl.build(self.flags, self.key, body, 0)

    def _send_eof(self, now_ms):
        self._out.append(self._eof)
        self.eof_count += 1
        self._timer = now_ms
        self.state = WAIT_EOF_ACK

    def checkpoint(self):
        """(progress, checksum so far) for resume() after a reset, or None once the EOF went out
        (the receiver then has what it will get: it NAKs the gaps or finishes on its own)."""
        if self.state != SENDING:
            return None
        return self.progress, self._sum & 0xFFFFFFFF

    def resume(self, progress, checksum):
        """Carry on from a checkpoint(): the Metadata again, then the data from `progress` on;
        what went out before and was lost the receiver NAKs after the EOF."""
        self.progress = min(progress, self.size)
        self._sum = checksum

    def cancel(self):
        """Cancel.request: an EOF (Cancel request received) goes out at the next poll; done."""
        if self.state != DONE:
            self._fault(cl.CANCEL_REQUEST_RECEIVED)

    def _fault(self, condition):
        self.condition = condition
        self._resend = []
        if condition != cl.POSITIVE_ACK_LIMIT_REACHED:  # notice of cancellation: EOF (cancel)
            self._out.append(self._eof_pdu(condition, self.progress))
        self.state = DONE

    def feed(self, pdu, now_ms):
        """Take one PDU (bytes) from the receiver."""
        hlen, end = cl.parse(pdu)
        if cl.key_of(pdu, hlen) != self.key:
            raise FieldValueError("cfdp.transaction", 0, "a PDU of another transaction")
        if pdu[0] & 0x10:
            raise FieldValueError("cfdp.pdu_type", 0, "file data toward a file sender")
        code = cl.directive(pdu, hlen, end, 1)
        pos = hlen + 1
        if code == cl.ACK and end - pos == 2 and pdu[pos] == cl.EOF << 4:
            if self.state == WAIT_EOF_ACK:
                self.state = WAIT_FINISHED
        elif code == cl.FINISHED:
            cl.need("cfdp.finished", pos, 1, end)
            condition = pdu[pos] >> 4
            if not self.flags & 4:
                self._out.append(cl.ack(self.flags, self.key, cl.FINISHED, condition, 2))  # terminated
            if self.state != DONE and self.closure:
                self.condition = condition
                self.state = DONE
                self._resend = []
        elif code == cl.NAK or code == cl.KEEP_ALIVE:
            if self.flags & 4 or self.state == DONE:
                return  # class 1 takes no NAK; a transaction that ended, none either
            if code == cl.NAK:
                self._nak(pdu, pos, end)
        else:
            raise FieldValueError("cfdp.directive_code", hlen, "a PDU not for a file sender")
        if self.state == WAIT_FINISHED:
            self._timer = now_ms  # the receiver is alive

    def _nak(self, pdu, pos, end):
        fss = 8 if self.flags & 1 else 4
        cl.need("cfdp.nak", pos, 2 * fss, end)
        if (end - pos) % (2 * fss):
            raise LengthError("cfdp.nak.segments", pos, (end - pos) // (2 * fss) * 2 * fss, end - pos)
        self.naks += 1
        sent = self.progress
        pos += 2 * fss  # the scope
        while pos < end:
            start = cl.get_uint(pdu, pos, fss)
            stop = cl.get_uint(pdu, pos + fss, fss)
            pos += 2 * fss
            if start == 0 and stop == 0:
                self._meta_due = True
            elif start < stop and start < sent:
                add_span(self._resend, start, min(stop, sent))
        squeeze(self._resend, self.max_spans)
