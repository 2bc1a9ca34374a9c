"""The board's CFDP receiver (protocols/cfdp_lean_rx.py) carried over a reset, loaded only then.

    rx = Receiver(store, local_id, now_ms)
    resume(rx, metadata, eof, spans, now_ms)   # from the Receiver's checkpoint() before the reset

The temporary file stays as it is, an EOF that had come is taken again (acknowledged, the gaps
NAKed), and the Receiver's poll() reads the held bytes back for the modular checksum, READ_BACK
bytes a poll (read_back), so a board's loop never stalls on a big file.
"""

from protocols import cfdp_lean as cl
from protocols.cfdp_lean_rx import PIECE
from protocols.cfdp_spans import add_span

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

READ_BACK = const(1024)  # bytes read back per poll (the modular sum, in Python)


def resume(rx, metadata, eof, spans, now_ms):
    """Carry on the transaction of `rx`, a fresh Receiver, from its checkpoint()."""
    hlen, _ = cl.parse(metadata)
    rx._open(metadata, cl.key_of(metadata, hlen), False)
    for start, end in spans:
        add_span(rx.spans, start, end)
        rx._high = max(rx._high, end)
    rx._readback = [list(s) for s in rx.spans]
    rx.feed(metadata, now_ms)
    if eof is not None:
        rx.feed(eof, now_ms)


def read_back(rx):
    """One poll's worth of the held bytes into the checksum (the Receiver's poll calls it)."""
    budget = READ_BACK
    spans = rx._readback
    while budget > 0 and spans:
        span = spans[0]
        n = min(PIECE, span[1] - span[0])
        try:
            rx._sum += cl.modular(span[0], rx.store.read(rx.temp_name, span[0], n))
        except OSError:
            rx._fault(cl.FILESTORE_REJECTION)
            return
        span[0] += n
        if span[0] >= span[1]:
            spans.pop(0)
        budget -= n
    if not spans:
        rx._check_complete()
