"""The board's lean CFDP machines (protocols/cfdp_lean*.py) against the full ones
(protocols/cfdp_receiver.py, cfdp_sender.py): run in lockstep, fed the same PDUs at the same
times through a lossy, reordering channel, every PDU they send must be the same bytes and they
must end the same way; then the lean machines against each other and their own refusals."""
# upy-heapsize: 384K (both CFDP entities compiled from source at 64 bits, beside files held in memory)

import os
import random

from _cfdp_link import pattern, run
from _check import raises

from protocols import cfdp, errors
from protocols import cfdp_checksum as ck
from protocols import cfdp_directives as cd
from protocols import cfdp_lean as cl
from protocols.cfdp_filestore import HostFileStore, MemoryFileStore
from protocols.cfdp_lean_resume import resume
from protocols.cfdp_lean_rx import Receiver as LeanReceiver
from protocols.cfdp_lean_tx import Sender as LeanSender
from protocols.cfdp_receiver import Receiver
from protocols.cfdp_sender import Sender

TIMERS = {
    "ack_timeout_ms": 200,
    "ack_limit": 10,
    "nak_timeout_ms": 200,
    "nak_limit": 10,
    "inactivity_ms": 5000,
}


def _lean_rx(store, timers=TIMERS):
    rx = LeanReceiver(store, 9, 0)
    for name, value in timers.items():
        setattr(rx, name, value)
    return rx


def _source(size, store=None):
    store = store or MemoryFileStore()
    store.create("in.bin")
    pos = 0
    while pos < size:
        n = min(4096, size - pos)
        store.write("in.bin", pos, pattern(pos, n))
        pos += n
    return store


def _full_tx(src, seg=100, mode=cfdp.ACKNOWLEDGED, closure=False, checksum_type=ck.MODULAR, **kw):
    return Sender(src, "in.bin", "out/got.bin", 5, 9, 42, 0, mode, closure, checksum_type, seg, **kw)


class Lockstep:
    """Two machines of the same role fed the same PDUs at the same times."""

    def __init__(self, full, lean):
        self.full = full
        self.lean = lean

    def feed(self, pdu, now):
        failed = []
        for m in (self.full, self.lean):
            try:
                m.feed(pdu, now)
                failed.append(None)
            except errors.ProtocolError as e:
                failed.append(type(e).__name__)
        assert failed[0] == failed[1], failed

    def poll(self, now):
        a = self.full.poll(now)
        b = self.lean.poll(now)
        assert [bytes(p) for p in a] == [bytes(p) for p in b], (now, a, b)
        return a

    @property
    def done(self):
        assert self.full.done == self.lean.done
        return self.full.done


def _same_end(both):
    assert both.full.condition == both.lean.condition, (both.full.condition, both.lean.condition)


def _holds(store, name, size):
    assert store.size(name) == size
    for pos in range(0, size, 1000):
        n = min(1000, size - pos)
        assert store.read(name, pos, n) == pattern(pos, n), pos


def test_the_lean_receiver_answers_byte_for_byte_as_the_full_one_under_loss():
    for seed, drop in ((1, 0), (2, 10), (3, 20), (4, 25)):
        full_store = MemoryFileStore()
        lean_store = MemoryFileStore()
        both = Lockstep(Receiver(full_store, 9, 0, **TIMERS), _lean_rx(lean_store))
        run(_full_tx(_source(5000), ack_timeout_ms=200, ack_limit=10, inactivity_ms=5000), both, seed, drop)
        _same_end(both)
        assert both.lean.condition == cd.NO_ERROR and both.lean.delivered
        _holds(lean_store, "out/got.bin", 5000)


def test_the_lean_sender_sends_byte_for_byte_what_the_full_one_does_under_loss():
    for seed, drop in ((5, 0), (6, 15), (7, 30)):
        src = _source(4321)
        full = _full_tx(src, 256, burst=2, seq_len=2, ack_timeout_ms=200, ack_limit=10, inactivity_ms=5000)
        lean = LeanSender(src, "in.bin", "out/got.bin", 5, 9, 42, 0, 2, 256, 2, 5000)
        lean.ack_timeout_ms = 200
        lean.ack_limit = 10
        dst = MemoryFileStore()
        both = Lockstep(full, lean)
        run(both, Receiver(dst, 9, 0, **TIMERS), seed, drop)
        _same_end(both)
        assert lean.condition == cd.NO_ERROR and lean.resent == full.resent
        _holds(dst, "out/got.bin", 4321)


