"""A small CBOR (RFC 8949) codec for flight payloads, byte-identical to cbor2's defaults.

Supported: integers up to 64 bits, byte and text strings, arrays, maps (insertion
order kept), booleans, null, floats (finite ones encoded as doubles like cbor2;
infinities and NaN as half-precision), and tags (decoded to Tag). Indefinite
lengths and other simple values are rejected with a clear error.
"""

import struct

from protocols.errors import DecodeError, EncodeError, FieldValueError, OversizedError, TruncatedError

MAX_DEPTH = 16


class Tag:
    def __init__(self, tag, value):
        self.tag = tag
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Tag) and self.tag == other.tag and self.value == other.value

    def __repr__(self):
        return "Tag(%d, %r)" % (self.tag, self.value)


def _head(out, major, n):
    if n < 24:
        out.append((major << 5) | n)
    elif n < 0x100:
        out.append((major << 5) | 24)
        out.append(n)
    elif n < 0x10000:
        out.append((major << 5) | 25)
        out.extend(struct.pack(">H", n))
    elif n < 0x100000000:
        out.append((major << 5) | 26)
        out.extend(struct.pack(">I", n))
    elif n < 0x10000000000000000:
        out.append((major << 5) | 27)
        out.extend(struct.pack(">Q", n))
    else:
        raise EncodeError("cbor.int", "does not fit 64 bits: %r" % (n,))


def _encode(out, obj, depth):
    if depth > MAX_DEPTH:
        raise EncodeError("cbor.depth", "nesting deeper than %d" % MAX_DEPTH)
    if obj is None:
        out.append(0xF6)
    elif obj is True:
        out.append(0xF5)
    elif obj is False:
        out.append(0xF4)
    elif isinstance(obj, int):
        if obj >= 0:
            _head(out, 0, obj)
        else:
            _head(out, 1, -1 - obj)
    elif isinstance(obj, float):
        if obj != obj:
            out.extend(b"\xf9\x7e\x00")
        elif obj in (float("inf"), float("-inf")):
            out.extend(b"\xf9\x7c\x00" if obj > 0 else b"\xf9\xfc\x00")
        else:
            out.append(0xFB)
            out.extend(struct.pack(">d", obj))
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        _head(out, 2, len(obj))
        out.extend(obj)
    elif isinstance(obj, str):
        raw = obj.encode("utf-8")
        _head(out, 3, len(raw))
        out.extend(raw)
    elif isinstance(obj, (list, tuple)):
        _head(out, 4, len(obj))
        for item in obj:
            _encode(out, item, depth + 1)
    elif isinstance(obj, dict):
        _head(out, 5, len(obj))
        for key in obj:
            _encode(out, key, depth + 1)
            _encode(out, obj[key], depth + 1)
    elif isinstance(obj, Tag):
        _head(out, 6, obj.tag)
        _encode(out, obj.value, depth + 1)
    else:
        raise EncodeError("cbor.type", "unsupported type %s" % type(obj).__name__)


def dumps(obj):
    out = bytearray()
    _encode(out, obj, 0)
    return bytes(out)


def _half_to_float(h):
    sign = -1.0 if h & 0x8000 else 1.0
    exp = (h >> 10) & 0x1F
    frac = h & 0x3FF
    if exp == 0:
        return sign * frac * 2.0**-24
    if exp == 31:
        return sign * float("inf") if frac == 0 else float("nan")
    return sign * (1024 + frac) * 2.0 ** (exp - 25)


class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n, field):
        if len(self.data) - self.pos < n:
            raise TruncatedError(field, self.pos, n, len(self.data) - self.pos)
        start = self.pos
        self.pos += n
        return self.data[start : self.pos]

    def head(self):
        start = self.pos
        ib = self.take(1, "cbor.head")[0]
        major = ib >> 5
        info = ib & 0x1F
        if info < 24:
            return major, info, start
        if info == 24:
            return major, self.take(1, "cbor.argument")[0], start
        if info == 25:
            return major, struct.unpack(">H", self.take(2, "cbor.argument"))[0], start
        if info == 26:
            return major, struct.unpack(">I", self.take(4, "cbor.argument"))[0], start
        if info == 27:
            return major, struct.unpack(">Q", self.take(8, "cbor.argument"))[0], start
        raise FieldValueError("cbor.additional_info", start, "unsupported additional information %d" % info)


def _decode(r, depth):
    if depth > MAX_DEPTH:
        raise FieldValueError("cbor.depth", r.pos, "nesting deeper than %d" % MAX_DEPTH)
    ib_pos = r.pos
    if ib_pos < len(r.data) and r.data[ib_pos] >> 5 == 7:
        ib = r.take(1, "cbor.head")[0]
        info = ib & 0x1F
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22:
            return None
        if info == 25:
            return _half_to_float(struct.unpack(">H", r.take(2, "cbor.float16"))[0])
        if info == 26:
            return struct.unpack(">f", r.take(4, "cbor.float32"))[0]
        if info == 27:
            return struct.unpack(">d", r.take(8, "cbor.float64"))[0]
        raise FieldValueError("cbor.simple", ib_pos, "unsupported simple value %d" % info)
    major, n, start = r.head()
    if major == 0:
        return n
    if major == 1:
        return -1 - n
    if major in (2, 3):
        if n > len(r.data) - r.pos:  # checked before allocating anything
            raise TruncatedError("cbor.string", r.pos, n, len(r.data) - r.pos)
        raw = bytes(r.take(n, "cbor.string"))
        if major == 2:
            return raw
        try:
            return raw.decode("utf-8")
        except UnicodeError:
            raise FieldValueError("cbor.text", start, "invalid UTF-8") from None
    if major == 4:
        if n > len(r.data) - r.pos:  # every item needs at least one byte
            raise TruncatedError("cbor.array", r.pos, n, len(r.data) - r.pos)
        return [_decode(r, depth + 1) for _ in range(n)]
    if major == 5:
        if 2 * n > len(r.data) - r.pos:
            raise TruncatedError("cbor.map", r.pos, 2 * n, len(r.data) - r.pos)
        out = {}
        for _ in range(n):
            key_pos = r.pos
            key = _decode(r, depth + 1)
            if isinstance(key, (list, dict, Tag)):
                raise FieldValueError("cbor.map_key", key_pos, "unhashable map key")
            out[key] = _decode(r, depth + 1)
        return out
    return Tag(n, _decode(r, depth + 1))  # major 6


def loads(data):
    """Decode exactly one CBOR item; trailing bytes are an error."""
    r = _Reader(memoryview(data) if not isinstance(data, memoryview) else data)
    value = _decode(r, 0)
    if r.pos != len(data):
        raise OversizedError("cbor", r.pos, r.pos, len(data))
    return value


__all__ = ["DecodeError", "Tag", "dumps", "loads"]
