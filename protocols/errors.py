"""One exception hierarchy for every codec in `protocols`.

Decoders raise a specific subclass of `DecodeError` that names the field and
byte offset where the input went wrong, so a ground operator (or a flight FDIR
counter) can tell a truncated frame from a bad CRC without parsing messages.
Encoders raise `EncodeError` for arguments that do not fit the wire format.
"""


class ProtocolError(Exception):
    """Base of every error raised by `protocols`."""

    def __init__(self, message, field=None, offset=None):
        super().__init__(message)
        self.field = field
        self.offset = offset


class EncodeError(ProtocolError):
    """An argument cannot be represented on the wire (out of range, too long)."""

    def __init__(self, field, detail):
        super().__init__("%s: %s" % (field, detail), field)


class ArgumentError(EncodeError):
    """A call's argument has the wrong type or lies outside its valid range.

    A caller's mistake, not bad input bytes: the C core and the pure-Python code reject the
    same arguments with this error and the same `field` (the argument, e.g. "crc.init").
    `value` is what was passed; the message shows a number, or only the type of anything else.
    """

    def __init__(self, field, value, expected):
        shown = repr(value) if type(value) in (int, float, bool) else "a " + type(value).__name__
        super().__init__(field, "must be %s, got %s" % (expected, shown))
        self.value = value


class DecodeError(ProtocolError):
    """Input bytes are not a valid encoding. Subclasses that add nothing but their name take its
    (field, offset, detail) as they are: no __init__ of their own, a function less on a board."""

    def __init__(self, field, offset, detail):
        super().__init__("%s at offset %d: %s" % (field, offset, detail), field, offset)


class TruncatedError(DecodeError):
    """Fewer bytes than the field needs."""

    def __init__(self, field, offset, needed, got):
        super().__init__(field, offset, "truncated, need %d bytes, got %d" % (needed, got))
        self.needed = needed
        self.got = got


class OversizedError(DecodeError):
    """More bytes than the format allows."""

    def __init__(self, field, offset, limit, got):
        super().__init__(field, offset, "oversized, limit %d bytes, got %d" % (limit, got))
        self.limit = limit
        self.got = got


class MismatchError(DecodeError):
    """A field holds `got` where `expected` was due; each subclass words it in `_what`."""

    _what = "expected %d, got %d"

    def __init__(self, field, offset, expected, got):
        super().__init__(field, offset, self._what % (expected, got))
        self.expected = expected
        self.got = got


class VersionError(MismatchError):
    """A version number field holds a value this codec does not speak."""

    _what = "wrong version, expected %d, got %d"


class LengthError(MismatchError):
    """A length field disagrees with the bytes present or with the format."""

    _what = "bad length, expected %d, got %d"


class CrcError(MismatchError):
    """Checksum mismatch; `expected` is the value computed over the bytes."""

    _what = "bad CRC, computed 0x%04X, received 0x%04X"


class FieldValueError(DecodeError):
    """A field holds a value that is not allowed (reserved, out of range)."""


class UncorrectableError(DecodeError):
    """Forward error correction found more errors than it can correct."""

    def __init__(self, field, offset, detail="uncorrectable"):
        super().__init__(field, offset, detail)


class SyncError(DecodeError):
    """A sync marker or delimiter is missing where the format requires one."""


class AuthenticationError(DecodeError):
    """A frame's MAC does not verify, or its security association is unknown or not allowed."""


class ReplayError(DecodeError):
    """A frame's anti-replay sequence number is outside the accepted window (replayed or stale)."""

    def __init__(self, field, offset, last, got):
        super().__init__(field, offset, "sequence number %d not after %d (replay?)" % (got, last))
        self.last = last
        self.got = got
