"""SDLS sender side (the ground's): protect a TC frame's data field under a security association.

A board only verifies (protocols.sdls.SecurityEndpoint), so it never loads this module;
sdls.protect, sdls.protected_len and sdls.secure_frame reach it too."""

import struct

from protocols.sdls import HEADER_LEN


def protect(sa, primary_header, payload):
    """Data field (security header + payload + MAC) for a frame whose primary header is given.

    The caller builds the TC frame with this data field; `primary_header` must be the 5 header
    bytes the frame will carry (use tcframe.TcFrame(...).pack()[:5] of a frame with this length).
    """
    sa.last_sn += 1
    sec = struct.pack(">HI", sa.spi, sa.last_sn)
    return sec + bytes(payload) + sa.mac(primary_header, sec, payload)


def protected_len(sa, payload_len):
    return HEADER_LEN + payload_len + sa.mac_len


def secure_frame(sa, scid, vcid, seq, payload, bypass=False, control=False):
    """A complete TC frame (bytes) whose data field is protected under `sa` (control: a BC frame,
    e.g. Unlock or Set V(R), authenticated like any other so nobody else can reset COP-1)."""
    bypass = bypass or control
    from protocols.tcframe import HEADER_LEN as TC_HEADER_LEN
    from protocols.tcframe import TcFrame

    n = protected_len(sa, len(payload))
    header = TcFrame(scid, vcid, bytes(n), seq=seq, bypass=bypass, control=control).pack()[:TC_HEADER_LEN]
    return TcFrame(scid, vcid, protect(sa, header, payload), seq=seq, bypass=bypass, control=control).pack()
