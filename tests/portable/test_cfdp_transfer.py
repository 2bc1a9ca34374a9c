# upy-heapsize: 256K  the ground's full CFDP entities and every PDU module compiled from source, 64-bit
"""CFDP transactions (727.0-B-5 section 4): our sender and receiver through a lossy, reordering
in-memory channel on a fake clock, class 1 and class 2, and every timer and fault they declare."""

import os
import random

from _cfdp_link import Rng, pattern, run
from _check import raises

from protocols import cfdp, errors
from protocols import cfdp_checksum as ck
from protocols import cfdp_directives as cd
from protocols.cfdp_filestore import HostFileStore, MemoryFileStore
from protocols.cfdp_receiver import Receiver
from protocols.cfdp_sender import Sender
from protocols.cfdp_spans import add_span, contiguous, covers, gaps, squeeze

UNACK = cfdp.UNACKNOWLEDGED


def pair(
    size,
    mode=cfdp.ACKNOWLEDGED,
    closure=False,
    checksum_type=ck.MODULAR,
    seg=100,
    src=None,
    dst=None,
    **rx_kw,
):
    src = src or MemoryFileStore()
    dst = dst or MemoryFileStore()
    src.create("in.bin")
    pos = 0
    while pos < size:
        n = min(4096, size - pos)
        src.write("in.bin", pos, pattern(pos, n))
        pos += n
    tx = Sender(
        src,
        "in.bin",
        "out/got.bin",
        5,
        9,
        42,
        0,
        mode,
        closure,
        checksum_type,
        seg,
        ack_timeout_ms=200,
        ack_limit=10,
        inactivity_ms=5000,
    )
    kw = {
        "ack_timeout_ms": 200,
        "ack_limit": 10,
        "nak_timeout_ms": 200,
        "nak_limit": 10,
        "inactivity_ms": 5000,
    }
    kw.update(rx_kw)
    rx = Receiver(dst, 9, 0, **kw)
    return tx, rx, dst


def same_file(store, name, size):
    assert store.size(name) == size, (store.size(name), size)
    pos = 0
    total = ck.FileChecksum(ck.MODULAR)
    while pos < size:
        n = min(4096, size - pos)
        got = store.read(name, pos, n)
        assert got == pattern(pos, n), "bytes differ at %d" % pos
        total.update(pos, got)
        pos += n
    return total.value(size)


def test_class2_completes_through_loss_and_reordering():
    for size in (0, 1, 1000):
        for seed, drop in ((1, 10), (2, 15), (3, 20)):
            tx, rx, dst = pair(size, checksum_type=ck.CRC32 if seed == 2 else ck.MODULAR)
            _fwd, _back = run(tx, rx, seed, drop)
            assert tx.condition == cd.NO_ERROR and rx.condition == cd.NO_ERROR, (
                size,
                seed,
                tx.condition,
                rx.condition,
            )
            assert rx.delivered and tx.finished.delivery == cd.DATA_COMPLETE
            same_file(dst, "out/got.bin", size)
            assert not dst.exists(rx.temp_name)
            assert rx.checksum.value(size) == tx.checksum.value(size)


def test_class2_100000_bytes_at_20_percent_loss_through_host_file_stores():
    # a folder of its own in the current one (the board's flash on the emulated board; not every
    # MicroPython port has /tmp or os.urandom)
    n = random.getrandbits(24)
    while True:  # mkdir claims the name: another run at the same time takes the next one
        root = "cfdp-xfer-%06x" % (n & 0xFFFFFF)
        try:
            os.mkdir(root)
            break
        except OSError:
            n += 1
    src = HostFileStore(root)
    try:
        tx, rx, dst = pair(100000, seg=1000, src=src, dst=src, nak_segments=8)
        fwd, back = run(tx, rx, 7, 20)
        assert fwd.dropped > 10 and back.dropped > 0
        assert tx.condition == cd.NO_ERROR and rx.delivered and rx.condition == cd.NO_ERROR
        assert same_file(dst, "out/got.bin", 100000) == tx.checksum.value()
        assert tx.resent > 0 and rx.naks > 0
    finally:
        src.close()
        for name in ("in.bin", "out/got.bin"):
            try:
                os.remove(root + "/" + name)
            except OSError:
                pass
        os.rmdir(root + "/out")
        os.rmdir(root)


