"""Attitude control: B-dot detumbling from magnetometer readings through magnetorquers.

    bdot = Bdot(gain=4e4, max_dipole=0.2)
    m = bdot.update(b_body_tesla, dt_s)     # dipole command (A m^2) per axis, saturated
    bdot.detumbled                            # rate estimate below threshold for `hold` cycles

The body rate is estimated from the field's rotation, |dB/dt| / |B| (a lower bound of the
true rate, good enough to decide when detumbling is done), low-pass filtered so sensor
noise does not end detumbling early. Plain floats and tuples: runs on MicroPython.

`Adcs` is the subsystem (a component, flight/commands.py): its control task runs B-dot or sun
pointing by mode through the coils, decides when detumbling is done, and answers the attitude's
housekeeping values.
"""

import math

from flight import modes
from flight.sensors import MAG


class Bdot:
    def __init__(self, gain, max_dipole, done_rate_dps=1.0, hold=30, alpha=0.2):
        self.gain = gain
        self.max_dipole = max_dipole
        self.done_rate = math.radians(done_rate_dps)
        self.hold = hold
        self.alpha = alpha
        self._prev = None
        self.rate_estimate = None  # rad/s, filtered
        self._below = 0
        self.cycles = 0

    def reset(self):
        self._prev = None
        self.rate_estimate = None
        self._below = 0

    @property
    def detumbled(self):
        return self._below >= self.hold

    def update(self, b, dt):
        """Dipole command for this control cycle (zero on the first call: no derivative yet)."""
        self.cycles += 1
        prev = self._prev
        self._prev = b
        if prev is None or dt <= 0:
            return (0.0, 0.0, 0.0)
        bdot = ((b[0] - prev[0]) / dt, (b[1] - prev[1]) / dt, (b[2] - prev[2]) / dt)
        bn = math.sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2])
        if bn > 0:
            rate = math.sqrt(bdot[0] ** 2 + bdot[1] ** 2 + bdot[2] ** 2) / bn
            if self.rate_estimate is None:
                self.rate_estimate = rate
            else:
                self.rate_estimate += self.alpha * (rate - self.rate_estimate)
            self._below = self._below + 1 if self.rate_estimate < self.done_rate else 0
        m = self.max_dipole
        out = []
        for axis in range(3):
            v = -self.gain * bdot[axis]
            out.append(m if v > m else (-m if v < -m else v))
        return (out[0], out[1], out[2])


class SunPointing:
    """Magnetic-only sun pointing: a PD torque that turns `axis` (body) toward the sun, made by
    the coils as m = B x tau / |B|^2 (only the part of tau normal to B is achievable; the field's
    rotation along the orbit makes every axis controllable on average). Needs the gyro (damping)
    and the sun sensors; in eclipse it only damps the rate.
    """

    def __init__(self, kp, kd, max_dipole, axis=(1.0, 0.0, 0.0)):
        self.kp = kp
        self.kd = kd
        self.max_dipole = max_dipole
        self.axis = axis
        self.error_deg = None

    def update(self, b, omega, sun):
        a = self.axis
        if sun is not None:
            self.error_deg = math.degrees(
                math.acos(max(-1.0, min(1.0, a[0] * sun[0] + a[1] * sun[1] + a[2] * sun[2])))
            )
            err = (
                a[1] * sun[2] - a[2] * sun[1],
                a[2] * sun[0] - a[0] * sun[2],
                a[0] * sun[1] - a[1] * sun[0],
            )
        else:
            self.error_deg = None
            err = (0.0, 0.0, 0.0)
        tau = [self.kp * err[i] - self.kd * omega[i] for i in range(3)]
        bb = b[0] * b[0] + b[1] * b[1] + b[2] * b[2]
        if bb <= 0:
            return (0.0, 0.0, 0.0)
        m = (
            (b[1] * tau[2] - b[2] * tau[1]) / bb,
            (b[2] * tau[0] - b[0] * tau[2]) / bb,
            (b[0] * tau[1] - b[1] * tau[0]) / bb,
        )
        big = max(abs(m[0]), abs(m[1]), abs(m[2]))
        if big > self.max_dipole:  # scale, not clip: keeps the torque direction
            k = self.max_dipole / big
            m = (m[0] * k, m[1] * k, m[2] * k)
        return m


class Adcs:
    """The attitude subsystem: B-dot (detumble, and the rate estimator in every mode) and sun
    pointing (NOMINAL) through the coils; `app` (the wiring sets it) gives sensors, mode, loads
    and events."""

    rate_rad_s = None  # the best body rate there is (gyro, else B-dot's field-rotation estimate)
    rate_src = 0  # 0 gyro, 1 magnetometer
    calm = 0  # control cycles in a row below the detumble rate
    reported = False  # DETUMBLED said for this detumble

    def __init__(self, bdot, sun_pointing, coils):
        self.bdot = bdot
        self.sun_pointing = sun_pointing
        self.coils = coils

    def apply(self, p):
        """The gains from the parameter table (after a parameter set)."""
        self.bdot.gain = p["adcs.bdot_gain"]
        self.bdot.done_rate = p["adcs.done_rate_dps"] / 57.29578
        self.sun_pointing.kp = p["adcs.sun_gain"]

    def detumbled(self):
        return self.calm >= self.bdot.hold

    def value(self, name):  # housekeeping (flight/telemetry.py)
        if name == "rate_dps":
            return self.rate_rad_s * 57.29578 if self.rate_rad_s is not None else float("nan")
        if name == "rate_src":
            return self.rate_src
        if name == "sun_angle":
            e = self.sun_pointing.error_deg
            return e if e is not None else float("nan")
        raise KeyError(name)

    def task(self):
        app = self.app
        s = app.sensors
        mode = app.modes.mode
        dipole = (0.0, 0.0, 0.0)
        if s.b is not None:
            # B-dot runs in every mode as the rate estimator; it drives the coils only in DETUMBLE
            m = self.bdot.update(s.b, 1.0)
            if mode == modes.DETUMBLE:
                dipole = m
            elif mode == modes.NOMINAL and s.omega is not None:
                dipole = self.sun_pointing.update(s.b, s.omega, s.sun)
        self.rate_rad_s, self.rate_src = s.rate(self.bdot.rate_estimate)
        # detumbled: the best rate available (gyro, else the field-rotation estimate) stays low
        if self.rate_rad_s is not None and self.rate_rad_s < self.bdot.done_rate:
            self.calm += 1
        else:
            self.calm = 0
        load = app.loads.get("adcs")
        if (
            mode in (modes.DETUMBLE, modes.NOMINAL)
            and s.health.usable(MAG)
            and (load is None or load.value())
        ):
            self.coils.set_dipole(dipole)
        else:
            self.coils.off()
        if mode == modes.DETUMBLE and self.detumbled() and not self.reported:
            self.reported = True
            app.events.report("DETUMBLED", min(int((self.rate_rad_s or 0) * 5729.578), 65535))
        if mode != modes.DETUMBLE:
            self.reported = False
