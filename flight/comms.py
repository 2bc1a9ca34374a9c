"""The flight end of the space link: CLTUs in, CADUs out, COP-1 and SDLS in between.

Uplink: bytes from the link (UART, radio) -> CLTU receiver (BCH) -> TC frame -> SCID check ->
SDLS (MAC, anti-replay; before FARM-1, so a forged frame never touches the sequence check) ->
FARM-1 -> PUS packets to the dispatcher. Downlink: PUS TM packets -> TM frames (CLCW in the
OCF) -> RS(255,223) x I, randomized, ASM. Every rejection is counted; authentication failures
are also PUS-5 events naming the check that failed, never key material. Keys and the
anti-replay counter persist in a slot store, so a reboot neither loses a new key nor reopens
old sequence numbers to replay.
"""

import struct

from flight.storage import SlotStore
from protocols import cltu, cop1, errors, sync, tcframe, tmframe
from protocols.sdls import SecurityAssociation, SecurityEndpoint

AUTH_MAC = 1
AUTH_REPLAY = 2
AUTH_SA = 3
AUTH_LENGTH = 4


class Comms:
    def __init__(self, io, scid, deliver, on_event=None, interleave=5, key=None, fs=None, spi=1):
        self.io = io  # .read() -> bytes or None, .write(bytes)
        self.scid = scid
        self.deliver = deliver  # deliver(packet bytes)
        self.on_event = on_event
        self.interleave = interleave
        self.rx = cltu.CltuReceiver()
        self._accepted = []
        self.farm = cop1.Farm1(vcid=0, window=10, deliver=self._accepted.append)
        self.framer = tmframe.TmFramer(223 * interleave, scid, vcid=0)
        self._cadu = bytearray(sync.cadu_len(223 * interleave, interleave))
        self.security = None
        self.key_store = SlotStore(fs, "keys") if fs is not None and key is not None else None
        if key is not None:
            sa = SecurityAssociation(spi, key, window=None)
            self._restore_key(sa)
            self.security = SecurityEndpoint([sa])
        self.frames_ok = 0
        self.rejected = 0
        self.auth_rejects = 0
        self.foreign = 0
        self.last_tc_s = None
        self.tx_bytes = 0

    def _restore_key(self, sa):
        if self.key_store is None:
            return
        raw = self.key_store.load()
        if raw and len(raw) >= 8:
            spi, version, last_sn = struct.unpack_from(">HHI", raw, 0)
            if spi == sa.spi:
                sa.last_sn = last_sn
                if version:
                    sa._key = raw[8:]
                    sa.key_version = version

    def _persist_key(self, sa):
        if self.key_store is not None:
            self.key_store.save(struct.pack(">HHI", sa.spi, sa.key_version, sa.last_sn) + bytes(sa._key))

    def rekey(self, spi, wrapped):
        """Install a key wrapped under the current one (the ground wrapped it with the SN of the
        frame that carried this command, which is the association's last accepted SN now)."""
        sa = self.security.sas.get(spi) if self.security is not None else None
        if sa is None:
            return False
        sn = sa.last_sn
        sa.install_wrapped_key(wrapped, sn)
        sa.last_sn = sn  # the counter continues: the new key does not reopen old numbers
        self._persist_key(sa)
        return True

    def _auth_event(self, exc):
        self.auth_rejects += 1
        if isinstance(exc, errors.ReplayError):
            check = AUTH_REPLAY
        elif isinstance(exc, errors.TruncatedError):
            check = AUTH_LENGTH
        elif exc.field == "sdls.mac":
            check = AUTH_MAC
        else:
            check = AUTH_SA
        if self.on_event is not None:
            self.on_event("AUTH_REJECT", check)

    def poll(self, now_s):
        """Read the link, deliver every accepted TC packet; returns how many were delivered."""
        chunk = self.io.read()
        if not chunk:
            return 0
        for frame_bytes in self.rx.feed(chunk):
            try:
                frame = tcframe.unpack_with_fill(frame_bytes)
                if frame.scid != self.scid:
                    self.foreign += 1  # another spacecraft's command on a shared uplink
                    continue
                if self.security is not None:
                    # every frame, BC control frames included: a forged Unlock or Set V(R) would
                    # otherwise let anyone desynchronise COP-1 and block the real operator
                    frame.data = self.security.verify(frame_bytes[:5], frame.data, frame.vcid)
                    self._persist_key(self.security.sas[struct.unpack_from(">H", frame_bytes, 5)[0]])
                self.farm.receive(frame)
                self.frames_ok += 1
                self.last_tc_s = now_s
            except (errors.AuthenticationError, errors.ReplayError) as exc:
                self.rejected += 1
                self._auth_event(exc)
            except errors.TruncatedError as exc:
                self.rejected += 1
                if self.security is not None and exc.field.startswith("sdls"):
                    self._auth_event(exc)
            except errors.ProtocolError:
                self.rejected += 1
        n = 0
        while self._accepted:
            self.deliver(self._accepted.pop(0))
            n += 1
        return n

    def send(self, packets, flush=True):
        """Frame and transmit TM packets (the CLCW goes into every frame)."""
        self.framer.clcw = self.farm.clcw()
        frames = []
        for p in packets:
            frames.extend(self.framer.add_packet(p))
        if flush and (packets or not frames):
            frames.extend(self.framer.flush())
        for f in frames:
            n = sync.build_cadu_into(f, self._cadu, self.interleave)
            # the buffer is exactly one CADU: hand it over as is (the UART copies it), no slice
            self.io.write(self._cadu)
            self.tx_bytes += n
        return len(frames)
