"""KISS framing (as used by TNCs, Dire Wolf, and our serial links).

frame = FEND | command byte (port << 4 | command) | escaped payload | FEND
Escaping: FEND -> FESC TFEND, FESC -> FESC TFESC. Consecutive FENDs delimit empty
frames, which are ignored, so a sender may start every frame with FEND to flush
line noise or console text that arrived before it.
"""

from protocols.errors import EncodeError

FEND = 0xC0
FESC = 0xDB
TFEND = 0xDC
TFESC = 0xDD
CMD_DATA = 0x00


def encode(payload, port=0, command=CMD_DATA):
    if not 0 <= port <= 15 or not 0 <= command <= 15:
        raise EncodeError("kiss.command", "port and command must be 0..15, got %r/%r" % (port, command))
    out = bytearray()
    out.append(FEND)
    out.append((port << 4) | command)
    for b in payload:
        if b == FEND:
            out.append(FESC)
            out.append(TFEND)
        elif b == FESC:
            out.append(FESC)
            out.append(TFESC)
        else:
            out.append(b)
    out.append(FEND)
    return bytes(out)


class KissDecoder:
    """Streaming decoder: feed arbitrary chunks, get (port, command, payload) tuples.

    A frame longer than `max_frame` is dropped (counted in `oversized`) and the decoder
    waits for the next FEND; a FESC followed by anything but TFEND/TFESC drops the frame
    (counted in `bad_escapes`). Bytes before the first FEND are noise (`noise_bytes`).
    """

    def __init__(self, max_frame=2048):
        self.max_frame = max_frame
        self._buf = bytearray()
        self._in_frame = False
        self._escape = False
        self._discard = False
        self.frames = 0
        self.oversized = 0
        self.bad_escapes = 0
        self.noise_bytes = 0

    def feed(self, chunk):
        out = []
        buf = self._buf
        for b in chunk:
            if b == FEND:
                if self._in_frame and not self._discard and not self._escape and len(buf) >= 1:
                    out.append((buf[0] >> 4, buf[0] & 0x0F, bytes(buf[1:])))
                    self.frames += 1
                elif self._escape and not self._discard:
                    self.bad_escapes += 1
                buf[:] = b""
                self._in_frame = True
                self._escape = False
                self._discard = False
                continue
            if not self._in_frame:
                self.noise_bytes += 1
                continue
            if self._discard:
                continue
            if self._escape:
                self._escape = False
                if b == TFEND:
                    b = FEND
                elif b == TFESC:
                    b = FESC
                else:
                    self.bad_escapes += 1
                    self._discard = True
                    continue
            elif b == FESC:
                self._escape = True
                continue
            if len(buf) > self.max_frame:  # command byte + max_frame payload bytes
                self.oversized += 1
                self._discard = True
                buf[:] = b""
                continue
            buf.append(b)
        return out
