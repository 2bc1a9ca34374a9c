"""CFDP per-PDU CPU time on MicroPython: the board's lean machines against the full ones, in the
same run.

    micropython tests/bench/cfdp_timing.py        (from the repository root)

Prints "ROW name lean_us full_us" per operation, each the best of 5 batches in microseconds:
- rx_segment: the receiver takes one 1024-byte File Data PDU (decode, the modular checksum of its
  new bytes, the write at its offset into a file store on the host filesystem);
- tx_segment: the sender makes one (the read, the checksum, the PDU);
- rx_crc32_8k: the lean receiver's CRC-32 read-back of 8 KB, one poll's worth; the full one keeps
  a CRC per run as segments come: its figure is 8 segments' CRCs joined to the run (the join,
  zlib's crc32_combine, is pure Python).
tests/bench/test_cfdp_board_time_bench.py runs it and scales the figures to the boards' speed.
Not a test: nothing here asserts a time.
"""

import gc
import os
import sys
import time

sys.path.insert(0, ".")

from protocols import cfdp
from protocols import cfdp_checksum as ck
from protocols.cfdp_directives import Metadata
from protocols.cfdp_filestore import HostFileStore
from protocols.cfdp_lean_rx import Receiver as LeanReceiver
from protocols.cfdp_lean_tx import Sender as LeanSender
from protocols.cfdp_receiver import Receiver
from protocols.cfdp_sender import Sender

SEG = 1024
N = 64  # segments per batch: a 64 KB file
DIR = "cfdp-timing"


def _best_us(make, run, n):
    best = None
    for _ in range(5):
        state = make()
        gc.collect()
        t0 = time.ticks_us()
        run(state, n)
        us = time.ticks_diff(time.ticks_us(), t0) / n
        if best is None or us < best:
            best = us
    return best


def _pdus():
    hdr = cfdp.PduHeader(2, 7, 1)
    out = [cfdp.FileData(hdr, i * SEG, bytes((i + j) & 0xFF for j in range(SEG))).pack() for i in range(N)]
    return Metadata(hdr, N * SEG, "a", "b.bin").pack(), out


def _rx(kind, md, pdus):
    def make():
        store = HostFileStore(DIR)
        rx = LeanReceiver(store, 1, 0) if kind == "lean" else Receiver(store, 1, 0)
        rx.feed(md, 0)
        return rx

    def run(rx, n):
        for i in range(n):
            rx.feed(pdus[i], 0)
        rx.store.close()

    return make, run


def _tx(kind):
    def make():
        store = HostFileStore(DIR)
        if kind == "lean":
            tx = LeanSender(store, "src.bin", "d.bin", 1, 2, 5, 0, 2, SEG, 1)
        else:
            tx = Sender(store, "src.bin", "d.bin", 1, 2, 5, 0, segment_len=SEG, burst=1, seq_len=2)
        tx.poll(0)  # the Metadata and the first segment
        return tx

    def run(tx, n):
        for _ in range(n):
            tx.poll(0)
        tx.store.close()

    return make, run


def _crc_lean():
    def make():
        rx = LeanReceiver(HostFileStore(DIR), 1, 0)
        rx.temp_name = "src.bin"  # a whole file: the read-back runs on it
        rx.spans = [[0, N * SEG]]
        rx.eof_size = N * SEG
        rx.checksum_type = ck.CRC32
        return rx

    def run(rx, n):
        for _ in range(n):
            rx._crc_at = 0
            rx._crc_step()  # one poll's worth: CRC_BACK bytes
        rx.store.close()

    return make, run


def _crc_full():
    data = bytes(SEG)

    def make():
        return ck.FileChecksum(ck.CRC32)

    def run(c, n):
        for _ in range(n):
            for k in range(8):  # 8 segments in order: each CRC, then joined to the run
                c.update(k * SEG, data)
            c._runs = []

    return make, run


def main():
    try:
        os.mkdir(DIR)
    except OSError:
        pass
    with open(DIR + "/src.bin", "wb") as f:
        for i in range(N):
            f.write(bytes((i + j) & 0xFF for j in range(SEG)))
    md, pdus = _pdus()
    rows = [
        ("rx_segment", _rx("lean", md, pdus), _rx("full", md, pdus), N),
        ("tx_segment", _tx("lean"), _tx("full"), N - 1),
        ("rx_crc32_8k", _crc_lean(), _crc_full(), 4),
    ]
    for name, lean, full, n in rows:
        print("ROW %s %.1f %.1f" % (name, _best_us(lean[0], lean[1], n), _best_us(full[0], full[1], n)))
    for name in os.listdir(DIR):
        os.remove(DIR + "/" + name)
    os.rmdir(DIR)


main()
