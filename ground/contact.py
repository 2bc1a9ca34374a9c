"""Contact windows in the twin: an SGP4 orbit for the simulated world, and a link that carries
bytes only while the ground station sees the spacecraft above its mask.

    tle, station = load_tle("sat.tle"), Station.parse("48.15,11.57,520,10")
    env = default_environment(orbit=TleOrbit(tle, tle.epoch_unix), epoch_unix=tle.epoch_unix)
    twin = FlightTwin(flash, env, station=station)   # twin.link is a ContactPipe

CPython only (numpy, sgp4): hal/sim runs on MicroPython too, so its circular orbit stays the
board's and this orbit is injected by the ground (`Environment(orbit=...)`). Positions are TEME,
the frame `ground/passes.py` predicts passes in, so the twin's contacts are `cubesat passes`'s.
The rest of hal/sim (sun, eclipse, field) takes them as its inertial frame.
"""

from __future__ import annotations

import math

from ground.passes import DAY_S, UNIX_EPOCH_JD, PassError, Station, Tle, elevation_deg, gmst_rad, iso
from hal.sim.board.world import BytePipe
from hal.sim.env.orbit import OMEGA_EARTH


class TleOrbit:
    """The hal.sim orbit interface (ECI metres at t seconds after `epoch_unix`), SGP4 from a TLE."""

    def __init__(self, tle: Tle, epoch_unix: float) -> None:
        self.tle = tle
        self.epoch_unix = epoch_unix
        self.period = tle.period_s
        self.frame = "TEME"  # the contact geometry turns it to Earth-fixed by GMST

    def _rv(self, t: float) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        u = self.epoch_unix + t
        days = math.floor(u / DAY_S)
        err, r, v = self.tle.satrec.sgp4(UNIX_EPOCH_JD + days, (u - days * DAY_S) / DAY_S)
        if err:
            raise PassError(
                "SGP4 cannot propagate %s to %s (error %d): the TLE is too old or the orbit decayed"
                % (self.tle.name, iso(u), err)
            )
        return r, v

    def position(self, t: float) -> tuple[float, float, float]:
        r = self._rv(t)[0]
        return (r[0] * 1e3, r[1] * 1e3, r[2] * 1e3)

    def velocity(self, t: float) -> tuple[float, float, float]:
        v = self._rv(t)[1]
        return (v[0] * 1e3, v[1] * 1e3, v[2] * 1e3)


class ContactPipe(BytePipe):
    """The twin's byte link, open only while `station` sees the world's spacecraft above its mask.

    Both directions: what the spacecraft transmits out of contact reaches nobody (`write` still
    takes it, as a radio does), and what the ground transmits is lost (`ground_write`). Bytes
    are counted in `dropped_down` / `dropped_up`. The geometry is taken from the environment
    now (its position and time), so it follows whatever orbit the world flies: a `TleOrbit` is
    turned to Earth-fixed by GMST, hal.sim's circular orbit by its own Earth rotation."""

    def __init__(self, env, station: Station) -> None:  # env: hal.sim.env.environment.Environment
        super().__init__()
        self.env = env
        self.station = station
        self.dropped_up = 0
        self.dropped_down = 0
        self._t: float | None = None
        self._elevation = -90.0

    def elevation_deg(self) -> float:
        """The spacecraft's elevation (deg) at the station now (the environment's time)."""
        env = self.env
        if env.t != self._t:
            if getattr(env.orbit, "frame", None) == "TEME":
                angle = float(gmst_rad(env.epoch + env.t))
            else:
                angle = OMEGA_EARTH * env.t  # hal/sim/env/orbit.py eci_to_ecef, gmst0 = 0
            r_km = [c / 1000.0 for c in env.r_eci]
            self._elevation = float(elevation_deg(self.station, r_km, angle)[0])
            self._t = env.t
        return self._elevation

    def in_contact(self) -> bool:
        return self.elevation_deg() >= self.station.mask_deg

    def write(self, data) -> int:
        if self.in_contact():
            return super().write(data)
        self.dropped_down += len(data)
        return len(data)

    def ground_write(self, data) -> None:
        if self.in_contact():
            super().ground_write(data)
        else:
            self.dropped_up += len(data)
