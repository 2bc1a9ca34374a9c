"""The sending end of one CFDP transaction (CCSDS 727.0-B-5 section 4.6), class 1 and class 2.

Transport-agnostic and clock-injected: the caller passes every PDU the receiver sent to
feed(data, now_ms) and calls poll(now_ms) often; poll returns the PDUs (bytes) to send now. No
threads, no sleeping; now_ms is any monotonic millisecond count that does not wrap.

    tx = Sender(store, "img.bin", "dl/img.bin", source_id=1, dest_id=2, seq_num=7, now_ms=t)
    while not tx.done:
        for pdu in tx.poll(t): link.send(pdu)
        for pdu in link.received(): tx.feed(pdu, t)

Copy File procedure: Metadata, File Data read segment by segment from the file store (at most
`burst` File Data PDUs per poll: the caller's flow control), EOF with the file checksum
(protocols/cfdp_checksum.py, computed as the data goes out). Class 1 then ends, or with
`closure` waits up to inactivity_ms for the Finished PDU. Class 2 (acknowledged):
- the EOF is repeated every ack_timeout_ms until its ACK comes, at most ack_limit times in all,
  then Positive ACK limit reached; a Finished PDU also acknowledges it (its ACK may be lost);
- NAKs (at any time) put their ranges in a short list of spans to send again, before new data;
  a (0, 0) request sends the Metadata again;
- Keep Alive PDUs report the receiver's progress; falling more than keep_alive_limit bytes behind
  what was sent is Keep alive limit reached (when a limit is set);
- no PDU from the receiver for inactivity_ms after the EOF is Inactivity detected;
- the Finished PDU is acknowledged (again each time it comes, also after the end) and ends it.
A fault sends an EOF (cancel) with the condition code and the sender as fault location (not
when the fault is about the EOF itself) and ends the transaction: `done` is set, `condition`
holds the code (NO_ERROR on success) and `finished` the receiver's Finished PDU, if one came.
A PDU of another transaction, or one a sender never gets, is refused with FieldValueError;
undecodable bytes with the codec's DecodeError.
"""

