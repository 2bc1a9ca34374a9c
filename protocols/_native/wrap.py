"""Python face of the C core: the same functions, arguments and exceptions as the pure code.

Argument checks reuse the pure modules' validators so both paths raise identical
errors; the C code checks every length again on its own.
"""

from __future__ import annotations

import importlib.util
import os
from operator import add as _add
from pathlib import Path

from protocols.errors import LengthError, UncorrectableError


def _load():
    """The compiled module; PROTOCOLS_NATIVE_DIR points at an alternative build (sanitizer tests)."""
    alt = os.environ.get("PROTOCOLS_NATIVE_DIR")
    if not alt:
        from protocols._native import _core

        return _core
    found = sorted(Path(alt, "protocols", "_native").glob("_core*.so"))
    if not found:
        raise ImportError("no _core build in %s" % alt)
    spec = importlib.util.spec_from_file_location("protocols._native._core", found[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_core = _load()
ffi = _core.ffi
lib = _core.lib
_from = ffi.from_buffer

PF_EUNCORRECTABLE = -1


def crc16(data, init=0xFFFF):
    return lib.pf_crc16(_from(data), len(data), init)


def randomize(data):
    buf = bytearray(data)
    lib.pf_randomize(_from(buf), len(buf))
    return bytes(buf)


def randomize_into(buf, start=0, end=None):
    if end is None:
        end = len(buf)
    if start < 0 or end > len(buf) or start > end:
        raise IndexError("randomize_into window %d..%d outside buffer of %d" % (start, end, len(buf)))
    view = _from(buf, require_writable=True)
    lib.pf_randomize(view + start, end - start)


def _rs():
    from protocols import rs

    return rs


_DEPTHS = (1, 2, 3, 4, 5, 8)


def _arg_error(fn, *args):
    """Raise exactly what the pure code raises for these arguments (it checks first)."""
    getattr(_rs(), fn)(*args)
    raise LengthError("rs", 0, 0, 0)  # unreachable: the validators raise for every rejected input


def encode_into(data, out, interleave=1, dual_basis=True):
    n = len(data)
    if interleave not in _DEPTHS or n == 0 or n % interleave or n > 223 * interleave:
        _arg_error("encode_into_py", data, out, interleave, dual_basis)
    total = n + 32 * interleave
    if len(out) < total:
        raise LengthError("rs.out", 0, total, len(out))
    rc = lib.pf_rs_encode(
        _from(data), n, interleave, 1 if dual_basis else 0, _from(out, require_writable=True), len(out)
    )
    if rc < 0:
        raise LengthError("rs.data", 0, total, n)
    return rc


def encode(data, interleave=1, dual_basis=True):
    n = len(data)
    if interleave not in _DEPTHS or n == 0 or n % interleave or n > 223 * interleave:
        _arg_error("encode_py", data, interleave, dual_basis)
    out = bytearray(n + 32 * interleave)
    lib.pf_rs_encode(
        _from(data), n, interleave, 1 if dual_basis else 0, _from(out, require_writable=True), len(out)
    )
    return bytes(out)


_failed = ffi.new("int *")


def decode(codeblock, interleave=1, dual_basis=True):
    n = len(codeblock)
    if interleave not in _DEPTHS or n % interleave or not 33 * interleave <= n <= 255 * interleave:
        _arg_error("_block_geometry", n, interleave)
    out = bytearray(n - 32 * interleave)
    rc = lib.pf_rs_decode(
        _from(codeblock),
        n,
        interleave,
        1 if dual_basis else 0,
        _from(out, require_writable=True),
        len(out),
        _failed,
    )
    if rc >= 0:
        return bytes(out), rc
    if rc == PF_EUNCORRECTABLE:
        raise UncorrectableError("rs.codeword", _failed[0])
    raise LengthError("rs.codeblock", 0, 255 * interleave, n)


def decode_batch(blocks, block_len, interleave=1, dual_basis=True):
    if (
        interleave not in _DEPTHS
        or block_len % interleave
        or not 33 * interleave <= block_len <= 255 * interleave
    ):
        _arg_error("_block_geometry", block_len, interleave)
    if len(blocks) % block_len:
        raise LengthError("rs.blocks", 0, len(blocks) - len(blocks) % block_len, len(blocks))
    nblocks = len(blocks) // block_len
    kb = block_len - 32 * interleave
    out = bytearray(nblocks * kb)
    counts = ffi.new("int32_t[]", max(nblocks, 1))
    rc = lib.pf_rs_decode_batch(
        _from(blocks),
        len(blocks),
        block_len,
        interleave,
        1 if dual_basis else 0,
        _from(out, require_writable=True),
        len(out),
        counts,
        nblocks,
    )
    if rc < 0:
        raise LengthError("rs.blocks", 0, nblocks * block_len, len(blocks))
    return bytes(out), ffi.unpack(counts, nblocks)


def find_asm(buf, start=0, end=None):
    n = len(buf)
    if end is None or end > n:
        end = n
    if start < 0:
        start = 0
    return lib.pf_find_asm(_from(buf), n, start, end)


_next = ffi.new("size_t *")
_skipped = ffi.new("size_t *")


def _scan(buf, start, end):
    n = len(buf)
    if end is None or end > n:
        end = n
    if start < 0:
        start = 0
    if n > 0xFFFFFFFF:
        raise LengthError("spacepacket.stream", 0, 0xFFFFFFFF, n)
    cap = max((end - start) // 7 + 1, 1)
    offsets = ffi.new("uint32_t[]", cap)
    lengths = ffi.new("uint32_t[]", cap)
    count = lib.pf_scan_packets(_from(buf), n, start, end, offsets, lengths, cap, _next, _skipped)
    return ffi.unpack(offsets, count), ffi.unpack(lengths, count), _next[0], _skipped[0]


def scan_packets(buf, start=0, end=None):
    offs, lens, nxt, skipped = _scan(buf, start, end)
    return list(zip(offs, lens)), nxt, skipped


def split_packets(buf, start=0, max_len=65542):
    """scan_packets, then the packets as bytes objects; see protocols.spacepacket.split_packets_py."""
    data = buf if isinstance(buf, bytes) else bytes(buf)
    offs, lens, nxt, skipped = _scan(data, start, None)
    oversized = False
    if lens and max(lens) > max_len:
        cut = next(i for i, n in enumerate(lens) if n > max_len)
        offs, lens, nxt, oversized = offs[:cut], lens[:cut], offs[cut], True
    elif len(data) - nxt >= 6 and ((data[nxt + 4] << 8) | data[nxt + 5]) + 7 > max_len:
        oversized = True
    packets = list(map(data.__getitem__, map(slice, offs, map(_add, offs, lens))))
    return packets, nxt, skipped, oversized


def scan_arrays(buf, start=0, max_len=65542):
    """Zero-copy scan: (offsets, lengths, next_offset, skipped, oversized) as uint32 memoryviews.

    Stops before a packet longer than max_len (oversized=True, next_offset at its header).
    """
    n = len(buf)
    if n > 0xFFFFFFFF:
        raise LengthError("spacepacket.stream", 0, 0xFFFFFFFF, n)
    if start < 0:
        start = 0
    cap = max((n - start) // 7 + 1, 1)
    offsets = ffi.new("uint32_t[]", cap)
    lengths = ffi.new("uint32_t[]", cap)
    count = lib.pf_scan_packets(_from(buf), n, start, n, offsets, lengths, cap, _next, _skipped)
    nxt, skipped = _next[0], _skipped[0]
    offs = memoryview(ffi.buffer(offsets, 4 * count)).cast("I")
    lens = memoryview(ffi.buffer(lengths, 4 * count)).cast("I")
    oversized = False
    if count and max(lens) > max_len:
        cut = next(i for i in range(count) if lens[i] > max_len)
        nxt, offs, lens, oversized = offs[cut], offs[:cut], lens[:cut], True
    elif n - nxt >= 6 and ((buf[nxt + 4] << 8) | buf[nxt + 5]) + 7 > max_len:
        oversized = True
    return offs, lens, nxt, skipped, oversized
