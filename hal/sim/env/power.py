"""Solar panels on the body faces and a 2S Li-ion battery with a linear open-circuit curve."""

from hal.sim.env import vec

SOLAR_CONSTANT = 1361.0  # W/m^2 at 1 AU


class SolarArray:
    """Body-mounted panels: (outward normal in body frame, area m^2) with one cell efficiency."""

    def __init__(self, panels=None, efficiency=0.28):
        if panels is None:  # 3U: four 0.03 m^2 long faces
            panels = (
                ((1.0, 0.0, 0.0), 0.03),
                ((-1.0, 0.0, 0.0), 0.03),
                ((0.0, 1.0, 0.0), 0.03),
                ((0.0, -1.0, 0.0), 0.03),
            )
        self.panels = panels
        self.efficiency = efficiency

    def power(self, sun_body, eclipse):
        if eclipse:
            return 0.0
        total = 0.0
        for normal, area in self.panels:
            c = vec.dot(normal, sun_body)
            if c > 0:
                total += c * area
        return total * SOLAR_CONSTANT * self.efficiency


class Battery:
    """Energy bucket with coulombic losses; voltage from state of charge (2S: 6.0 V empty, 8.4 V full)."""

    def __init__(self, capacity_wh=20.0, soc=0.8, v_empty=6.0, v_full=8.4, r_internal=0.1):
        self.capacity_wh = capacity_wh
        self.soc = soc
        self.v_empty = v_empty
        self.v_full = v_full
        self.r_internal = r_internal
        self.current = 0.0  # A, positive = discharging

    def ocv(self):
        return self.v_empty + (self.v_full - self.v_empty) * self.soc

    def voltage(self):
        return self.ocv() - self.current * self.r_internal

    def step(self, dt, charge_w, load_w):
        net = charge_w * 0.95 - load_w
        self.current = -net / self.ocv()
        self.soc += net * dt / 3600.0 / self.capacity_wh
        if self.soc > 1.0:
            self.soc = 1.0
            self.current = 0.0
        elif self.soc < 0.0:
            self.soc = 0.0