def test_the_lean_sender_in_class_1_sends_byte_for_byte_what_the_full_one_does():
    # without closure it ends with its EOF; with closure it waits for the Finished (lost: inactivity)
    for closure, seed, drop in ((False, 21, 0), (False, 22, 20), (True, 23, 0), (True, 24, 30)):
        src = _source(3210)
        full = _full_tx(src, 300, cfdp.UNACKNOWLEDGED, closure, burst=2, seq_len=2, inactivity_ms=5000)
        lean = LeanSender(src, "in.bin", "out/got.bin", 5, 9, 42, 0, 2, 300, 2, 5000, False, closure)
        dst = MemoryFileStore()
        both = Lockstep(full, lean)
        _fwd, back = run(both, Receiver(dst, 9, 0, **TIMERS), seed, drop)
        _same_end(both)
        assert lean.resent == lean.naks == 0 and lean.eof_count == 1
        if not drop:
            assert lean.condition == cd.NO_ERROR
            _holds(dst, "out/got.bin", 3210)
        if not closure:
            assert lean.condition == cd.NO_ERROR and back.sent == 0  # nothing comes back in class 1
    # the last, with closure at 30% loss: the receiver's Finished says the file stayed incomplete
    assert lean.condition == cd.CHECK_LIMIT_REACHED


def test_class_1_with_closure_and_the_receivers_faults_match_the_full_one():
    # class 1 with closure: the Finished; a corrupted file: checksum failure; data past the EOF
    for mode, closure, corrupt in ((cfdp.UNACKNOWLEDGED, True, False), (cfdp.ACKNOWLEDGED, False, True)):
        src = _source(3000)
        tx = _full_tx(src, 300, mode, closure)
        both = Lockstep(Receiver(MemoryFileStore(), 9, 0, **TIMERS), _lean_rx(MemoryFileStore()))
        if corrupt:
            tx.checksum.update(0, b"\x01")  # the EOF will carry a checksum the data does not have
        run(tx, both, 11)
        _same_end(both)
    assert both.lean.condition == cd.FILE_CHECKSUM_FAILURE and not both.lean.delivered


def test_timers_and_limits_match_the_full_one():
    # nothing comes back to the sender: the receivers' NAK limit and Finished ACK limit
    src = _source(2000)
    both = Lockstep(Receiver(MemoryFileStore(), 9, 0, **TIMERS), _lean_rx(MemoryFileStore()))
    run(_full_tx(src, 500, ack_limit=10, ack_timeout_ms=200), both, 3, 60, drop_back=100, deadline_ms=20000)
    _same_end(both)
    # the receiver goes silent: the senders' positive ACK limit
    full = _full_tx(src, 500, seq_len=2, burst=1, ack_timeout_ms=200, ack_limit=3)
    lean = LeanSender(src, "in.bin", "out/got.bin", 5, 9, 42, 0, 2, 500, 1)
    lean.ack_timeout_ms = 200
    lean.ack_limit = 3
    both = Lockstep(full, lean)
    now = 0
    while not both.done:
        both.poll(now)
        now += 50
    _same_end(both)
    assert lean.condition == cd.POSITIVE_ACK_LIMIT_REACHED


def test_cancels_match_the_full_one():
    src = _source(5000)
    both = Lockstep(Receiver(MemoryFileStore(), 9, 0, **TIMERS), _lean_rx(MemoryFileStore()))
    tx = _full_tx(src, 500)
    for pdu in tx.poll(0):
        both.feed(pdu, 0)
    both.poll(10)
    tx.cancel()
    for pdu in tx.poll(20):
        both.feed(pdu, 20)  # EOF (cancel): the sender is the fault location
    both.poll(30)
    _same_end(both)
    assert both.lean.condition == cd.CANCEL_REQUEST_RECEIVED
    full = _full_tx(src, 500, seq_len=2, burst=1)
    lean = LeanSender(src, "in.bin", "out/got.bin", 5, 9, 42, 0, 2, 500, 1)
    both = Lockstep(full, lean)
    both.poll(0)
    full.cancel()
    lean.cancel()
    both.poll(10)
    _same_end(both)


def _folder(prefix):
    # a folder of its own in the current one (not every MicroPython port has /tmp)
    n = random.getrandbits(24)
    while True:  # mkdir claims the name: another run at the same time takes the next one
        root = "%s-%06x" % (prefix, n & 0xFFFFFF)
        try:
            os.mkdir(root)
            return root
        except OSError:
            n += 1


