"""CCSDS 727.0-B-5 CFDP Metadata PDU (5.2.5), the directive that opens a transaction. See
protocols/cfdp_directives.py for the conventions; protocols.cfdp.decode and
protocols.cfdp_directives (cfdp_directives.Metadata) find this class.
"""

from protocols.cfdp import check_uint, get_uint, need, put_uint
from protocols.cfdp_directives import METADATA, Directive, _nibble, _put_tlv, _tlv_len, _tlvs
from protocols.errors import EncodeError


class Metadata(Directive):
    """Metadata (5.2.5): closure requested, checksum type, file size, source and destination
    file names (bytes; a str is UTF-8 encoded) and options (a list of raw (type, value) TLVs)."""

    CODE = METADATA
    NAME = "cfdp.metadata"

    def __init__(self, header, file_size, source_name, dest_name, checksum_type=0, closure=False, options=()):
        self.header = header
        self.file_size = file_size
        self.source_name = source_name.encode() if isinstance(source_name, str) else bytes(source_name)
        self.dest_name = dest_name.encode() if isinstance(dest_name, str) else bytes(dest_name)
        self.checksum_type = checksum_type
        self.closure = bool(closure)
        self.options = list(options)

    def _size(self, hdr):
        name = self.NAME
        _nibble(self, ".checksum_type", self.checksum_type)
        check_uint(name + ".file_size", self.file_size, hdr.fss())
        n = 1 + hdr.fss() + _tlv_len(name + ".source_name", self.source_name) - 1
        n += _tlv_len(name + ".dest_name", self.dest_name) - 1
        for tlv_type, value in self.options:
            if type(tlv_type) is not int or not 0 <= tlv_type <= 255:
                raise EncodeError(name + ".options", "TLV type 0..255, got %r" % (tlv_type,))
            n += _tlv_len(name + ".options", value)
        return n

    def _write(self, hdr, buf, pos):
        buf[pos] = (self.closure << 6) | self.checksum_type
        pos = put_uint(buf, pos + 1, self.file_size, hdr.fss())
        for name in (self.source_name, self.dest_name):
            n = len(name)
            buf[pos] = n
            buf[pos + 1 : pos + 1 + n] = name
            pos += 1 + n
        for tlv_type, value in self.options:
            pos = _put_tlv(buf, pos, tlv_type, value)

    @classmethod
    def _read(cls, hdr, data, pos, end):
        fss = hdr.fss()
        need(cls.NAME, data, pos, 1 + fss, end)
        first = data[pos]
        size = get_uint(data, pos + 1, fss)
        pos += 1 + fss
        names = []
        for field in (".source_name", ".dest_name"):
            field = cls.NAME + field
            need(field, data, pos, 1, end)
            n = data[pos]
            need(field, data, pos + 1, n, end)
            names.append(bytes(data[pos + 1 : pos + 1 + n]))
            pos += 1 + n
        options = _tlvs(cls.NAME + ".options", data, pos, end)
        return cls(hdr, size, names[0], names[1], first & 0x0F, (first >> 6) & 1, options)