def test_class1_without_loss_delivers():
    for size in (0, 1, 1000):
        for closure in (False, True):
            tx, rx, dst = pair(size, UNACK, closure)
            run(tx, rx)
            assert tx.condition == cd.NO_ERROR and rx.condition == cd.NO_ERROR and rx.delivered
            assert (tx.finished is not None) == closure
            same_file(dst, "out/got.bin", size)


def test_class1_under_loss_fails_clearly_never_a_wrong_file():
    failed = 0
    for seed in range(1, 9):
        tx, rx, dst = pair(1000, UNACK, True, check_timeout_ms=100, check_limit=3)
        _fwd, _back = run(tx, rx, seed, 15)
        if rx.delivered:
            assert rx.condition == cd.NO_ERROR
            same_file(dst, "out/got.bin", 1000)
            continue
        failed += 1
        assert rx.condition in (cd.CHECK_LIMIT_REACHED, cd.INACTIVITY_DETECTED), rx.condition
        assert rx.finished.delivery == cd.DATA_INCOMPLETE and rx.finished.file_status == cd.FILE_DISCARDED
        assert not dst.exists("out/got.bin") and not dst.exists(rx.temp_name)
        assert tx.condition in (rx.condition, cd.INACTIVITY_DETECTED)
    assert failed >= 3, failed


def test_inactivity_at_the_receiver_on_a_fake_clock():
    tx, rx, dst = pair(1000, inactivity_ms=3000)
    first = tx.poll(0)  # Metadata and 8 File Data PDUs; then the sender goes silent
    for pdu in first:
        rx.feed(pdu, 0)
    assert rx.poll(2999) == [] and not rx.done
    out = rx.poll(3000)
    assert rx.condition == cd.INACTIVITY_DETECTED and not rx.delivered
    fin = cfdp.decode(out[-1])
    assert type(fin) is cd.Finished and fin.condition == cd.INACTIVITY_DETECTED and fin.fault_location == 9
    assert not dst.exists(rx.temp_name)


def test_sender_positive_ack_limit_and_inactivity():
    tx, rx, _ = pair(10)
    eofs = 0
    now = 0
    while not tx.done:  # nothing ever comes back
        eofs += sum(1 for p in tx.poll(now) if type(cfdp.decode(p)) is cd.Eof)
        now += 50
    assert tx.condition == cd.POSITIVE_ACK_LIMIT_REACHED and eofs == tx.ack_limit == 10
    assert now == 10 * 200 + 50
    tx, rx, _dst = pair(10)
    for pdu in tx.poll(0):
        rx.feed(pdu, 0)
    for pdu in rx.poll(0):  # the EOF's ACK arrives; the Finished is lost
        if type(cfdp.decode(pdu)) is cd.Ack:
            tx.feed(pdu, 0)
    assert tx.poll(4999) == [] and not tx.done
    out = tx.poll(5000)
    assert tx.condition == cd.INACTIVITY_DETECTED
    assert cfdp.decode(out[0]).condition == cd.INACTIVITY_DETECTED  # an EOF (cancel)


def test_nak_limit_and_finished_ack_limit():
    tx, rx, _ = pair(1000, nak_limit=3)
    pdus = tx.poll(0) + tx.poll(0)
    for pdu in pdus:
        if type(cfdp.decode(pdu)) is not cfdp.FileData or cfdp.decode(pdu).offset != 300:
            rx.feed(pdu, 0)
    assert rx.missing() == [(300, 400)]
    naks = 0
    now = 0
    while not rx.done:
        naks += sum(1 for p in rx.poll(now) if type(cfdp.decode(p)) is cd.Nak)
        now += 100
    assert rx.condition == cd.NAK_LIMIT_REACHED and naks >= 2
    tx, rx, _dst = pair(5, ack_limit=3)
    for pdu in tx.poll(0):
        rx.feed(pdu, 0)
    assert rx.delivered and rx.state == 1
    fins = 0
    now = 0
    while not rx.done:
        fins += sum(1 for p in rx.poll(now) if type(cfdp.decode(p)) is cd.Finished)
        now += 100
    assert rx.condition == cd.POSITIVE_ACK_LIMIT_REACHED and rx.delivered and fins == 3