def _rm(root, names):
    for name in names:
        try:
            os.remove(root + "/" + name)
        except OSError:
            pass
    os.rmdir(root)


def test_lean_to_lean_through_a_host_file_store_at_20_percent_loss():
    root = _folder("cfdp-lean")
    store = HostFileStore(root)
    try:
        src = _source(60000, store)
        tx = LeanSender(src, "in.bin", "img.bin", 5, 9, 7, 0, 1, 1000, 4, 5000)
        tx.ack_timeout_ms = 200
        tx.ack_limit = 10
        rx = _lean_rx(store)
        fwd, back = run(tx, rx, 9, 20)
        assert fwd.dropped > 5 and back.dropped > 0 and tx.resent > 0
        assert tx.condition == cd.NO_ERROR and rx.condition == cd.NO_ERROR
        _holds(store, "img.bin", 60000)
    finally:
        store.close()
        _rm(root, ("in.bin", "img.bin"))


def test_a_lean_receiver_resumes_from_its_checkpoint_after_a_reset():
    src = _source(8000)
    dst = MemoryFileStore()
    tx = _full_tx(src, 400, ack_timeout_ms=200, ack_limit=10, inactivity_ms=5000)
    rx = _lean_rx(dst)
    now = 0
    while True:
        for pdu in tx.poll(now):
            rx.feed(pdu, now)
        now += 10
        kept = rx.checkpoint()
        if kept and kept[2] and kept[2][0][1] >= 4000:
            break
    assert tx.poll(now)  # sent while the board was down: lost
    rx = _lean_rx(dst)  # the reset
    resume(rx, kept[0], kept[1], kept[2], now)
    run(tx, rx)
    assert rx.condition == cd.NO_ERROR and rx.delivered
    _holds(dst, "out/got.bin", 8000)


def test_a_name_outside_the_store_and_a_full_store_are_filestore_rejections():
    src = _source(1000)
    tx = Sender(src, "in.bin", "../escape.bin", 5, 9, 1, 0, segment_len=100)
    rx = _lean_rx(MemoryFileStore())
    run(tx, rx)
    assert rx.condition == cd.FILESTORE_REJECTION and tx.condition == cd.FILESTORE_REJECTION
    root = _folder("cfdp-lean-quota")
    store = HostFileStore(root, max_size=500)
    try:
        rx = _lean_rx(store)
        run(_full_tx(src, 100), rx)
        assert rx.condition == cd.FILESTORE_REJECTION and not rx.delivered
        assert os.listdir(root) == []  # the part file went with the transaction
    finally:
        store.close()
        _rm(root, ())


def test_pdus_the_lean_machines_refuse():
    src = _source(100)
    tx = _full_tx(src, 100)
    first = bytes(tx.poll(0)[0])
    rx = _lean_rx(MemoryFileStore())
    raises(errors.TruncatedError, rx.feed, first[:3], 0)
    raises(errors.TruncatedError, rx.feed, first[:-1], 0)
    raises(errors.LengthError, rx.feed, first + b"\x00", 0)
    raises(errors.VersionError, rx.feed, bytes([first[0] & 0x1F]) + first[1:], 0)
    other = _full_tx(src, 100)
    other.header.dest_id = 3
    raises(errors.FieldValueError, rx.feed, bytes(other.poll(0)[0]), 0)  # another entity
    store = MemoryFileStore()
    short = _lean_rx(store)
    eof = cl.build(0, bytes((0, 5, 42, 9)), bytes((cl.EOF, 0, 0)), 0)  # cut inside its checksum
    raises(errors.TruncatedError, short.feed, bytes(eof), 0)
    assert short.key is None and store.files == {}  # refused before it opened anything
    ack = cd.Ack(tx.header, cd.FINISHED).pack()
    raises(errors.FieldValueError, rx.feed, ack, 0)  # an ACK cannot open a transaction
    rx.feed(first, 0)
    other = Sender(src, "in.bin", "x.bin", 5, 9, 43, 0)
    raises(errors.FieldValueError, rx.feed, bytes(other.poll(0)[0]), 0)  # another transaction
    crc = cfdp.PduHeader(5, 42, 9, crc=True)
    bad = bytearray(cd.Eof(crc, 0, 0).pack())
    bad[-1] ^= 1
    raises(errors.CrcError, _lean_rx(MemoryFileStore()).feed, bytes(bad), 0)
    lean = LeanSender(src, "in.bin", "x.bin", 5, 9, 42, 0)
    raises(errors.FieldValueError, lean.feed, first, 0)  # toward the receiver
    raises(errors.LengthError, lean.feed, bytes(cl.build(0, lean.key, bytes((cl.NAK,)) + bytes(11), 1)), 0)
    lean.feed(cd.Nak(cfdp.PduHeader(5, 42, 9), 0, 100, [(0, 50)]).pack(), 0)
    assert lean.naks == 1


