"""The flight end of the space link: CLTUs in, CADUs out, COP-1 and SDLS in between.

Uplink: bytes from the link (UART, radio) -> CLTU receiver (BCH) -> TC frame -> SCID check ->
SDLS (MAC, anti-replay; before FARM-1, so a forged frame never touches the sequence check) ->
FARM-1 -> PUS packets to the dispatcher. Downlink: PUS TM packets -> TM frames (CLCW in the
OCF) -> RS(255,223) x I, randomized, ASM. Every rejection is counted; authentication failures
are also PUS-5 events naming the check that failed, never key material. Keys and the
anti-replay counter persist in a slot store, so a reboot neither loses a new key nor reopens
old sequence numbers to replay. A component (flight/commands.py): it runs rekey and radio_reset.
"""

import struct

from flight.commands import LEVEL_ADMIN, LEVEL_NONE, LEVEL_OPERATOR
from flight.dictionary import FAIL
from flight.errors import CommandError
from flight.link_keys import LinkKeys
from protocols import cltu, cop1, errors, sync, tcframe, tmframe
from protocols.sdls import SecurityAssociation, SecurityEndpoint

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

AUTH_MAC = 1
AUTH_REPLAY = 2
AUTH_SA = 3
AUTH_LENGTH = 4
ADMIN_SPI = 2  # the admin key's association; SPI 1 carries the operators' key
VCIDS = (0,)  # the only TC virtual channel with a FARM: frames for any other are rejected
FARM_WINDOW = 10
MAX_WAITING = FARM_WINDOW  # received frames waiting to be taken in (a FARM window's worth)
# failure reasons: numbers of flight/dictionary.py's table (no string on the board)
_R_NO_RADIO = const(20)
_R_LINK_NOT_SECURED = const(22)
_R_ARG_1 = const(24)