def test_checksum_failure_and_file_size_error():
    tx, rx, dst = pair(300)
    for pdu in tx.poll(0):
        p = cfdp.decode(pdu)
        if type(p) is cd.Eof:
            pdu = cd.Eof(p.header, p.file_size, p.checksum ^ 1).pack()
        rx.feed(pdu, 0)
    assert rx.condition == cd.FILE_CHECKSUM_FAILURE and not rx.delivered and not dst.exists("out/got.bin")
    tx, rx, dst = pair(300)
    for pdu in tx.poll(0):
        p = cfdp.decode(pdu)
        if type(p) is cd.Eof:
            pdu = cd.Eof(p.header, 250, p.checksum).pack()
        rx.feed(pdu, 0)
    assert rx.condition == cd.FILE_SIZE_ERROR and rx.finished.file_status == cd.FILE_DISCARDED


def test_cancel_and_eof_cancel():
    tx, rx, dst = pair(1000)
    for pdu in tx.poll(0):
        rx.feed(pdu, 0)
    tx.cancel()
    assert tx.done and tx.condition == cd.CANCEL_REQUEST_RECEIVED
    for pdu in tx.poll(10):
        rx.feed(pdu, 10)
    assert rx.condition == cd.CANCEL_REQUEST_RECEIVED and rx.finished.fault_location == 5
    assert not rx.delivered and not dst.exists(rx.temp_name)


def test_a_receiver_resumes_from_its_checkpoint_after_a_reset():
    # the sender goes on while the receiver is "off": what arrived after the checkpoint is lost
    # with the RAM, the temporary file keeps what the checkpoint names, the gaps are NAKed
    tx, rx, dst = pair(5000, seg=200)
    now = 0
    kept = None
    while tx.progress < 3000:
        for pdu in tx.poll(now):
            rx.feed(pdu, now)
            if tx.progress <= 2000:
                kept = rx.checkpoint()
        now += 10
    md, eof, spans = kept
    held = contiguous(spans)
    assert eof is None and 0 < held < tx.progress and cd.Metadata.unpack(md).dest_name == b"out/got.bin"
    lost = tx.progress - held
    rx2 = Receiver(dst, 9, now, ack_timeout_ms=200, nak_timeout_ms=200, inactivity_ms=5000)
    rx2.resume(md, eof, spans, now)
    assert rx2.progress == held and rx2.metadata is not None
    run(tx, rx2)
    assert tx.condition == cd.NO_ERROR and rx2.condition == cd.NO_ERROR and rx2.delivered
    same_file(dst, "out/got.bin", 5000)
    assert tx.resent >= lost  # what the receiver took after its checkpoint went again


def test_a_resumed_receiver_that_had_the_eof_naks_the_gaps_at_once():
    tx, rx, dst = pair(3000, seg=500)
    pdus = []
    now = 0
    while now < 1000 and not any(type(cfdp.decode(p)) is cd.Eof for p in pdus):
        pdus += tx.poll(now)
        now += 10
    for pdu in pdus:
        got = cfdp.decode(pdu)
        if type(got) is cfdp.FileData and got.offset == 1000:
            continue  # one segment lost on the way
        rx.feed(pdu, now)
    md, eof, spans = rx.checkpoint()
    assert eof is not None and len(spans) == 2
    rx2 = Receiver(dst, 9, now, ack_timeout_ms=200, nak_timeout_ms=200)
    rx2.resume(md, eof, spans, now)
    out = [cfdp.decode(p) for p in rx2.poll(now)]
    naks = [p for p in out if type(p) is cd.Nak]
    assert naks and naks[0].segments == [(1000, 1500)], out
    assert any(type(p) is cd.Ack for p in out)  # the EOF acknowledged again


