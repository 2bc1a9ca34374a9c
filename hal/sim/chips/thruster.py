"""Simulated thruster valves (the twin of hal.drivers.thruster.ThrusterValve): a solenoid behind
ARM and FIRE switches in series.

The valve is open exactly while both pins are high (unless a fault says otherwise) and keeps
an exact record of what it did: pulses, total and longest open time, from the clock.
`ThrusterCluster` turns the open valves into a body-frame force and torque and writes the
torque into `target.thruster_torque` (the Environment's actuator input) on every change.

Faults: `stuck_closed` (clogged: never opens), `stuck_open` (opens on the first pulse and never
closes again, whatever the pins do: only the on-time budget and FDIR can see it).
"""


class SimThrusterValve:
    def __init__(
        self, arm_pin, fire_pin, clock, thrust_n=0.01, position_m=(0.0, 0.0, 0.0), direction=(1.0, 0.0, 0.0)
    ):
        self.arm_pin = arm_pin
        self.fire_pin = fire_pin
        self.clock = clock
        self.thrust_n = thrust_n
        self.position_m = position_m
        self.direction = direction
        self.stuck_closed = False
        self.stuck_open = False
        self.is_open = False
        self.pulses = 0
        self.total_open_us = 0
        self.longest_open_us = 0
        self._opened_at = 0
        self.on_change = None
        arm_pin.listeners.append(self._on_pin)
        fire_pin.listeners.append(self._on_pin)

    def _on_pin(self, pin, level):
        want = bool(self.arm_pin.value() and self.fire_pin.value())
        if self.stuck_closed:
            want = False
        if self.stuck_open and (want or self.is_open):
            want = True
        if want == self.is_open:
            return
        now = self.clock.ticks_us()
        if want:
            self._opened_at = now
            self.pulses += 1
        else:
            self._close_record(now)
        self.is_open = want
        if self.on_change is not None:
            self.on_change()

    def _close_record(self, now):
        dur = now - self._opened_at  # VirtualClock ticks; pulses are far shorter than the wrap
        if dur < 0:
            dur += 1 << 30
        self.total_open_us += dur
        if dur > self.longest_open_us:
            self.longest_open_us = dur

    def open_us_so_far(self):
        """Total open time including a pulse still in progress."""
        if not self.is_open:
            return self.total_open_us
        dur = self.clock.ticks_us() - self._opened_at
        if dur < 0:
            dur += 1 << 30
        return self.total_open_us + dur

    def force(self):
        if not self.is_open:
            return (0.0, 0.0, 0.0)
        d = self.direction
        return (d[0] * self.thrust_n, d[1] * self.thrust_n, d[2] * self.thrust_n)

    def torque(self):
        r = self.position_m
        f = self.force()
        return (r[1] * f[2] - r[2] * f[1], r[2] * f[0] - r[0] * f[2], r[0] * f[1] - r[1] * f[0])


class ThrusterCluster:
    """All valves of the spacecraft; keeps `target.thruster_torque` equal to their sum."""

    def __init__(self, valves, target=None):
        self.valves = valves
        self.target = target
        for v in valves:
            v.on_change = self._update
        self._update()

    def torque(self):
        t = [0.0, 0.0, 0.0]
        for v in self.valves:
            vt = v.torque()
            t[0] += vt[0]
            t[1] += vt[1]
            t[2] += vt[2]
        return (t[0], t[1], t[2])

    def force(self):
        f = [0.0, 0.0, 0.0]
        for v in self.valves:
            vf = v.force()
            f[0] += vf[0]
            f[1] += vf[1]
            f[2] += vf[2]
        return (f[0], f[1], f[2])

    def _update(self):
        if self.target is not None:
            self.target.thruster_torque = self.torque()
