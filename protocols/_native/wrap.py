"""Python face of the C core: the same functions, arguments and exceptions as the pure code.

Each function first runs a fast inline check that the arguments are plainly valid (exact
types, in range); anything else goes to the pure function, which raises the canonical
protocols.errors exception (ArgumentError, LengthError, ...) or, for an unusual but valid
argument, computes the identical result. So both paths reject the same arguments with the
same exception class and field by construction; the C code checks every length again on its own.
"""

from __future__ import annotations

import importlib.util
import os
from operator import add as _add
from pathlib import Path

# _accel imports this module at its end, after span() is defined: either import order works
from protocols._accel import span
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

PF_EUNCORRECTABLE = lib.PF_EUNCORRECTABLE  # fec_core.h
_BYTES = (bytes, bytearray)


def _fast_buffer(buf):
    """protocols._accel.readable: bytes, bytearray or a flat memoryview of unsigned bytes."""
    t = type(buf)
    return t is bytes or t is bytearray or (t is memoryview and buf.format == "B" and buf.c_contiguous)


def _fast_writable(buf):
    """protocols._accel.writable: a bytearray or a writable flat memoryview of unsigned bytes."""
    t = type(buf)
    return t is bytearray or (t is memoryview and not buf.readonly and buf.format == "B" and buf.c_contiguous)


def _pure(module):
    """A pure module, imported on the slow path only (they import this one while loading)."""
    from protocols import crc, randomizer, rs, spacepacket, sync

    return {"crc": crc, "randomizer": randomizer, "rs": rs, "spacepacket": spacepacket, "sync": sync}[module]


# --- CRC and randomizer -------------------------------------------------------------------------


def crc16(data, init=0xFFFF):
    if type(init) is int and 0 <= init <= 0xFFFF and _fast_buffer(data):
        return lib.pf_crc16(_from(data), len(data), init)
    return _pure("crc").crc16_py(data, init)


def randomize(data):
    if not _fast_buffer(data):
        return _pure("randomizer").randomize_py(data)
    buf = bytearray(data)
    lib.pf_randomize(_from(buf), len(buf))
    return bytes(buf)


def randomize_into(buf, start=0, end=None):
    if _fast_writable(buf) and type(start) is int:
        n = len(buf)
        if end is None:
            end = n
        if type(end) is int and 0 <= start <= end <= n:
            view = _from(buf, require_writable=True)
            lib.pf_randomize(view + start, end - start)
            return None
    return _pure("randomizer").randomize_into_py(buf, start, end)


# --- Reed-Solomon ---------------------------------------------------------------------------------

_DEPTHS = (1, 2, 3, 4, 5, 8)


def encode_into(data, out, interleave=1, dual_basis=True):
    if not (_fast_buffer(data) and _fast_writable(out) and type(interleave) is int and interleave in _DEPTHS):
        return _pure("rs").encode_into_py(data, out, interleave, dual_basis)
    n = len(data)
    if n == 0 or n % interleave or n > 223 * interleave:
        return _pure("rs").encode_into_py(data, out, interleave, dual_basis)  # raises LengthError
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
    if not (_fast_buffer(data) and type(interleave) is int and interleave in _DEPTHS):
        return _pure("rs").encode_py(data, interleave, dual_basis)
    n = len(data)
    if n == 0 or n % interleave or n > 223 * interleave:
        return _pure("rs").encode_py(data, interleave, dual_basis)  # raises LengthError
    out = bytearray(n + 32 * interleave)
    lib.pf_rs_encode(
        _from(data), n, interleave, 1 if dual_basis else 0, _from(out, require_writable=True), len(out)
    )
    return bytes(out)


_failed = ffi.new("int *")


def _geometry_ok(n, interleave):
    return (
        type(interleave) is int
        and interleave in _DEPTHS
        and type(n) is int
        and n % interleave == 0
        and 33 * interleave <= n <= 255 * interleave
    )