def test_a_receiver_cancels_with_the_condition_it_is_given():
    tx, rx, dst = pair(1000)
    for pdu in tx.poll(0):
        rx.feed(pdu, 0)
    rx.cancel(cd.FILESTORE_REJECTION)
    assert rx.condition == cd.FILESTORE_REJECTION and not rx.delivered and not dst.exists(rx.temp_name)
    run(tx, rx)
    assert tx.condition == cd.FILESTORE_REJECTION and tx.finished.condition == cd.FILESTORE_REJECTION


def test_a_host_file_store_quota_is_a_filestore_rejection():
    root = "cfdp_quota_%d" % Rng(7).below(1 << 30)
    os.mkdir(root)
    try:
        tx, rx, _dst = pair(3000, seg=500, dst=HostFileStore(root, max_size=2000))
        run(tx, rx)
        assert rx.condition == cd.FILESTORE_REJECTION and not rx.delivered
        assert tx.condition == cd.FILESTORE_REJECTION
        assert os.listdir(root) in ([], ["out"])  # the part file removed, nothing delivered
    finally:
        for name in ("out",):
            try:
                os.rmdir(root + "/" + name)
            except OSError:
                pass
        os.rmdir(root)


def test_refusals_are_protocol_errors():
    tx, rx, _dst = pair(10)
    pdus = tx.poll(0)
    rx.feed(pdus[0], 0)
    other = cd.Metadata(cfdp.PduHeader(5, 43, 9), 0, "a", "b").pack()
    assert raises(errors.FieldValueError, rx.feed, other, 0).field == "cfdp.transaction"
    assert raises(errors.FieldValueError, tx.feed, pdus[0], 0).field == "cfdp.directive_code"
    stranger = Receiver(MemoryFileStore(), 3)
    assert raises(errors.FieldValueError, stranger.feed, pdus[0], 0).field == "cfdp.header.dest_id"
    assert isinstance(raises(errors.DecodeError, rx.feed, b"\x20\x00", 0), errors.TruncatedError)
    store = MemoryFileStore()
    assert raises(errors.ArgumentError, Sender, store, "nope", "x", 1, 2, 3).field == "cfdp.filestore.name"
    store.create("f")
    assert (
        raises(errors.ArgumentError, Sender, store, "f", "x", 1, 2, 3, checksum_type=1).field
        == "cfdp.checksum.kind"
    )
    escape = Receiver(MemoryFileStore(), 2)
    escape.feed(cd.Metadata(cfdp.PduHeader(1, 3, 2), 0, "f", "../etc/passwd").pack(), 0)
    assert escape.condition == cd.FILESTORE_REJECTION


def test_spans():
    spans = []
    assert add_span(spans, 10, 20) == 10 and add_span(spans, 30, 40) == 10
    assert add_span(spans, 15, 35) == 10 and spans == [[10, 40]]
    assert add_span(spans, 0, 5) == 5 and gaps(spans, 50) == [(5, 10), (40, 50)]
    assert covers(spans, 12, 40) and not covers(spans, 3, 12) and contiguous(spans) == 5
    spans = [[0, 1], [5, 6], [7, 8], [20, 30]]
    squeeze(spans, 2)
    assert spans == [[0, 8], [20, 30]]


def test_memory_file_store():
    s = MemoryFileStore()
    s.create("a/b")
    s.write("a/b", 4, b"xy")
    assert s.read("a/b", 0, 10) == b"\0\0\0\0xy" and s.size("a/b") == 6
    s.rename("a/b", "c")
    assert s.exists("c") and not s.exists("a/b")
    s.remove("c")
    for bad in ("/etc", "a/../b", "", "a//b"):
        assert raises(errors.ArgumentError, s.create, bad).field == "cfdp.filestore.name"