def test_the_header_helpers():
    key = cl.key_of(cd.Eof(cfdp.PduHeader(0x0102, 0x030405, 0x0607, 2, 3), 0, 0).pack(), 4 + 4 + 3)
    assert cl.entity(key, 0) == 0x0102 and cl.entity(key, 1) == 0x030405 and cl.entity(key, 2) == 0x0607
    assert bytes(cl.uint(0x0A0B0C, 3)) == b"\x0a\x0b\x0c"
    assert cl.check_name(b"files/a.bin") == "files/a.bin"
    for bad in (b"", b"/abs", b"a/../b", b"a//b", b"./a", b"\xff"):
        raises(errors.FieldValueError, cl.check_name, bad)


def test_crc32_is_checked_once_the_file_is_whole():
    for corrupt in (False, True):
        tx = _full_tx(_source(20000), 500, checksum_type=ck.CRC32, ack_timeout_ms=200, ack_limit=10)
        if corrupt:
            tx.checksum.update(0, b"\x01")
        rx = _lean_rx(MemoryFileStore())
        run(tx, rx, 4, 10)
        want = cd.FILE_CHECKSUM_FAILURE if corrupt else cd.NO_ERROR
        assert rx.condition == want and rx.delivered == (not corrupt), rx.condition
        assert tx.condition == want


def test_mangled_pdus_are_protocol_errors_or_taken_never_a_crash():
    # real PDUs of a transaction, cut, extended and with bytes flipped at realistic lengths
    from _cfdp_link import Rng

    src = _source(3000)
    tx = _full_tx(src, 700, crc=False)
    pdus = [bytes(p) for p in tx.poll(0)]
    rx = Receiver(MemoryFileStore(), 9, 0)
    rx.feed(pdus[-1], 0)  # the EOF: the receiver's own PDUs to mangle too
    pdus += [bytes(p) for p in rx.poll(0)]
    rng = Rng(11)
    kinds = set()
    for i in range(1500):
        pdu = bytearray(pdus[i % len(pdus)])
        how = rng.below(3)
        if how == 0:
            pdu = pdu[: rng.below(len(pdu))]
        elif how == 1:
            pdu += bytes(rng.below(4) + 1)
        for _ in range(rng.below(4)):
            if pdu:
                pdu[rng.below(len(pdu))] ^= 1 << rng.below(8)
        for machine in (_lean_rx(MemoryFileStore(1 << 16)), LeanSender(src, "in.bin", "x.bin", 5, 9, 42, 0)):
            try:
                machine.feed(bytes(pdu), 0)
                machine.poll(10)
                kinds.add("taken")
            except errors.ProtocolError as e:
                kinds.add(type(e).__name__)
    assert "taken" in kinds and "TruncatedError" in kinds and "FieldValueError" in kinds


def test_data_past_the_metadatas_file_size_is_a_file_size_error_in_both():
    hdr = cfdp.PduHeader(5, 42, 9)
    md = cd.Metadata(hdr, 1000, "in.bin", "out.bin").pack()
    past = cfdp.FileData(hdr, 1500, b"x" * 10).pack()
    for first, then in ((md, past), (past, md)):  # the Metadata first, or the data first
        both = Lockstep(Receiver(MemoryFileStore(), 9, 0, **TIMERS), _lean_rx(MemoryFileStore()))
        both.feed(first, 0)
        both.feed(then, 10)
        both.poll(20)
        _same_end(both)
        assert both.lean.condition == cd.FILE_SIZE_ERROR
    # before any Metadata a wild offset meets the store's quota: a filestore rejection, no RAM asked
    store = MemoryFileStore(max_size=4096)
    rx = _lean_rx(store)
    rx.feed(cfdp.FileData(cfdp.PduHeader(5, 42, 9, large=True), 1 << 40, b"x").pack(), 0)
    assert rx.condition == cd.FILESTORE_REJECTION and store.files == {}