from protocols import cfdp_directives as cd
from protocols.cfdp import ACKNOWLEDGED, FileData, PduHeader, check_transaction, decode
from protocols.cfdp_checksum import MODULAR, FileChecksum
from protocols.cfdp_spans import add_span, squeeze
from protocols.errors import ArgumentError, FieldValueError

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

    def __init__(
        self,
        store,
        source_name,
        dest_name,
        source_id,
        dest_id,
        seq_num,
        now_ms=0,
        mode=ACKNOWLEDGED,
        closure=False,
        checksum_type=MODULAR,
        segment_len=512,
        burst=8,
        id_len=1,
        seq_len=1,
        crc=False,
        ack_timeout_ms=2000,
        ack_limit=4,
        inactivity_ms=30000,
        keep_alive_limit=None,
        max_spans=32,
    ):
        if type(segment_len) is not int or segment_len < 1:
            raise ArgumentError("cfdp.sender.segment_len", segment_len, "an int >= 1")
        if type(ack_limit) is not int or ack_limit < 1:
            raise ArgumentError("cfdp.sender.ack_limit", ack_limit, "an int >= 1")
        self.store = store
        self.source_name = source_name
        self.size = store.size(source_name)  # ArgumentError when it does not exist
        self.checksum = FileChecksum(checksum_type)  # ArgumentError for an unsupported type
        self.header = PduHeader(
            source_id, seq_num, dest_id, id_len, seq_len, mode, crc, self.size > 0xFFFFFFFF
        )
        self.metadata = cd.Metadata(self.header, self.size, source_name, dest_name, checksum_type, closure)
        self.acked = mode == ACKNOWLEDGED
        self.closure = closure or self.acked
        self.segment_len = segment_len
        self.burst = burst
        self.ack_timeout_ms = ack_timeout_ms
        self.ack_limit = ack_limit
        self.inactivity_ms = inactivity_ms
        self.keep_alive_limit = keep_alive_limit
        self.max_spans = max_spans
        self.state = SENDING
        self.condition = None
        self.finished = None
        self.progress = 0  # bytes sent once, from offset 0
        self.receiver_progress = 0  # from the last Keep Alive
        self.eof_count = 0
        self.resent = 0  # bytes sent again on NAKs
        self.naks = 0
        self._meta_due = True
        self._resend = []  # spans the receiver asked for again
        self._eof = None
        self._timer = now_ms  # when the EOF went out / the receiver was last heard
        self._out = []

    @property
    def done(self):
        return self.state == DONE

    def poll(self, now_ms):
        """The PDUs (bytes) to send now, after running the timers."""
        state = self.state
        if state == WAIT_EOF_ACK and now_ms - self._timer >= self.ack_timeout_ms:
            if self.eof_count >= self.ack_limit:
                self._fault(cd.POSITIVE_ACK_LIMIT_REACHED)
            else:
                self._send_eof(now_ms)
        elif state == WAIT_FINISHED and now_ms - self._timer >= self.inactivity_ms:
            self._fault(cd.INACTIVITY_DETECTED)
        if self.state != DONE:
            if self._meta_due:
                self._meta_due = False
                self._out.append(self.metadata.pack())
            budget = self._resend_some(self.burst)
            if self.state == SENDING:
                self._send_new(budget, now_ms)
        out = self._out
        self._out = []
        return out

    def _segment(self, offset, n):
        data = self.store.read(self.source_name, offset, n)
        if len(data) != n:
            raise ArgumentError("cfdp.sender.file", self.source_name, "a file that keeps its size")
        return data

    def _resend_some(self, budget):
        spans = self._resend
        while budget > 0 and spans:
            span = spans[0]
            n = min(self.segment_len, span[1] - span[0])
            data = self._segment(span[0], n)
            self._out.append(FileData(self.header, span[0], data).pack())
            self.resent += n
            span[0] += n
            if span[0] >= span[1]:
                spans.pop(0)
            budget -= 1
        return budget

    def _send_new(self, budget, now_ms):
        while budget > 0 and self.progress < self.size:
            offset = self.progress
            data = self._segment(offset, min(self.segment_len, self.size - offset))
            self.checksum.update(offset, data)
            self._out.append(FileData(self.header, offset, data).pack())
            self.progress = offset + len(data)
            budget -= 1
        if self.progress >= self.size:
            self._eof = cd.Eof(self.header, self.size, self.checksum.value(self.size))
            self._send_eof(now_ms)
            if not self.acked:
                self.state = WAIT_FINISHED if self.closure else DONE
                if not self.closure:
                    self.condition = cd.NO_ERROR

    def _send_eof(self, now_ms):
        self._out.append(self._eof.pack())
        self.eof_count += 1
        self._timer = now_ms
        if self.acked:
            self.state = WAIT_EOF_ACK

    def cancel(self):
        """Cancel.request: an EOF (Cancel request received) goes out at the next poll; done."""
        if self.state != DONE:
            self._fault(cd.CANCEL_REQUEST_RECEIVED)

    def prompt(self, response=cd.PROMPT_NAK):
        """Ask the receiver (class 2) for a NAK (PROMPT_NAK) or a Keep Alive (PROMPT_KEEP_ALIVE)."""
        self._out.append(cd.Prompt(self.header, response).pack())

    def _fault(self, condition):
        self.condition = condition
        self._resend = []
        if condition != cd.POSITIVE_ACK_LIMIT_REACHED:  # notice of cancellation: EOF (cancel)
            eof = cd.Eof(self.header, self.progress, self.checksum.value(), condition, self.header.source_id)
            self._out.append(eof.pack())
        self.state = DONE

    def feed(self, data, now_ms):
        """Take one PDU (bytes) from the receiver."""
        pdu = decode(data)
        check_transaction(pdu.header, self.header)
        kind = type(pdu)
        if kind is cd.Ack and pdu.directive == cd.EOF:
            if self.state == WAIT_EOF_ACK:
                self.state = WAIT_FINISHED
        elif kind is cd.Finished:
            if self.acked:
                ack = cd.Ack(self.header, cd.FINISHED, pdu.condition, cd.TRANSACTION_TERMINATED)
                self._out.append(ack.pack())
            if self.state != DONE and self.closure:
                self.finished = pdu
                self.condition = pdu.condition
                self.state = DONE
                self._resend = []
        elif kind is cd.Nak or kind is cd.KeepAlive:
            if not self.acked or self.state == DONE:
                return
            if kind is cd.KeepAlive:
                self.receiver_progress = pdu.progress
                limit = self.keep_alive_limit
                if limit is not None and self.progress - pdu.progress > limit:
                    self._fault(cd.KEEP_ALIVE_LIMIT_REACHED)
                    return
            else:
                self._nak(pdu)
        else:
            raise FieldValueError(
                "cfdp.directive_code", 0, "a %s PDU is not for a file sender" % kind.__name__
            )
        if self.state == WAIT_FINISHED:
            self._timer = now_ms  # the receiver is alive

    def _nak(self, nak):
        self.naks += 1
        sent = self.progress
        for start, end in nak.segments:
            if start == 0 and end == 0:
                self._meta_due = True
            elif start < sent:
                add_span(self._resend, start, min(end, sent))
        squeeze(self._resend, self.max_spans)
