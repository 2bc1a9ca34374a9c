"""The receiving end of one CFDP transaction (CCSDS 727.0-B-5 section 4.6), class 1 and class 2.

Transport-agnostic and clock-injected like protocols/cfdp_sender.py: feed(data, now_ms) takes
each PDU from the sender (the first one opens the transaction, whichever kind it is), poll(now_ms)
runs the timers and returns the PDUs (bytes) to send back.

Bounded RAM: every File Data segment goes straight to a temporary file in the file store
(protocols/cfdp_filestore.py) at its offset; what arrived is a short list of spans
(protocols/cfdp_spans.py, at most max_spans: a segment that would open one more is dropped and
asked for again later). The file checksum (protocols/cfdp_checksum.py) is fed as segments come,
or read back from the store once when the Metadata PDU comes after data. With the Metadata, the
EOF and every byte up to the EOF's file size in hand, the checksum is compared with the EOF's:
equal, the temporary file is renamed to the Metadata's destination name (`delivered`); not
equal, it is removed (File checksum failure). Data past the EOF's file size is a File size error.

Class 2: every EOF is acknowledged (also after the end, as terminated); gaps are NAKed at once
when a segment lands past one (immediate_nak) and, after the EOF, all of them (and the Metadata
as (0, 0) when it is missing) every nak_timeout_ms until they are filled; nak_limit rounds
without any missing byte arriving is NAK limit reached. A Keep Alive with the contiguous progress
goes out every keep_alive_ms (when set) and on a Prompt; a Prompt (NAK) gets the NAKs. The
Finished PDU is repeated every ack_timeout_ms until its ACK comes, at most ack_limit times, then
Positive ACK limit reached (a delivered file stays delivered). Class 1: after an incomplete EOF
the check timer gives late (reordered) segments check_limit periods of check_timeout_ms, then
Check limit reached; a Finished goes out when the Metadata asked for closure. Both classes: no
PDU for inactivity_ms before the end is Inactivity detected. A fault ends the transaction with
its condition code, the temporary file removed, `delivered` False.
"""

from protocols import cfdp_directives as cd
from protocols.cfdp import ACKNOWLEDGED, FileData, PduHeader, check_transaction, decode
from protocols.cfdp_checksum import FileChecksum
from protocols.cfdp_filestore import check_name
from protocols.cfdp_spans import add_span, contiguous, covers, gaps
from protocols.errors import ArgumentError, FieldValueError

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const


RECEIVING = const(0)
FINISHING = const(1)  # class 2: the Finished PDU waits for its ACK
DONE = const(2)
_READ_BACK = const(512)