def decode(codeblock, interleave=1, dual_basis=True):
    if not (_fast_buffer(codeblock) and _geometry_ok(len(codeblock), interleave)):
        return _pure("rs").decode_py(codeblock, interleave, dual_basis)  # raises for bad arguments
    n = len(codeblock)
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
    if not (_fast_buffer(blocks) and _geometry_ok(block_len, interleave)):
        return _pure("rs").decode_batch_py(blocks, block_len, interleave, dual_basis)  # raises
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


# --- scanners -------------------------------------------------------------------------------------


def find_asm(buf, start=0, end=None):
    if not (_fast_buffer(buf) and type(start) is int and (end is None or type(end) is int)):
        return _pure("sync").find_asm_py(buf, start, end)  # raises ArgumentError
    n = len(buf)
    if end is None or end > n:
        end = n
    if start < 0:
        start = 0
    if end - start < 4:  # also a negative end, or a start past the end
        return -1
    return lib.pf_find_asm(_from(buf), n, start, end)


_next = ffi.new("size_t *")
_skipped = ffi.new("size_t *")


def _bounds(buf, start, end):
    """(start, end) clamped as scan_packets_py does, or None for arguments the fast path leaves
    to the pure functions (not plain buffers or ints, or a stream over 2**32 - 1 bytes)."""
    if not _fast_buffer(buf) or type(start) is not int or not (end is None or type(end) is int):
        return None
    n = len(buf)
    if n > 0xFFFFFFFF:
        return None
    return span(n, start, end)


def _scan(buf, start, end):
    """pf_scan_packets over buf[start:end], bounds already checked and clamped by _bounds."""
    cap = (end - start) // 7 + 1
    offsets = ffi.new("uint32_t[]", cap)
    lengths = ffi.new("uint32_t[]", cap)
    count = lib.pf_scan_packets(_from(buf), len(buf), start, end, offsets, lengths, cap, _next, _skipped)
    return offsets, lengths, count, _next[0], _skipped[0]


def scan_packets(buf, start=0, end=None):
    bounds = _bounds(buf, start, end)
    if bounds is None:
        return _pure("spacepacket").scan_packets_py(buf, start, end)  # raises for bad arguments
    offsets, lengths, count, nxt, skipped = _scan(buf, *bounds)
    return list(zip(ffi.unpack(offsets, count), ffi.unpack(lengths, count))), nxt, skipped


def split_packets(buf, start=0, max_len=65542):
    """scan_packets, then the packets as bytes objects; see protocols.spacepacket.split_packets_py."""
    bounds = _bounds(buf, start, None)
    if bounds is None or type(max_len) is not int or max_len < 7:
        return _pure("spacepacket").split_packets_py(buf, start, max_len)  # raises ArgumentError
    data = buf if type(buf) is bytes else bytes(buf)
    offsets, lengths, count, nxt, skipped = _scan(data, *bounds)
    offs, lens = ffi.unpack(offsets, count), ffi.unpack(lengths, count)
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
    bounds = _bounds(buf, start, None)
    if bounds is None or type(max_len) is not int or max_len < 7:
        return _pure("spacepacket").scan_arrays_py(buf, start, max_len)  # raises ArgumentError
    offsets, lengths, count, nxt, skipped = _scan(buf, *bounds)
    offs = memoryview(ffi.buffer(offsets, 4 * count)).cast("I")
    lens = memoryview(ffi.buffer(lengths, 4 * count)).cast("I")
    oversized = False
    n = len(buf)
    if count and max(lens) > max_len:
        cut = next(i for i in range(count) if lens[i] > max_len)
        nxt, offs, lens, oversized = offs[cut], offs[:cut], lens[:cut], True
    elif n - nxt >= 6 and ((buf[nxt + 4] << 8) | buf[nxt + 5]) + 7 > max_len:
        oversized = True
    return offs, lens, nxt, skipped, oversized
