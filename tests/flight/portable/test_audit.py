"""The audit chain: a verifier finds any edited, removed, reordered or cut record."""

from memfs import MemFs

from flight.audit import GENESIS, AuditLog, record_hash, unpack, verify
from flight.storage import frame_record


def _log(n=6):
    fs = MemFs()
    a = AuditLog(fs)
    for i in range(n):
        a.append(1000 + i, 1, "cmd %d" % i)
    return fs, a


def _rewrite(fs, records):
    """An attacker with the flash rewrites the file with valid record CRCs."""
    fs.files.pop("audit.1", None)
    fs.files["audit.0"] = bytearray(b"".join(frame_record(r) for r in records))


def test_intact_chain_verifies_against_the_reported_head():
    _fs, a = _log()
    recs = a.records()
    assert verify(recs, head=a.head[:4], count=a.seq, anchor=GENESIS) == (True, 6, "")
    # hand-check the first link: record 1 carries the SHA-256 (first 16 bytes) of record 0
    assert unpack(recs[1])[0] == record_hash(recs[0])
    assert unpack(recs[3])[1:] == (3, 1003, 1, "cmd 3")


def test_edited_record_is_found():
    fs, a = _log()
    recs = a.records()
    edited = bytearray(recs[2])
    edited[-1] ^= 0x01  # "cmd 2" -> "cmd 3"
    recs[2] = bytes(edited)
    _rewrite(fs, recs)
    ok, index, why = verify(AuditLog(fs).records(), anchor=GENESIS)
    assert not ok and index == 3 and "chain broken" in why


def test_removed_record_is_found():
    fs, a = _log()
    recs = a.records()
    del recs[4]
    _rewrite(fs, recs)
    ok, index, _why = verify(AuditLog(fs).records(), anchor=GENESIS)
    assert not ok and index == 4


def test_cut_tail_and_edited_last_record_are_found_with_the_reported_head():
    _fs, a = _log()
    head, count = a.head[:4], a.seq
    recs = a.records()
    ok, _i, why = verify(recs[:-1], head=head, count=count, anchor=GENESIS)
    assert not ok and "reported" in why
    last = bytearray(recs[-1])
    last[-1] ^= 0x02
    tampered = recs[:-1] + [bytes(last)]  # noqa: RUF005 - runs on MicroPython
    ok, _i, why = verify(tampered, head=head, count=count, anchor=GENESIS)
    assert not ok and "head" in why


def test_chain_continues_across_reboots():
    fs, _a = _log(3)
    b = AuditLog(fs)
    b.append(2000, 2, "fdir action")
    assert b.seq == 4
    ok, n, _ = verify(b.records(), head=b.head[:4], count=b.seq, anchor=GENESIS)
    assert ok and n == 4


def test_a_deferred_record_is_chained_at_once_and_written_before_the_next():
    fs = MemFs()
    a = AuditLog(fs)
    a.append(1, 1, "cmd 0")
    a.append(2, 1, "cmd 1", defer=True)
    assert a.seq == 2 and a.pending is not None  # chained (housekeeping reports it), not in flash yet
    assert len(AuditLog(fs).records()) == 1  # a power cut now loses exactly that one record
    a.append(3, 1, "cmd 2", defer=True)  # the next record writes the waiting one first
    assert len(AuditLog(fs).records()) == 2
    assert a.flush() and not a.flush()
    recs = AuditLog(fs).records()
    assert verify(recs, head=a.head[:4], count=a.seq, anchor=GENESIS) == (True, 3, "")
    a.append(4, 1, "cmd 3", defer=True)
    assert verify(a.records(), head=a.head[:4], count=a.seq, anchor=GENESIS) == (True, 4, "")  # flushed