class Receiver:
    """One incoming file transfer for the entity local_id; see the module doc."""

    def __init__(
        self,
        store,
        local_id,
        now_ms=0,
        ack_timeout_ms=2000,
        ack_limit=4,
        nak_timeout_ms=2000,
        nak_limit=4,
        inactivity_ms=30000,
        keep_alive_ms=None,
        check_timeout_ms=2000,
        check_limit=2,
        immediate_nak=True,
        max_spans=32,
        nak_segments=16,
    ):
        self.store = store
        self.local_id = local_id
        self.ack_timeout_ms = ack_timeout_ms
        self.ack_limit = ack_limit
        self.nak_timeout_ms = nak_timeout_ms
        self.nak_limit = nak_limit
        self.inactivity_ms = inactivity_ms
        self.keep_alive_ms = keep_alive_ms
        self.check_timeout_ms = check_timeout_ms
        self.check_limit = check_limit
        self.immediate_nak = immediate_nak
        self.max_spans = max_spans
        self.nak_segments = nak_segments
        self.header = None
        self.acked = False
        self.state = RECEIVING
        self.condition = None
        self.delivered = False
        self.metadata = None
        self.eof = None
        self.finished = None
        self.dest_name = None
        self.temp_name = None
        self.spans = []
        self.checksum = None
        self.dropped = 0  # segments refused to keep the span list short
        self.naks = 0
        self._high = 0  # end of the furthest segment
        self._rounds = 0  # NAK rounds (class 2) or check periods (class 1) without progress
        self._heard = self._now = now_ms
        self._timer = now_ms  # NAK / check timer, then the Finished's ACK timer
        self._ka_timer = now_ms
        self._sends = 0
        self._out = []

    @property
    def done(self):
        return self.state == DONE

    @property
    def progress(self):
        """Bytes held without a hole from offset 0 (what a Keep Alive reports)."""
        return contiguous(self.spans)

    def _file_size(self):
        return self.eof.file_size if self.eof is not None else self._high

    def missing(self):
        """[(start, end)] of the gaps up to the EOF's file size (the furthest byte before it)."""
        return gaps(self.spans, self._file_size())

    def feed(self, data, now_ms):
        """Take one PDU (bytes) from the sender."""
        pdu = decode(data)
        self._now = now_ms
        kind = type(pdu)
        hdr = pdu.header
        if self.header is None:
            if hdr.dest_id != self.local_id:
                raise FieldValueError(
                    "cfdp.header.dest_id", 0, "PDU for entity %d, this is %d" % (hdr.dest_id, self.local_id)
                )
            if kind is not FileData and kind is not cd.Metadata and kind is not cd.Eof:
                raise FieldValueError(
                    "cfdp.transaction", 0, "a %s PDU cannot open a transaction" % kind.__name__
                )
            self._open(hdr)
        else:
            check_transaction(hdr, self.header)
        self._heard = now_ms
        if kind is FileData:
            if self.state == RECEIVING:
                self._data(pdu, now_ms)
        elif kind is cd.Metadata:
            if self.metadata is None and self.state == RECEIVING:
                self._metadata(pdu, now_ms)
        elif kind is cd.Eof:
            self._eof(pdu, now_ms)
        elif kind is cd.Prompt:
            if self.acked and self.state == RECEIVING:
                if pdu.response == cd.PROMPT_NAK:
                    self._nak_all()
                else:
                    self._keep_alive(now_ms)
        elif kind is cd.Ack and pdu.directive == cd.FINISHED:
            if self.state == FINISHING:
                self.state = DONE
        else:
            raise FieldValueError(
                "cfdp.directive_code", 0, "a %s PDU is not for a file receiver" % kind.__name__
            )

    def _open(self, hdr, create=True):
        self.header = PduHeader(
            hdr.source_id, hdr.seq_num, hdr.dest_id, hdr.id_len, hdr.seq_len, hdr.mode, hdr.crc, hdr.large
        )
        self.acked = hdr.mode == ACKNOWLEDGED
        self.temp_name = ".cfdp-%d-%d.part" % (hdr.source_id, hdr.seq_num)
        try:
            if create:
                self.store.create(self.temp_name)
        except OSError:
            self._fault(cd.FILESTORE_REJECTION)

    def cancel(self, condition=cd.CANCEL_REQUEST_RECEIVED):
        """End the transaction here with `condition` (a local cancel, or a refusal such as
        FILESTORE_REJECTION): the temporary file is removed, the Finished PDU reports it."""
        self._fault(condition)

    def checkpoint(self):
        """(Metadata PDU, EOF PDU or None, spans) for resume() after a reset, or None before the
        Metadata or after the end. Taken after a feed, every span it names is in the file store."""
        if self.metadata is None or self.state != RECEIVING:
            return None
        return self.metadata.pack(), None if self.eof is None else self.eof.pack(), list(self.spans)

    def resume(self, metadata, eof, spans, now_ms):
        """Carry on a transaction from its checkpoint(): the temporary file stays as it is, what it
        holds is read back for the checksum, and an EOF that had come is taken again (acknowledged,
        the gaps NAKed)."""
        md = decode(metadata)
        self._open(md.header, False)
        for start, end in spans:
            add_span(self.spans, start, end)
            self._high = max(self._high, end)
        self._heard = self._timer = self._ka_timer = self._now = now_ms
        self._metadata(md, now_ms)
        if eof is not None:
            self._eof(decode(eof), now_ms)

    def _store(self, op, *args):
        """A file store call; an OSError is a filestore rejection fault (False)."""
        try:
            op(*args)
            return True
        except OSError:
            self._fault(cd.FILESTORE_REJECTION)
            return False

    def _data(self, fd, now_ms):
        offset = fd.offset
        end = offset + len(fd.data)
        size = self.eof.file_size if self.eof is not None else None
        if size is None and self.metadata is not None:
            size = self.metadata.file_size
        if size is not None and end > size:  # past the EOF's, or else the Metadata's, file size
            self._fault(cd.FILE_SIZE_ERROR)
            return
        spans = self.spans
        if covers(spans, offset, end):
            return  # a duplicate
        if len(spans) >= self.max_spans and not any(s <= end and offset <= e for s, e in spans):
            self.dropped += 1  # would open one span too many: NAKed again later
            return
        if not self._store(self.store.write, self.temp_name, offset, fd.data):
            return
        if self.checksum is not None:
            self.checksum.update(offset, fd.data)
        high = self._high
        if add_span(spans, offset, end) and offset < high:
            self._rounds = 0  # missing data came: the NAK / check count starts again
        self._high = max(high, end)
        if self.acked and self.immediate_nak and self.eof is None:
            segments = [(high, offset)] if offset > high else []
            if self.metadata is None and high == 0:
                segments.insert(0, (0, 0))
            if segments:
                self._send_naks(segments, end)
        self._check_complete()

    def _metadata(self, md, now_ms):
        self.metadata = md
        if self._high > md.file_size:  # data that came first reaches past the file
            self._fault(cd.FILE_SIZE_ERROR)
            return
        try:
            self.dest_name = check_name(md.dest_name)
        except ArgumentError:
            self._fault(cd.FILESTORE_REJECTION)
            return
        try:
            self.checksum = FileChecksum(md.checksum_type)
        except ArgumentError:
            self.checksum = None  # verified at the end as Unsupported checksum type
        if self.checksum is not None:
            for start, end in self.spans:  # data that came before the Metadata: read back
                pos = start
                while pos < end:
                    n = min(_READ_BACK, end - pos)
                    self.checksum.update(pos, self.store.read(self.temp_name, pos, n))
                    pos += n
        self._rounds = 0
        self._check_complete()

    def _eof(self, eof, now_ms):
        if self.acked:
            status = cd.TRANSACTION_ACTIVE if self.state != DONE else cd.TRANSACTION_TERMINATED
            self._out.append(cd.Ack(self.header, cd.EOF, eof.condition, status).pack())
        if self.state != RECEIVING or self.eof is not None:
            return
        if eof.condition != cd.NO_ERROR:  # EOF (cancel): the sender gave up
            self._fault(eof.condition, self.header.source_id)
            return
        self.eof = eof
        if self._high > eof.file_size:
            self._fault(cd.FILE_SIZE_ERROR)
            return
        self._timer = now_ms
        self._rounds = 0
        if not self._check_complete() and self.acked:
            self._nak_all()

    def _check_complete(self):
        """Complete and verify when everything is there; True when the transaction ended."""
        if self.state != RECEIVING or self.eof is None or self.metadata is None or self.missing():
            return False
        condition = cd.NO_ERROR
        if self.checksum is None:
            condition = cd.UNSUPPORTED_CHECKSUM_TYPE
        elif self.checksum.value(self.eof.file_size) != self.eof.checksum:
            self._fault(cd.FILE_CHECKSUM_FAILURE)
            return True
        if self._store(self.store.rename, self.temp_name, self.dest_name):
            self.delivered = True
            self._finish(condition, cd.DATA_COMPLETE, cd.FILE_RETAINED)
        return True

    def _fault(self, condition, fault_location=None):
        if self.state != RECEIVING:
            return
        try:
            self.store.remove(self.temp_name)
        except (OSError, ArgumentError):
            pass
        self._finish(
            condition,
            cd.DATA_INCOMPLETE,
            cd.FILE_DISCARDED,
            self.local_id if fault_location is None else fault_location,
        )

    def _finish(self, condition, delivery, file_status, fault_location=None):
        self.condition = condition
        if condition in (cd.NO_ERROR, cd.UNSUPPORTED_CHECKSUM_TYPE):
            fault_location = None
        self.finished = cd.Finished(self.header, condition, delivery, file_status, (), fault_location)
        self.state = DONE
        if self.acked or (self.metadata is not None and self.metadata.closure):
            self._out.append(self.finished.pack())
            if self.acked:
                self.state = FINISHING
                self._sends = 1
        self._timer = self._now

    def _nak_all(self):
        segments = self.missing()
        if self.metadata is None:
            segments.insert(0, (0, 0))
        if segments:
            self._send_naks(segments, self._file_size())

    def _send_naks(self, segments, scope_end):
        """NAK PDUs for segments, nak_segments requests in each."""
        per = self.nak_segments
        for i in range(0, len(segments), per):
            batch = segments[i : i + per]
            start = 0 if i == 0 else batch[0][0]
            end = scope_end if i + per >= len(segments) else batch[-1][1]
            self._out.append(cd.Nak(self.header, start, max(start, end), batch).pack())
            self.naks += 1

    def _keep_alive(self, now_ms):
        self._ka_timer = now_ms
        self._out.append(cd.KeepAlive(self.header, self.progress).pack())

    def poll(self, now_ms):
        """The PDUs (bytes) to send now, after running the timers."""
        self._now = now_ms
        if self.header is not None:
            state = self.state
            if state == RECEIVING:
                self._timers(now_ms)
            elif state == FINISHING and now_ms - self._timer >= self.ack_timeout_ms:
                if self._sends >= self.ack_limit:
                    self.state = DONE  # a Finished (cancel) keeps its own condition
                    if self.delivered:
                        self.condition = cd.POSITIVE_ACK_LIMIT_REACHED
                else:
                    self._sends += 1
                    self._timer = now_ms
                    self._out.append(self.finished.pack())
        out = self._out
        self._out = []
        return out

    def _timers(self, now_ms):
        if now_ms - self._heard >= self.inactivity_ms:
            self._fault(cd.INACTIVITY_DETECTED)
            return
        if self.acked and self.keep_alive_ms is not None and now_ms - self._ka_timer >= self.keep_alive_ms:
            self._keep_alive(now_ms)
        if self.eof is None:
            return
        period = self.nak_timeout_ms if self.acked else self.check_timeout_ms
        if now_ms - self._timer < period:
            return
        self._timer = now_ms
        self._rounds += 1
        limit = self.nak_limit if self.acked else self.check_limit
        if self._rounds >= limit:
            self._fault(cd.NAK_LIMIT_REACHED if self.acked else cd.CHECK_LIMIT_REACHED)
        elif self.acked:
            self._nak_all()
