"""CCSDS 727.0-B-5 CFDP directives of the acknowledged mode's gap and progress reports (5.2.6 to
5.2.8): NAK, Prompt and Keep Alive. See protocols/cfdp_directives.py for the conventions;
protocols.cfdp.decode and protocols.cfdp_directives find these classes.
"""

from protocols.cfdp import TOWARD_SENDER, check_uint, get_uint, need, put_uint
from protocols.cfdp_directives import KEEP_ALIVE, NAK, PROMPT, PROMPT_NAK, Directive
from protocols.errors import EncodeError, FieldValueError, LengthError


class Nak(Directive):
    """NAK (5.2.6): start and end of scope and the missing segments [(start, end), ...];
    (0, 0) asks for the Metadata PDU again."""

    CODE = NAK
    DIRECTION = TOWARD_SENDER
    NAME = "cfdp.nak"

    def __init__(self, header, start, end, segments=()):
        self.header = header
        self.start = start
        self.end = end
        self.segments = list(segments)

    def _size(self, hdr):
        fss = hdr.fss()
        pairs = [(self.start, self.end)]
        pairs.extend(self.segments)
        for start, end in pairs:
            check_uint(self.NAME + ".offset", start, fss)
            check_uint(self.NAME + ".offset", end, fss)
            if start > end:
                raise EncodeError(self.NAME + ".offset", "start %d after end %d" % (start, end))
        return 2 * fss * (1 + len(self.segments))

    def _write(self, hdr, buf, pos):
        fss = hdr.fss()
        pos = put_uint(buf, pos, self.start, fss)
        pos = put_uint(buf, pos, self.end, fss)
        for start, end in self.segments:
            pos = put_uint(buf, pos, start, fss)
            pos = put_uint(buf, pos, end, fss)

    @classmethod
    def _read(cls, hdr, data, pos, end):
        fss = hdr.fss()
        need(cls.NAME, data, pos, 2 * fss, end)
        if (end - pos) % (2 * fss):
            raise LengthError(cls.NAME + ".segments", pos, (end - pos) // (2 * fss) * 2 * fss, end - pos)
        pairs = []
        while pos < end:
            start = get_uint(data, pos, fss)
            stop = get_uint(data, pos + fss, fss)
            if start > stop:
                raise FieldValueError(cls.NAME + ".offset", pos, "start %d after end %d" % (start, stop))
            pairs.append((start, stop))
            pos += 2 * fss
        return cls(hdr, pairs[0][0], pairs[0][1], pairs[1:])


class Prompt(Directive):
    """Prompt (5.2.7): asks for a NAK (0) or a Keep Alive (1)."""

    CODE = PROMPT
    NAME = "cfdp.prompt"

    def __init__(self, header, response=PROMPT_NAK):
        self.header = header
        self.response = response

    def _size(self, hdr):
        if self.response not in range(2):
            raise EncodeError(self.NAME + ".response", "must be 0 or 1, got %r" % (self.response,))
        return 1

    def _write(self, hdr, buf, pos):
        buf[pos] = self.response << 7

    @classmethod
    def _read(cls, hdr, data, pos, end):
        cls._fixed(data, pos, end, 1)
        return cls(hdr, data[pos] >> 7)


class KeepAlive(Directive):
    """Keep Alive (5.2.8): the receiver's progress (an FSS offset)."""

    CODE = KEEP_ALIVE
    DIRECTION = TOWARD_SENDER
    NAME = "cfdp.keep_alive"

    def __init__(self, header, progress):
        self.header = header
        self.progress = progress

    def _size(self, hdr):
        check_uint(self.NAME + ".progress", self.progress, hdr.fss())
        return hdr.fss()

    def _write(self, hdr, buf, pos):
        put_uint(buf, pos, self.progress, hdr.fss())

    @classmethod
    def _read(cls, hdr, data, pos, end):
        cls._fixed(data, pos, end, hdr.fss())
        return cls(hdr, get_uint(data, pos, hdr.fss()))


CLASSES = {NAK: Nak, PROMPT: Prompt, KEEP_ALIVE: KeepAlive}