class Comms:
    # the rejection counters as class defaults: an instance's attribute table holds only the ones
    # that ever counted (a board's heap; flight/executive.py's Task)
    overflow = 0  # frames dropped because MAX_WAITING were waiting
    rejected = 0
    auth_rejects = 0
    foreign = 0
    wrong_vc = 0
    tx_errors = 0  # CADUs the link refused (each is sent again)
    oversize = 0  # TM packets too large to frame, dropped

    def __init__(
        self, io, scid, deliver, on_event=None, interleave=5, key=None, fs=None, spi=1, admin_key=None
    ):
        self.io = io  # .read() -> bytes or None, .write(bytes)
        self.scid = scid
        self.deliver = deliver  # deliver(packet bytes, source, level)
        self.on_event = on_event
        # a packet link (flight.lora_link) states its own frame geometry: short frames, I=1
        frame_len = getattr(io, "frame_len", None)
        if frame_len is None:
            frame_len = 223 * interleave
        else:
            interleave = io.interleave
        self.interleave = interleave
        # a link that can say it has no room (a radio's packet queue) is asked before each frame
        self._tx_ready = getattr(io, "tx_ready", None)
        self.rx = cltu.CltuReceiver()
        self._frames = []  # received TC frames not yet taken in (one per poll)
        self._accepted = []  # (packet, level) taken in, not yet delivered
        self.farm = cop1.Farm1(vcid=0, window=FARM_WINDOW, deliver=self._accepted.append)
        # room for a frame's data plus the largest TM packet (a 200-byte file part and headers);
        # the framer keeps at least two data fields (2.2 KB at I=5)
        self.framer = tmframe.TmFramer(frame_len, scid, vcid=0, capacity=frame_len + 512)
        self._cadu = bytearray(sync.cadu_len(frame_len, interleave))
        # the frame is built where its CADU carries it (RS leaves the data symbols in place, and
        # every encoder takes a frame that is its own output): one 1.1 KB buffer fewer
        self._frame = memoryview(self._cadu)[sync.ASM_LEN : sync.ASM_LEN + frame_len]
        self._held = False  # _cadu holds a CADU the link has not taken yet
        self._built = False  # _frame holds a frame not yet encoded into _cadu (send_step)
        if admin_key is not None and key is None:
            raise CommandError(FAIL["EXEC_FAILED"], "an admin key needs the operators' key too")
        self.security = None
        self.keys = LinkKeys(fs)  # the associations' keys and counters in flash
        # authority per association: with an admin key the operators' key (SPI 1) may no longer
        # send admin commands; one key alone is the whole authority
        self.levels = {spi: LEVEL_ADMIN if admin_key is None else LEVEL_OPERATOR, ADMIN_SPI: LEVEL_ADMIN}
        sas = []
        for s_spi, s_key, name in ((spi, key, "keys"), (ADMIN_SPI, admin_key, "keys_admin")):
            if s_key is None:
                continue
            sa = SecurityAssociation(s_spi, s_key, window=None)
            self.keys.restore(sa, name)
            sas.append(sa)
        if sas:
            self.security = SecurityEndpoint(sas)
        self.frames_ok = 0
        self.last_tc_s = None
        self.tx_bytes = 0

    beacon_s = 0  # uptime of the last beacon

    def radio_task(self):
        """Slow cycle, on a board with a radio: finish a transmission, check the chip, and beacon
        the core values over LoRa when nobody has talked to us for a while."""
        app = self.app
        radio = app.radio
        if radio is None:
            return
        radio.poll()  # completes a finished transmission (TX_DONE) so the next one can start
        if not radio.busy():
            radio.health_check()
        last = self.last_tc_s
        now = app.uptime()
        quiet = last is None or now - last > 600
        if quiet and now - self.beacon_s >= app.params["comms.beacon_s"] and not radio.busy():
            self.beacon_s = now
            radio.start_send(self.beacon())

    def beacon(self):
        app = self.app
        return b"CS" + struct.pack(
            ">BIBHf",
            self.scid & 0xFF,
            int(app.obt()) & 0xFFFFFFFF,
            app.modes.mode,
            app.boot.count & 0xFFFF,
            app.power.soc or 0.0,
        )

    def value(self, name):  # housekeeping (flight/telemetry.py)
        if name == "tc_rejected":
            return self.rejected & 0xFFFF
        if name == "auth_rejects":
            return self.auth_rejects & 0xFFFF
        raise KeyError(name)

    # --- commands (a component, flight/commands.py; `app`, set by the wiring, has the radio) ----
    def tc_rekey(self, v):
        if self.security is None:
            raise CommandError(FAIL["EXEC_FAILED"], "link not secured: nothing to rekey", _R_LINK_NOT_SECURED)
        if not self.rekey(v[0], v[1]):
            raise CommandError(FAIL["UNKNOWN_ID"], "no security association %d" % v[0], _R_ARG_1)

    def tc_radio_reset(self, v):
        radio = self.app.radio
        if radio is None:
            raise CommandError(FAIL["EXEC_FAILED"], "no radio on this board", _R_NO_RADIO)
        try:
            radio.recover()
        except OSError as exc:
            raise CommandError(FAIL["EXEC_FAILED"], "radio: %s" % exc) from None

    def rekey(self, spi, wrapped):
        """Install a key wrapped under the current one (the ground wrapped it with the SN of the
        frame that carried this command, which is the association's last accepted SN now)."""
        sa = self.security.sas.get(spi) if self.security is not None else None
        if sa is None:
            return False
        self.keys.rekey(sa, wrapped)
        return True

    # --- the link's units: the fast group's two tasks. Per tick at most one of: the last command's
    # audit record; a TC frame taken in; one command run (step); a TM frame built; a CADU encoded
    # and sent (send_step). The uplink and the downlink take turns when both have work: a command
    # runs in the second tick after its frame arrived, its reports leave in the fifth.
    _rx_busy = False  # rx_task did a unit of work this tick: tx_task waits a tick
    _tx_turn = False  # tx_task waited last tick: this tick is the downlink's
    _frames_seen = 0  # TC frames accepted when the downlink last framed a CLCW

    def rx_task(self):
        self._rx_busy = True
        app = self.app
        if app.audit.flush():  # the command run last tick: its record reaches flash first
            return
        if self._tx_turn:  # the downlink waited a tick for us: this tick is its own
            self._rx_busy = False
            return
        self._rx_busy = self.step(app.uptime())

    def tx_task(self):
        queue = self.app.tm_queue
        if not (
            queue
            or self.tx_pending()
            or self.framer.pending
            # a new TC frame's CLCW goes out in an idle frame once the uplink work is done (a
            # command's reports carry it anyway)
            or (self.frames_ok != self._frames_seen and not self.busy())
        ):
            self._tx_turn = False
            return
        if self._rx_busy:
            self._tx_turn = True  # the uplink had this tick; the next one is ours
            return
        self._tx_turn = False
        if not self.tx_pending():
            self._frames_seen = self.frames_ok  # this unit frames the CLCW as it is now
        self.send_step(queue)  # takes packets off the queue as they are framed

    def send_now(self, queue):
        """All of `queue` now (an RX interrupt's reports, FlightApp.service_link), or an idle frame
        when a TC frame came since: its CLCW answers promptly."""
        if queue:
            self.send(queue)  # takes packets off the queue as they are framed
        elif self.frames_ok != self._frames_seen:
            self.send([])
        self._frames_seen = self.frames_ok

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

    def _read(self):
        chunk = self.io.read()
        if chunk:
            for frame_bytes in self.rx.feed(chunk):
                if len(self._frames) >= MAX_WAITING:
                    self.rejected += 1
                    self.overflow += 1
                    continue
                self._frames.append(frame_bytes)

    def poll(self, now_s):
        """Read the link and take in the next received TC frame: verify it, run it through the
        FARM and deliver its packets (and any still waiting from step()); returns how many packets
        were delivered. All of it now: for a link serviced outside the rate groups (an RX
        interrupt) and for tests; the fast group calls step().

        One frame per call: the ground's COP-1 may send a window of frames at once, and checking,
        running and reporting each command costs the board time and heap (about 4 KB of
        short-lived objects), so a burst is spread over calls. Frames wait in `_frames` (at most
        MAX_WAITING; beyond that they are dropped, counted in `rejected`, and COP-1 sends them
        again)."""
        self._read()
        if self._frames:
            self._take(self._frames.pop(0), now_s)
        n = 0
        while self._accepted:
            packet, level = self._accepted.pop(0)
            self.deliver(packet, "link", level)
            n += 1
        return n

    def step(self, now_s):
        """One unit of uplink work, at most, for one 100 ms tick; True when it did one.

        Handling one authenticated command is two units, each in its own tick (at the RP2040's
        speed, one command handled and answered in one tick took ~290 ms): take in a frame (CLTU
        decode, SDLS check, the anti-replay mark when it is due, FARM-1), then deliver one packet
        (dispatch, execution, PUS-1 reports) in the next."""
        self._read()
        if self._accepted:
            packet, level = self._accepted.pop(0)
            self.deliver(packet, "link", level)
            return True
        if self._frames:
            self._take(self._frames.pop(0), now_s)
            return True
        return False

    def busy(self):
        """Uplink work is waiting (a frame to take in or a packet to deliver)."""
        return bool(self._frames or self._accepted)

    def _take(self, frame_bytes, now_s):
        try:
            frame = tcframe.unpack_with_fill(frame_bytes)
            if frame.scid != self.scid:
                self.foreign += 1  # another spacecraft's command on a shared uplink
                return
            if frame.vcid not in VCIDS:
                # no FARM of its own: VC 0's would take it and advance its V(R)
                self.wrong_vc += 1
                self.rejected += 1
                return
            level = LEVEL_ADMIN  # unkeyed: the operator chose to fly without authentication
            if self.security is not None:
                # every frame, BC control frames included: a forged Unlock or Set V(R) would
                # otherwise let anyone desynchronise COP-1 and block the real operator
                frame.data = self.security.verify(frame_bytes[:5], frame.data, frame.vcid)
                spi = struct.unpack_from(">H", frame_bytes, 5)[0]
                self.keys.persist(self.security.sas[spi])  # before the FARM: nothing runs unmarked
                level = self.levels.get(spi, LEVEL_NONE)
            first = len(self._accepted)
            self.farm.receive(frame)
            for i in range(first, len(self._accepted)):
                self._accepted[i] = (self._accepted[i], level)
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

    def _tx(self):
        """Hand the CADU buffer to the link; False (and the CADU held for next time) when the link
        raises or takes less than all of it (MicroPython's UART.write: None on a timeout)."""
        try:
            n = self.io.write(self._cadu)
        except OSError:
            n = -1
        if n is None or n < len(self._cadu):
            self.tx_errors += 1
            self._held = True
            return False
        self._held = False
        self.tx_bytes += n
        return True

    def _room(self):
        """The link can take a CADU now (a link that cannot say always can)."""
        return self._tx_ready is None or self._tx_ready()

    def _encode_and_tx(self):
        """Encode the frame in hand (RS, randomizer, ASM) into the CADU buffer and send it."""
        self._built = False
        sync.build_cadu_into(self._frame, self._cadu, self.interleave)
        return self._tx()

    def _frame_out(self, flush):
        """Build the framer's next frame into the preallocated buffers and send it (None: no frame,
        or a link with no room for one now; the packets wait in the framer and the queue)."""
        if not self._room() or not self.framer.build_into(self._frame, flush):
            return None
        return self._encode_and_tx()

    def tx_pending(self):
        """A frame or CADU is in hand that send_step has still to encode or send."""
        return self._held or self._built

    def _fill(self, queue):
        """Move the packets at the front of `queue` into the framer while they fit."""
        framer = self.framer
        while True:
            while queue and len(queue[0]) <= framer.free:
                framer.push(queue.pop(0))
            if queue and not framer.ready() and len(queue[0]) > framer.free:
                queue.pop(0)  # larger than the framer can ever hold: counted, never stalls the rest
                self.oversize += 1
                continue
            return

    def send_step(self, queue):
        """One unit of downlink work for one 100 ms tick; True when it did one.

        A CADU is two units, each in its own tick (together, at the RP2040's speed, they take
        most of a tick): build the next frame (the packets at the front of `queue`, completed with
        an idle packet when less than a frame is queued; an OID frame when nothing is), then
        encode it (RS, randomizer, ASM) and hand it to the link. The output is the same bytes as
        send()'s. A CADU the link refused is sent again first."""
        if not self._room():
            return False
        if self._held:
            self._tx()
            return True
        if self._built:
            self._encode_and_tx()
            return True
        self._fill(queue)
        self.framer.clcw = self.farm.clcw()
        framer = self.framer
        self._built = framer.build_into(self._frame, False) or framer.build_into(self._frame, True)
        return True

    def send(self, queue, flush=True):
        """Frame and transmit the TM packets at the front of `queue` (a list: each packet leaves it
        once it is in the framer); the CLCW goes into every frame. Nothing is allocated per frame.
        When the link fails, the CADU in hand is kept and sent first next time, and the packets not
        yet framed stay queued: a link error delays telemetry, it does not lose it."""
        self.framer.clcw = self.farm.clcw()
        sent = 0
        if self._held:
            if not self._room() or not self._tx():
                return 0
            sent += 1
        if self._built:  # a frame send_step built and has not encoded yet goes first
            if not self._room() or not self._encode_and_tx():
                return sent
            sent += 1
        had = bool(queue)
        framer = self.framer
        while True:
            self._fill(queue)
            ok = self._frame_out(False)
            if ok is None:
                break
            if not ok:
                return sent
            sent += 1
        if flush and (had or framer.pending or not sent):
            if self._frame_out(True):
                sent += 1
        return sent
