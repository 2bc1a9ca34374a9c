"""Onboard file service: CFDP file transfers over the flight link (CCSDS 727.0-B-5; the
transaction machines are the board's lean ones, protocols/cfdp_lean_rx.py and cfdp_lean_tx.py),
one incoming and one outgoing transaction at a time.

Up: the ground's PDUs arrive as TC space packets on CFDP_APID (flight/dictionary.py) through the
telecommands' own chain (CLTU, SDLS, COP-1); FlightApp hands them to `deliver`. Down:
`file_downlink` opens a Sender; its PDUs, and the receiver's ACK, NAK and Finished PDUs, go into
the TM queue as space packets on CFDP_APID. File data is queued only while the queue is less than
half full and fewer than IN_QUEUE of the sender's packets still wait in it: housekeeping and
command reports go first, and a slow or absent downlink throttles the file instead of pushing
reports out of the queue or filling the heap with segments.

RAM: FlightApp loads this module on the first CFDP packet or file command, the CFDP modules come
when a transaction opens, and all of them are released when none is left (about 20 KB of a 32-bit
board's heap as .mpy while a transfer runs, none of it while idle). Segments go straight to
flash at their offsets (the sender reads one per PDU), so a transfer never holds a file.

Refusals end the transaction at once with condition code FILESTORE_REJECTION (the Finished PDU
carries it) and a FILE_REFUSED event naming the reason: a destination outside the uplink folders
(files/; the inactive A/B slot with the admin key only, never while an update is staged), a file
larger than MAX_FILE, or less free space than the file plus DISK_MARGIN. A disk that fills up
during the transfer is the same rejection.

Power cuts: the incoming transaction's Metadata, its EOF and the spans already on flash are kept
in a slot store after the Metadata, the EOF and every CHECKPOINT segments; so are the outgoing
transaction's progress and checksum so far, every CHECKPOINT segments until its EOF is out. At
boot both resume: what the incoming temporary file holds is read back for the checksum and what
is missing (anything after the last checkpoint too) is NAKed as data or the sender's EOF comes;
the outgoing one sends its Metadata again and goes on from its checkpoint (what the ground lost
before it, the ground NAKs).
"""

import os
import struct
import sys

from flight.app import TM_QUEUE_MAX
from flight.audit import KIND_COMMAND
from flight.commands import LEVEL_ADMIN, LEVEL_OPERATOR, CommandError
from flight.dictionary import CFDP_APID, FAIL
from flight.storage import SlotStore
from protocols.spacepacket import HEADER_LEN, SEQ_UNSEGMENTED, TM, pack_header_into

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

CFDP_ENTITY = const(1)  # this spacecraft's CFDP entity ID (1 byte)
CFDP_GROUND = const(2)  # the ground's

# where a file may be uplinked to, and the authority that needs (flight/commands.py LEVEL_*)
UPLINK = (("files/", LEVEL_OPERATOR), ("slot_a/", LEVEL_ADMIN), ("slot_b/", LEVEL_ADMIN))
DOWNLINK = ("files/", "flash/", "slot_a/", "slot_b/", "boot_state.json")
MAX_FILE = const(1048576)
DISK_MARGIN = const(65536)  # left free for the logs, stores and state files
CHECKPOINT = const(16)  # segments between two saves of the incoming transaction
SEGMENT = const(1024)  # file data per downlink PDU: one PDU packet fits a frame's data field
IN_QUEUE = const(2)  # the sender's packets at most in the TM queue at once (heap: ~1 KB each)

# The free heap a transfer needs to open: what one adds while it runs (this module, the lean CFDP
# modules and the transaction: `transfer` in firmware_builds/heap_needed.json, 21,648 B measured
# on the 32-bit emulated board as .mpy) and 4 KB for the ticks' garbage on top. Less free than
# that (a board past its budget) and a transfer is refused (NO_MEMORY) rather than run out of heap.
CFDP_HEAP = const(24576)

# FILE_REFUSED reasons
OUTSIDE = const(1)
TOO_BIG = const(2)
DISK_FULL = const(3)
NOT_AUTHORISED = const(4)
NO_MEMORY = const(5)
UPDATE_BUSY = const(6)

