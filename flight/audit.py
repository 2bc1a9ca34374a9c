"""Hash-chained audit log: every command executed and every FDIR action, tamper-evident.

Each record carries the hash of the one before it, so editing a record breaks the link to
its successor, removing one leaves a sequence gap and a broken link, and cutting the tail
shows against the chain head the spacecraft reports in housekeeping (`audit_head`, `audit_seq`).
Record: prev hash (16 bytes) | seq u32 | onboard time u32 | kind u8 | text (UTF-8).

A command's record may be appended with `defer=True`: chained at once (head and seq move, so
housekeeping reports it) but written to flash by `flush()` in a later tick, which keeps the flash
write out of the tick that ran the command (docs/board-speed.md). At most one record waits: a
deferred append, any other append and `records()` write the waiting one first. A power cut while
it waits loses that one record from flash; the ground sees it as a cut tail (the reported head and
count are one ahead of the log).
"""

import hashlib
import struct

from flight.storage import RecordLog

HASH_LEN = 16
GENESIS = bytes(HASH_LEN)
KIND_COMMAND = 1
KIND_FDIR = 2
KIND_MODE = 3
KIND_BOOT = 4
KIND_PARAM = 5
_HDR = ">IIB"


def record_hash(payload):
    return hashlib.sha256(payload).digest()[:HASH_LEN]


def unpack(payload):
    """(prev, seq, t, kind, text) of one record's payload."""
    seq, t, kind = struct.unpack_from(_HDR, payload, HASH_LEN)
    return payload[:HASH_LEN], seq, t, kind, payload[HASH_LEN + 9 :].decode()


def verify(payloads, head=None, count=None, anchor=None):
    """(ok, index, reason): the first record that breaks the chain, or (True, len, "") when intact.

    anchor: the prev hash the first record must carry (GENESIS for an unrotated log);
    head/count: the chain head and record count the spacecraft reported, to catch a cut tail.
    """
    prev = anchor
    last_seq = None
    for i, payload in enumerate(payloads):
        if len(payload) < HASH_LEN + 9:
            return False, i, "record too short"
        p, seq, _t, _kind, _text = unpack(payload)
        if prev is not None and p != prev:
            return False, i, "chain broken before record %d (edited or removed record)" % seq
        if last_seq is not None and seq != last_seq + 1:
            return False, i, "sequence gap: %d after %d" % (seq, last_seq)
        last_seq = seq
        prev = record_hash(payload)
    n = len(payloads)
    if count is not None and (last_seq is None or last_seq + 1 != count):
        return False, n, "log ends at record %s, spacecraft reported %d" % (last_seq, count)
    if head is not None and prev is not None and prev[: len(head)] != head:
        return False, n - 1, "last record does not hash to the reported chain head"
    return True, n, ""


class AuditLog:
    def __init__(self, fs, name="audit", segment_bytes=16384):
        self.log = RecordLog(fs, name, segment_bytes)
        self.head = GENESIS
        self.seq = 0
        self.repaired = 0
        self.pending = None  # a deferred record's payload, not yet in flash (at most one)
        # resume the chain after a reboot from the last intact record
        records = self.log.records()
        self.repaired = self.log.skipped
        if records:
            last = records[-1]
            self.head = record_hash(last)
            self.seq = unpack(last)[1] + 1

    def append(self, t, kind, text, defer=False):
        """Chain one record; written to flash now, or with defer by the next flush() (or the next
        append, whichever comes first)."""
        if self.pending is not None:
            self.flush()  # records reach flash in chain order, and never more than one waits
        payload = self.head + struct.pack(_HDR, self.seq, int(t) & 0xFFFFFFFF, kind) + text.encode()[:96]
        if defer:
            self.pending = payload
        else:
            self.log.append(payload)
        self.head = record_hash(payload)
        self.seq += 1

    def flush(self):
        """Write the deferred record, if any; True when there was one."""
        payload = self.pending
        if payload is None:
            return False
        self.log.append(payload)  # a failed write leaves it pending: the next flush tries again
        self.pending = None
        return True

    def head_u32(self):
        return struct.unpack(">I", self.head[:4])[0]

    def records(self):
        self.flush()
        return self.log.records()
