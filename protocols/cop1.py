"""COP-1 (CCSDS 232.1-B): FARM-1 on the spacecraft, FOP-1 on the ground.

FARM-1 checks the sequence number N(S) of every type-AD frame against its V(R):
accepted only when equal; a frame ahead of V(R) (within the positive window) asks the
ground to retransmit; a frame just behind (negative window) is a duplicate; anything
else means the two ends lost each other and FARM enters Lockout until an Unlock.
Type-BD frames bypass the check; type-BC frames carry Unlock and Set V(R). The state
goes to the ground in every CLCW (`Clcw`, here with the FARM that reports it; the TM framer
puts it in each frame's OCF, protocols/tmframe.py).

FOP-1 keeps the sent-but-unacknowledged frames and retransmits them all (go-back-N)
when the CLCW asks for it or when timer T1 runs out, up to a transmission limit, after
which it alerts (suspends) instead of flooding the link. It is protocols/cop1_fop.py: a board
never loads it; cop1.Fop1 imports it on first use.
"""

import struct

from protocols import tcframe
from protocols._lazy import forward
from protocols.errors import EncodeError

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

OPEN = 1
WAIT = 2
LOCKOUT = 3

ACCEPT = "accept"
DUPLICATE = "duplicate"
AHEAD = "ahead"
LOCKED = "locked"
NO_BUFFER = "no-buffer"
BYPASS = "bypass"
CONTROL = "control"

# CLCW status fields (CCSDS 232.0-B 4.2.1)
COP_1 = const(1)


class Clcw:
    """Communications Link Control Word, reported by FARM-1 in the TM OCF (what a board builds;
    the ground reads one as a protocols.tmframe_rx.RxClcw, with pack, unpack, == and repr).

    32 bits: control word type (1, 0) | version (2, 00) | status (3) | COP in effect (2, 01)
    | VCID (6) | spare (2) | no RF available | no bit lock | lockout | wait | retransmit
    | FARM-B counter (2) | spare (1) | report value N(R) (8).
    """

    def __init__(
        self,
        vcid=0,
        report_value=0,
        lockout=False,
        wait=False,
        retransmit=False,
        farm_b_counter=0,
        no_rf=False,
        no_bitlock=False,
        status=0,
        cop_in_effect=COP_1,
    ):
        self.vcid = vcid
        self.report_value = report_value
        self.lockout = lockout
        self.wait = wait
        self.retransmit = retransmit
        self.farm_b_counter = farm_b_counter
        self.no_rf = no_rf
        self.no_bitlock = no_bitlock
        self.status = status
        self.cop_in_effect = cop_in_effect

    def word(self):
        """The CLCW as a 32-bit integer."""
        if (
            not 0 <= self.vcid <= 63
            or not 0 <= self.report_value <= 255
            or not 0 <= self.farm_b_counter <= 3
            or not 0 <= self.status <= 7
            or not 0 <= self.cop_in_effect <= 3
        ):
            raise EncodeError("clcw", "a field is out of range")
        return (
            self.status << 26
            | self.cop_in_effect << 24
            | self.vcid << 18
            | (1 if self.no_rf else 0) << 15
            | (1 if self.no_bitlock else 0) << 14
            | (1 if self.lockout else 0) << 13
            | (1 if self.wait else 0) << 12
            | (1 if self.retransmit else 0) << 11
            | self.farm_b_counter << 9
            | self.report_value
        )

    def pack_into(self, buf, offset=0):
        struct.pack_into(">I", buf, offset, self.word())


class Farm1:
    """Frame acceptance and reporting; `deliver(data)` gets the data of every accepted frame."""

    def __init__(self, vcid=0, window=10, deliver=None):
        if not 2 <= window <= 254 or window % 2:
            raise ValueError("FARM-1 window width must be even, 2..254")
        self.vcid = vcid
        self.pw = window // 2
        self.nw = window // 2
        self.vr = 0
        self.state = OPEN
        self.retransmit = False
        self.farm_b = 0
        self.deliver = deliver
        self.buffer_full = False  # set by the application when it cannot take more frames
        self.counts = {ACCEPT: 0, DUPLICATE: 0, AHEAD: 0, LOCKED: 0, NO_BUFFER: 0, BYPASS: 0, CONTROL: 0}

    def clcw(self):
        return Clcw(
            vcid=self.vcid,
            report_value=self.vr,
            lockout=self.state == LOCKOUT,
            wait=self.state == WAIT,
            retransmit=self.retransmit,
            farm_b_counter=self.farm_b & 3,
        )

    def _count(self, what):
        self.counts[what] += 1
        return what

    def receive(self, frame):
        """Run one valid (CRC-checked) TcFrame through FARM-1; returns what happened."""
        if frame.bypass:
            if frame.control:
                return self._control(frame.data)
            self.farm_b = (self.farm_b + 1) & 0xFF
            if self.deliver is not None:
                self.deliver(frame.data)
            return self._count(BYPASS)
        if self.state == LOCKOUT:
            return self._count(LOCKED)
        ns = frame.seq
        ahead = (ns - self.vr) & 0xFF
        if ahead == 0:
            if self.state == WAIT or self.buffer_full:
                self.state = WAIT
                self.retransmit = True
                return self._count(NO_BUFFER)
            self.vr = (self.vr + 1) & 0xFF
            self.retransmit = False
            if self.deliver is not None:
                self.deliver(frame.data)
            return self._count(ACCEPT)
        if ahead < self.pw:
            self.retransmit = True
            return self._count(AHEAD)
        if 256 - ahead <= self.nw:
            return self._count(DUPLICATE)
        self.state = LOCKOUT
        return self._count(LOCKED)

    def _control(self, data):
        kind, value = tcframe.parse_control(data)
        self.farm_b = (self.farm_b + 1) & 0xFF
        if kind == tcframe.CC_UNLOCK:
            self.state = OPEN
            self.retransmit = False
        elif self.state != LOCKOUT:  # Set V(R) is ignored in Lockout
            self.vr = value
            self.state = OPEN
            self.retransmit = False
        return self._count(CONTROL)

    def buffer_released(self):
        """The application took its frames: leave Wait."""
        self.buffer_full = False
        if self.state == WAIT:
            self.state = OPEN


# FOP-1, the ground's side, imported on first use
__getattr__ = forward("protocols.cop1", "protocols.cop1_fop", ("Fop1",))