_FILESTORE_REJECTION = const(4)  # protocols/cfdp_directives.py, not imported before a transfer
# the slot store of the incoming transaction's checkpoint; flight/assembly.py looks for its files
# at boot by this name, spelt out there (importing it would load this module; a name of its own in
# flight/app.py measured +0.35 KB on the board)
KEPT = "cfdp"
_MODULES = (
    "flight.file_service",
    "protocols.cfdp_lean_rx",
    "protocols.cfdp_lean_tx",
    "protocols.cfdp_lean",
    "protocols.cfdp_spans",
    "protocols.cfdp_filestore",
)


def heap_short():
    """True when the CFDP modules are not loaded and the free heap cannot take them (a board)."""
    if "protocols.cfdp_lean" in sys.modules:
        return False
    import gc

    if not hasattr(gc, "mem_free"):
        return False  # CPython: no fixed heap
    gc.collect()
    return gc.mem_free() < CFDP_HEAP


def free_bytes(path):
    try:
        st = os.statvfs(path)
    except (OSError, AttributeError):
        return None  # unknown: the write itself will tell
    return st[1] * st[4]


def transaction_seq(pdu):
    # the transaction sequence number from a PDU's fixed header (lengths in its fourth byte)
    if len(pdu) < 4:
        return None
    id_len = ((pdu[3] >> 4) & 7) + 1
    seq = 0
    for b in pdu[4 + id_len : 4 + id_len + (pdu[3] & 7) + 1]:
        seq = seq << 8 | b
    return seq


