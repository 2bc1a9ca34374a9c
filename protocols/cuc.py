"""CCSDS 301.0-B CCSDS Unsegmented time Code (CUC), the PUS-C TM time field.

Level-1 CUC with the CCSDS epoch (1958-01-01 TAI) or a mission epoch (level 2);
the P-field octet says how many coarse (1..4) and fine (0..3) octets follow:
  bit 0 extension (0) | bits 1-3 time code id (001 level 1, 010 level 2)
  | bits 4-5 coarse octets - 1 | bits 6-7 fine octets
Missions usually fix the format and omit the P-field ("implicit"), which is the
default here: 4 coarse + 2 fine octets = 6 bytes, resolution 2^-16 s.
"""

from protocols.errors import EncodeError, FieldValueError, TruncatedError

LEVEL1 = 1
LEVEL2 = 2


def p_field(coarse=4, fine=2, level=LEVEL1):
    if not 1 <= coarse <= 4 or not 0 <= fine <= 3:
        raise EncodeError("cuc.p_field", "coarse must be 1..4 and fine 0..3, got %d/%d" % (coarse, fine))
    return (level << 4) | ((coarse - 1) << 2) | fine


def split_seconds(seconds, fine_octets=2):
    """(coarse, fine) of a time in seconds, the fine part rounded to its resolution."""
    coarse = int(seconds)
    fine = int((seconds - coarse) * (1 << (8 * fine_octets)) + 0.5)
    if fine >> (8 * fine_octets):  # rounding carried into the next second
        coarse += 1
        fine = 0
    return coarse, fine


class CucTime:
    """Seconds since the epoch as (coarse, fine) with `fine` in units of 2^-(8*fine_octets) s."""

    def __init__(self, coarse, fine=0, coarse_octets=4, fine_octets=2, with_p_field=False, level=LEVEL1):
        if not 0 <= coarse < (1 << (8 * coarse_octets)):
            raise EncodeError("cuc.coarse", "does not fit %d octets: %r" % (coarse_octets, coarse))
        if not 0 <= fine < (1 << (8 * fine_octets)):
            raise EncodeError("cuc.fine", "does not fit %d octets: %r" % (fine_octets, fine))
        p_field(coarse_octets, fine_octets, level)  # validates the octet counts
        self.coarse = coarse
        self.fine = fine
        self.coarse_octets = coarse_octets
        self.fine_octets = fine_octets
        self.with_p_field = with_p_field
        self.level = level

    @classmethod
    def from_seconds(cls, seconds, coarse_octets=4, fine_octets=2, with_p_field=False, level=LEVEL1):
        coarse, fine = split_seconds(seconds, fine_octets)
        return cls(coarse, fine, coarse_octets, fine_octets, with_p_field, level)

    def seconds(self):
        return self.coarse + self.fine / (1 << (8 * self.fine_octets))

    def __len__(self):
        return (1 if self.with_p_field else 0) + self.coarse_octets + self.fine_octets

    def __eq__(self, other):
        return isinstance(other, CucTime) and self.pack() == other.pack()

    def __repr__(self):
        return "CucTime(%d + %d/2^%d s)" % (self.coarse, self.fine, 8 * self.fine_octets)

    def pack(self):
        out = bytearray()
        if self.with_p_field:
            out.append(p_field(self.coarse_octets, self.fine_octets, self.level))
        for shift in range(8 * (self.coarse_octets - 1), -1, -8):
            out.append((self.coarse >> shift) & 0xFF)
        for shift in range(8 * (self.fine_octets - 1), -1, -8):
            out.append((self.fine >> shift) & 0xFF)
        return bytes(out)

    @classmethod
    def unpack(cls, data, offset=0, coarse_octets=4, fine_octets=2, with_p_field=False):
        """Parse a CUC field; with_p_field=True reads the octet counts from the P-field."""
        pos = offset
        level = LEVEL1
        if with_p_field:
            if len(data) <= pos:
                raise TruncatedError("cuc.p_field", pos, 1, 0)
            p = data[pos]
            level = (p >> 4) & 0x7
            if p & 0x80 or level not in (LEVEL1, LEVEL2):
                raise FieldValueError("cuc.p_field", pos, "unsupported P-field 0x%02X" % p)
            coarse_octets = ((p >> 2) & 3) + 1
            fine_octets = p & 3
            pos += 1
        need = coarse_octets + fine_octets
        if len(data) - pos < need:
            raise TruncatedError("cuc.t_field", pos, need, max(0, len(data) - pos))
        coarse = 0
        for i in range(coarse_octets):
            coarse = (coarse << 8) | data[pos + i]
        fine = 0
        for i in range(fine_octets):
            fine = (fine << 8) | data[pos + coarse_octets + i]
        return cls(coarse, fine, coarse_octets, fine_octets, with_p_field, level)
