"""COP-1 FOP-1 (CCSDS 232.1-B), the ground's half of protocols.cop1.

FOP-1 keeps the sent-but-unacknowledged frames and retransmits them all (go-back-N)
when the CLCW asks for it or when timer T1 runs out, up to a transmission limit, after
which it alerts (suspends) instead of flooding the link. A spacecraft runs only FARM-1 and never
loads this module; cop1.Fop1 reaches it too."""

from protocols import tcframe


class Fop1:
    """Sequence-controlled sending with go-back-N retransmission, one virtual channel.

    `send(data)` queues a command; `poll(now_ms)` returns the frames (bytes) to put on the
    link now; `on_clcw(clcw, now_ms)` takes the spacecraft's report.
    """

    def __init__(
        self,
        scid,
        vcid=0,
        window=10,
        t1_ms=2000,
        transmission_limit=5,
        auto_unlock=True,
        map_id=None,
        secure=None,
    ):
        self.scid = scid
        self.vcid = vcid
        self.window = window
        self.t1_ms = t1_ms
        self.limit = transmission_limit
        self.auto_unlock = auto_unlock
        self.map_id = map_id
        # optional (seq, data, control) -> frame bytes, e.g. around sdls.secure_frame; it secures the
        # BC control frames (Set V(R), Unlock) too, so only the key holder can reset the FARM
        self.secure = secure
        self.vs = 0
        self.nn_r = 0  # N(R) last seen: everything before it is acknowledged
        self.waiting = []  # data not sent yet
        self.sent = []  # [seq, data] not yet acknowledged, in order
        self.tx_count = 0
        self.timer_start = None
        self.suspended = False
        self.alerts = []
        self.retransmissions = 0
        self.acknowledged = 0
        self._due = []
        self._initialized = False
        self._init_frame = None
        self._init_sent = 0
        self._init_tries = 0
        self._rt_nr = None  # N(R) at which the CLCW retransmit flag was last answered

    def send(self, data):
        self.waiting.append(bytes(data))

    def pending(self):
        return len(self.waiting) + len(self.sent)

    def _frame(self, seq, data):
        if self.secure is not None:
            return self.secure(seq, data, False)
        return tcframe.TcFrame(self.scid, self.vcid, data, seq=seq, map_id=self.map_id).pack()

    def _control_frame(self, body):
        if self.secure is not None:
            return self.secure(0, body, True)
        return tcframe.TcFrame(self.scid, self.vcid, body, seq=0, bypass=True, control=True).pack()

    def initialize(self, now_ms):
        """Set V(R) on board to our V(S) (the 'initiate AD service with Set V(R)' directive).

        Until a CLCW reports N(R) == V(S) the FOP stays initializing: it sends no AD frames and
        repeats the BC frame every T1 (a lost Set V(R) would otherwise leave both ends disagreeing
        and every AD frame would be discarded as a duplicate).
        """
        self._init_body = tcframe.set_vr(self.vs)
        self._init_frame = self._control_frame(self._init_body)
        self._due.append(self._init_frame)
        self._init_sent = now_ms
        self._init_tries = 1
        self._initialized = False

    def restart(self, now_ms):
        """The spacecraft rebooted (its FARM starts again at V(R) = 0): drop the unacknowledged
        frames and initialize again. Returns the dropped data: those commands may or may not have
        executed before the reset, so they are the operator's to resend, never resent blindly."""
        dropped = [data for _seq, data in self.sent]
        self.sent = []
        self.timer_start = None
        self.tx_count = 0
        self.suspended = False
        self._rt_nr = None
        self.initialize(now_ms)
        return dropped

    def poll(self, now_ms):
        out = self._due
        self._due = []
        if self.suspended:
            return out
        if self._init_frame is not None:
            if now_ms - self._init_sent >= self.t1_ms:
                if self._init_tries >= self.limit:
                    self.suspended = True
                    self.alerts.append("Set V(R) not confirmed (transmission limit)")
                    return out
                self._init_tries += 1
                self._init_sent = now_ms
                # rebuilt like an AD retransmission: a security layer gives it a fresh sequence
                # number (the same bytes again would be a replay, e.g. after the spacecraft restarted)
                self._init_frame = self._control_frame(self._init_body)
                out.append(self._init_frame)
            return out
        if self.sent and self.timer_start is not None and now_ms - self.timer_start >= self.t1_ms:
            out += self._retransmit(now_ms, "T1 expired")
        while self.waiting and len(self.sent) < self.window:
            data = self.waiting.pop(0)
            raw = self._frame(self.vs, data)
            self.sent.append([self.vs, data])
            self.vs = (self.vs + 1) & 0xFF
            out.append(raw)
            if self.timer_start is None or len(self.sent) == 1:
                self.timer_start = now_ms
                self.tx_count = 1
        return out

    def _retransmit(self, now_ms, why):
        if self.tx_count >= self.limit:
            self.suspended = True
            self.alerts.append("transmission limit reached (%s)" % why)
            return []
        self.tx_count += 1
        self.retransmissions += len(self.sent)
        self.timer_start = now_ms
        # frames are rebuilt, not replayed: a security layer (`secure`) gives each transmission a
        # fresh anti-replay sequence number, as SDLS requires under COP-1 retransmission
        return [self._frame(seq, data) for seq, data in self.sent]

    def on_clcw(self, clcw, now_ms):
        if clcw.vcid != self.vcid:
            return
        if self._init_frame is not None:
            if not clcw.lockout and clcw.report_value == self.vs:
                self._init_frame = None  # the spacecraft confirmed V(R): start the AD service
                self._initialized = True
                self.nn_r = self.vs
            return
        if clcw.lockout:
            if self.auto_unlock:
                self._due.append(self._control_frame(tcframe.UNLOCK))
                # after an unlock FARM keeps its V(R): resend from there
            else:
                self.suspended = True
                self.alerts.append("FARM lockout")
            return
        nr = clcw.report_value
        # acknowledge every sent frame before N(R)
        acked = 0
        while self.sent and 0 < ((nr - self.sent[0][0]) & 0xFF) <= len(self.sent):
            self.sent.pop(0)
            acked += 1
        if acked:
            self.acknowledged += acked
            self.tx_count = 1
            self.timer_start = now_ms if self.sent else None
        self.nn_r = nr
        if not clcw.retransmit:
            self._rt_nr = None
        elif self.sent and not clcw.wait and self._rt_nr != nr:
            # answer each retransmit request once per N(R): every TM frame repeats the CLCW
            self._rt_nr = nr
            self._due += self._retransmit(now_ms, "CLCW retransmit flag")

    def resume(self, now_ms):
        """Operator directive after an alert: try again from the unacknowledged frames."""
        self.suspended = False
        self.tx_count = 0
        self._due += self._retransmit(now_ms, "resume")
