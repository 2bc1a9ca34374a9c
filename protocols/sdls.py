"""SDLS-style authentication of TC frames (after CCSDS 355.0-B, authentication only).

Frame data field layout:  security header | payload | security trailer
  security header  = SPI (16 bits, selects the security association) | sequence number (32 bits)
  security trailer = MAC: HMAC-SHA256 truncated to `mac_len` bytes (16 by default)
The MAC covers the TC primary header (so SCID/VCID/flags cannot be changed), the security
header and the payload. A frame is accepted only if its SPI is known and allowed on its
virtual channel, its MAC verifies (constant-time compare) and its sequence number is
above the last one accepted and at most `window` ahead (anti-replay; window=None accepts any
number above the last, for senders whose counter is a clock). Keys stay inside
`SecurityAssociation` objects: their repr and every error message omit them.

Runs on MicroPython: only hashlib.sha256 is needed (HMAC is built here, RFC 2104). Protecting
frames (protect, protected_len, secure_frame) is the ground's: protocols/sdls_ground.py, which
a board never loads; those names here import it on first use.
"""

import struct

try:
    import hashlib
except ImportError:  # pragma: no cover - some MicroPython ports name it uhashlib
    import uhashlib as hashlib

from protocols._lazy import forward
from protocols.errors import AuthenticationError, EncodeError, ReplayError, TruncatedError

HEADER_LEN = 6
BLOCK = 64
# A receiver that keeps its anti-replay counter in flash writes it once every PERSIST_STRIDE frames,
# as a high-water mark (last accepted + PERSIST_STRIDE), not after every frame: after a restart it
# accepts only numbers above the mark, so nothing it accepted can be replayed, and a sender that
# sees the receiver restart moves its own counter on by PERSIST_STRIDE.
PERSIST_STRIDE = 16


def _pads(key):
    """The RFC 2104 inner and outer key blocks (key XOR ipad, key XOR opad)."""
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    inner = bytearray(BLOCK)
    outer = bytearray(BLOCK)
    for i in range(BLOCK):
        b = key[i] if i < len(key) else 0
        inner[i] = b ^ 0x36
        outer[i] = b ^ 0x5C
    return inner, outer


def _hmac(pads, parts):
    inner = hashlib.sha256(pads[0])
    for part in parts:
        inner.update(part)
    outer = hashlib.sha256(pads[1])
    outer.update(inner.digest())
    return outer.digest()


def hmac_sha256(key, msg):
    """RFC 2104 HMAC with SHA-256 (MicroPython has no hmac module)."""
    return _hmac(_pads(key), (msg,))


def _equal(a, b):
    """Constant-time comparison: timing does not reveal how many MAC bytes matched."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


class SecurityAssociation:
    def __init__(self, spi, key, vcids=None, mac_len=16, window=64):
        if not 0 < spi < 0xFFFF:
            raise EncodeError("sdls.spi", "must be 1..65534, got %r" % (spi,))
        if len(key) < 16:
            raise EncodeError("sdls.key", "must be at least 16 bytes")
        if not 8 <= mac_len <= 32:
            raise EncodeError("sdls.mac_len", "must be 8..32 bytes")
        self.spi = spi
        self._key = bytes(key)
        self._pads_of = None  # the key _pads were made from (the key may be replaced: rekey, restore)
        self._pads = None
        self.vcids = vcids  # None: any virtual channel
        self.mac_len = mac_len
        self.window = window
        self.last_sn = 0  # receiver: last accepted; sender: last used
        self.key_version = 1

    def __repr__(self):
        return "SecurityAssociation(spi=%d, key=<redacted v%d>, last_sn=%d)" % (
            self.spi,
            self.key_version,
            self.last_sn,
        )

    def mac(self, primary_header, sec_header, payload):
        # the key blocks are kept and the parts hashed in place: a frame's check allocates only
        # the hash objects and the digests (a board verifies every uplink frame)
        if self._pads_of is not self._key:
            self._pads = _pads(self._key)
            self._pads_of = self._key
        return _hmac(self._pads, (primary_header, sec_header, payload))[: self.mac_len]

    def wrap_key(self, new_key, sn):
        """The new key encrypted under the current one (keystream = HMAC(key, 'rekey' | sn))."""
        stream = hmac_sha256(self._key, b"rekey" + struct.pack(">I", sn))
        stream += hmac_sha256(self._key, b"rekey2" + struct.pack(">I", sn))
        if len(new_key) > len(stream):
            raise EncodeError("sdls.key", "at most 64 bytes")
        return bytes(new_key[i] ^ stream[i] for i in range(len(new_key)))

    def install_wrapped_key(self, wrapped, sn):
        self._key = self.wrap_key(wrapped, sn)  # XOR with the same keystream unwraps
        self.key_version += 1
        self.last_sn = 0


class SecurityEndpoint:
    """Receiver side: verifies frames against its security associations and counts every rejection."""

    def __init__(self, associations):
        self.sas = {}
        for sa in associations:
            self.sas[sa.spi] = sa
        self.accepted = 0
        self.bad_mac = 0
        self.replayed = 0
        self.unknown_spi = 0
        self.truncated = 0
        self.wrong_vc = 0

    def verify(self, primary_header, data_field, vcid=0):
        """Payload of an authentic, fresh frame; raises a specific ProtocolError otherwise."""
        if len(data_field) < HEADER_LEN:
            self.truncated += 1
            raise TruncatedError("sdls.header", 0, HEADER_LEN, len(data_field))
        spi, sn = struct.unpack_from(">HI", data_field, 0)
        sa = self.sas.get(spi)
        if sa is None:
            self.unknown_spi += 1
            raise AuthenticationError("sdls.spi", 0, "unknown security association %d" % spi)
        if sa.vcids is not None and vcid not in sa.vcids:
            self.wrong_vc += 1
            raise AuthenticationError("sdls.spi", 0, "association %d not allowed on VC %d" % (spi, vcid))
        end = len(data_field) - sa.mac_len
        if end < HEADER_LEN:
            self.truncated += 1
            raise TruncatedError("sdls.trailer", HEADER_LEN, sa.mac_len, len(data_field) - HEADER_LEN)
        mv = memoryview(data_field)
        payload = mv[HEADER_LEN:end]
        want = sa.mac(primary_header, mv[:HEADER_LEN], payload)
        if not _equal(want, mv[end:]):
            self.bad_mac += 1
            raise AuthenticationError("sdls.mac", end, "MAC does not verify")
        # the sequence number is trusted only after the MAC: a forger cannot burn the window
        if sn <= sa.last_sn or (sa.window is not None and sn > sa.last_sn + sa.window):
            self.replayed += 1
            raise ReplayError("sdls.sequence_number", 2, sa.last_sn, sn)
        sa.last_sn = sn
        self.accepted += 1
        return bytes(payload)


# the sender's side (the ground's), imported on first use: a board only verifies
__getattr__ = forward("protocols.sdls", "protocols.sdls_ground", ("protect", "protected_len", "secure_frame"))