class FileService:
    """CFDP entity CFDP_ENTITY of this spacecraft; see the module doc."""

    def __init__(self, app):
        fs = app.fs
        # the boot directory: files/, the A/B slots and the flash folder (on a board, "/")
        self.root = fs.root.rpartition("/")[0] or "."
        self.queue = app.tm_queue
        self.queue_max = TM_QUEUE_MAX
        self.app = app
        self.on_event = app.events.report
        self.rx = None
        self.tx = None
        self._rx_level = 0
        self._rx_checked = False
        self._segments = 0
        self._tx_kept = -1  # the outgoing progress last saved (-1: nothing saved)
        self._queued = []  # the sender's packets queued for the downlink (see _room)
        self._seq = (app.boot.count & 0xFF) << 8  # outgoing transaction numbers: new every boot
        self._pkt_seq = 0
        self.refused = 0
        self.bad_pdus = 0
        self.fs = fs
        self._kept = SlotStore(fs, KEPT, 1024)
        raw = self._kept.load()
        if raw:
            try:
                self._resume(raw)
            except Exception:  # a checkpoint this build cannot read: the ground asks again
                self.rx = self.tx = None
                self._forget()

    # --- the link -------------------------------------------------------------------------------
    def deliver(self, packet, level):
        """Take one CFDP space packet that arrived with authority `level`."""
        try:
            self._feed(memoryview(packet)[HEADER_LEN:], level)
        except Exception:  # a bad or foreign PDU: counted, the transaction goes on
            self.bad_pdus += 1

    def _feed(self, pdu, level):
        if level < LEVEL_OPERATOR:  # a keyed spacecraft takes files from authenticated frames only
            self.refused += 1
            return
        now = self.now_ms()
        if pdu[0] & 0x08:  # direction bit: toward the file sender (ACK, NAK, Finished)
            if self.tx is None:
                raise ValueError("no outgoing transaction")
            self.tx.feed(pdu, now)
            self._queue_out(self.tx.poll(now))
            self._end_tx()
            return
        rx = self.rx
        if rx is None:
            seq = transaction_seq(pdu)
            if seq == self.app.cfdp_refused:
                return  # refused already (one event per transaction)
            if heap_short():
                self.app.cfdp_refused = seq
                self.refused += 1
                self.on_event("FILE_REFUSED", seq & 0xFFFF, NO_MEMORY, _FILESTORE_REJECTION)
                return
            rx = self._open_rx(level)
        try:
            rx.feed(pdu, now)
        finally:
            if rx.key is not None:
                self.rx = rx
        if not self._rx_checked and rx.metadata is not None:
            self._rx_checked = True
            self._check(rx, level)
        if rx.metadata is not None and not rx.done:
            self._segments += 1
            # every CHECKPOINT segments, and at once once the EOF is in
            if self._segments >= CHECKPOINT or (rx.eof is not None and self._segments):
                self._checkpoint()
        self._queue_out(rx.poll(now))
        self._end_rx()

    def _open_rx(self, level):
        from protocols.cfdp_filestore import HostFileStore
        from protocols.cfdp_lean_rx import Receiver

        free = free_bytes(self.root)
        limit = MAX_FILE if free is None else min(MAX_FILE, free - DISK_MARGIN)
        self._rx_level = level
        self._rx_checked = False
        self._segments = 0
        return Receiver(HostFileStore(self.root, max_size=max(0, limit)), CFDP_ENTITY, self.now_ms())

    def _check(self, rx, level):
        why = None
        name = rx.dest_name or ""
        need = None
        for folder, lvl in UPLINK:
            if name.startswith(folder):
                need = lvl
        if need == LEVEL_ADMIN and name[5] != self._inactive_slot():
            why = OUTSIDE  # the running slot, or no A/B boot selector: never written by radio
        elif need == LEVEL_ADMIN and self._updating():
            why = UPDATE_BUSY  # a staged slot's verified files must stay as they were verified
        elif need is None:
            why = OUTSIDE
        elif level < need:
            why = NOT_AUTHORISED
        elif rx.file_size > MAX_FILE:
            why = TOO_BIG
        else:
            free = free_bytes(self.root)
            if free is not None and rx.file_size + DISK_MARGIN > free:
                why = DISK_FULL
        if why is not None:
            self.refused += 1
            rx.cancel(_FILESTORE_REJECTION)
            self.on_event("FILE_REFUSED", rx.seq & 0xFFFF, why, _FILESTORE_REJECTION)

    def _end_rx(self):
        rx = self.rx
        if rx is None or not rx.done:
            return
        self.rx = None
        self._checkpoint()  # the outgoing part stays, if a downlink runs
        # what came into the filesystem (code, for the A/B slots) goes into the audit chain
        app = self.app
        app.audit.append(
            app.obt(),
            KIND_COMMAND,
            "cfdp %d %s %d B condition %d" % (rx.seq, rx.dest_name, rx.eof_size or 0, rx.condition or 0),
        )
        rx.store.close()

    def _checkpoint(self):
        """Save both transactions' checkpoints as one record: the incoming part's length, the
        incoming part (level, Metadata, EOF, spans), then the outgoing part (transaction, progress,
        checksum so far, file name); with neither left the store goes."""
        self._segments = 0
        rx = self.rx.checkpoint() if self.rx is not None else None
        part = b""
        if rx is not None:
            md, eof, spans = rx
            part = struct.pack(">BHH", self._rx_level, len(md), len(eof) if eof else 0) + md + (eof or b"")
            for s, e in spans:
                part += struct.pack(">II", s, e)
        tx = self.tx.checkpoint() if self.tx is not None else None
        self._tx_kept = -1 if tx is None else tx[0]
        if rx is None and tx is None:
            self._forget()
            return
        out = struct.pack(">H", len(part)) + part
        if tx is not None:
            out += struct.pack(">HII", self.tx.seq, tx[0], tx[1]) + self.tx.source_name.encode()
        self._kept.save(out)

    def _resume(self, raw):
        n = struct.unpack_from(">H", raw, 0)[0]
        if n:
            self._resume_rx(bytes(raw[2 : 2 + n]))
        if len(raw) > 2 + n:  # a downlink the reset cut: on from its checkpoint
            seq, progress, total = struct.unpack_from(">HII", raw, 2 + n)
            self._open_tx(bytes(raw[12 + n :]).decode(), seq)
            self.tx.resume(progress, total)
            self._tx_kept = progress

    def _resume_rx(self, raw):
        level, n_md, n_eof = struct.unpack_from(">BHH", raw, 0)
        pos = 5
        md = bytes(raw[pos : pos + n_md])
        pos += n_md
        eof = bytes(raw[pos : pos + n_eof]) if n_eof else None
        pos += n_eof
        spans = []
        while pos + 8 <= len(raw):
            spans.append(struct.unpack_from(">II", raw, pos))
            pos += 8
        from protocols.cfdp_lean_resume import resume

        rx = self._open_rx(level)
        resume(rx, md, eof, spans, self.now_ms())
        self.rx = rx
        self._rx_checked = True
        self._queue_out(rx.poll(self.now_ms()))

    # --- downlink -------------------------------------------------------------------------------
    def downlink(self, name):
        """Open an outgoing transaction of file `name` (relative to the boot directory; the NUL-padded
        UTF-8 of a text argument)."""
        try:
            name = bytes(name).rstrip(b"\x00").decode()
        except UnicodeError:
            raise CommandError(FAIL["ARG_RANGE"], "file_downlink: the name is not UTF-8") from None
        if not any(name.startswith(f) for f in DOWNLINK) or ".." in name.split("/"):
            raise CommandError(
                FAIL["ARG_RANGE"], "file_downlink: %s is outside %s" % (name, ",".join(DOWNLINK))
            )
        if self.tx is not None:
            raise CommandError(FAIL["EXEC_FAILED"], "file_downlink: transaction %d still runs" % self._seq)
        try:
            os.stat(self.root + "/" + name)
        except OSError:
            raise CommandError(FAIL["UNKNOWN_ID"], "file_downlink: no file %s" % name) from None
        if heap_short():
            raise CommandError(
                FAIL["EXEC_FAILED"], "file_downlink: a transfer needs %d bytes of heap" % CFDP_HEAP
            )
        self._seq = (self._seq & 0xFF00) | ((self._seq + 1) & 0xFF)
        self._open_tx(name, self._seq)
        self._checkpoint()

    def _open_tx(self, name, seq):
        from protocols.cfdp_filestore import HostFileStore
        from protocols.cfdp_lean_tx import Sender

        self.tx = Sender(
            HostFileStore(self.root), name, name, CFDP_ENTITY, CFDP_GROUND, seq, self.now_ms(), 2, SEGMENT
        )
        self.tx.inactivity_ms = 120000

    # --- the task -------------------------------------------------------------------------------
    def task(self):
        """Timers of both transactions, and the next File Data PDU while the TM queue has room;
        False once no transaction is open (FlightApp then releases this service)."""
        now = self.now_ms()
        if self.rx is not None:
            self._queue_out(self.rx.poll(now))
            self._end_rx()
        tx = self.tx
        if tx is not None and len(self.queue) < self.queue_max // 2:
            tx.burst = self._room()  # File Data PDUs this poll (0: only timers and replies)
            self._queue_out(tx.poll(now), self._queued)
            kept = tx.checkpoint()  # saved every CHECKPOINT segments, and once the EOF is out
            if (kept is None and self._tx_kept >= 0) or (
                kept and kept[0] - self._tx_kept >= CHECKPOINT * SEGMENT
            ):
                self._checkpoint()
            self._end_tx()
        return self.rx is not None or self.tx is not None

    def _end_tx(self):
        tx = self.tx
        if tx is None or not tx.done:
            return
        tx.store.close()
        self.tx = None
        self._checkpoint()

    def _room(self):
        # the sender's packets still waiting in the TM queue: at most IN_QUEUE, so a radio that
        # does not drain the queue holds IN_QUEUE segments of heap, not half a queue of them
        q = self.queue
        self._queued = [p for p in self._queued if any(p is x for x in q)]
        return IN_QUEUE - len(self._queued)

    def _queue_out(self, pdus, mine=None):
        # each PDU into its space packet here, not through protocols.spacepacket_rx's SpacePacket
        # (the ground's: a board never loads that module)
        for pdu in pdus:
            pkt = bytearray(HEADER_LEN + len(pdu))
            pack_header_into(pkt, 0, TM, 0, CFDP_APID, SEQ_UNSEGMENTED, self._pkt_seq, len(pdu))
            pkt[HEADER_LEN:] = pdu
            self._pkt_seq = (self._pkt_seq + 1) & 0x3FFF
            self.queue.append(pkt)
            if mine is not None:
                mine.append(pkt)

    def now_ms(self):
        return self.app._uptime_ms

    def release(self):
        """Forget this module and CFDP's (FlightApp calls it once no transaction is open). On a
        board only: under CPython the twin's ground shares CFDP's modules."""
        if sys.implementation.name == "micropython":
            from flight.app import release

            for name in _MODULES:
                release(name)

    def _inactive_slot(self):
        try:
            import boot_select

            active = boot_select.read_state()["active"]
            getattr(boot_select, "let_go", int)()  # imported again: not kept through the transfer
            return "b" if active == "a" else "a"
        except Exception:  # no boot selector (started by hand): no slot to update
            return None

    def _updating(self):
        u = self.app.updater
        return u is not None and u.state in ("staging", "staged", "switched")

    def _forget(self):
        # no transfer to resume: both slots go, so the next boot does not load this service
        for slot in (".a", ".b"):
            self.fs.remove(KEPT + slot)
