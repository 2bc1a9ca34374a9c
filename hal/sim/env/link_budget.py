"""Radio link budget for the simulated LoRa medium: free-space loss between the two radios, the
receiver's noise floor, and the demodulation limit of each spreading factor, so packets are only
heard during a ground-station pass and weak links need a higher SF.

    gs = GroundStation(48.1, 11.6, min_elevation_deg=10)
    link = LoraLinkBudget({"sat": lambda: env.r_eci, "ground": lambda: gs.position_eci(env.t)},
                          gains_dbi={"ground": 12.0}, visible=lambda s, r: gs.sees(env.r_eci, env.t))
    medium = RadioMedium(clock, link=link)

Formulas: FSPL(dB) = 20 log10(d / m) + 20 log10(f / Hz) - 147.55; noise floor (dBm) =
-174 + 10 log10(BW / Hz) + NF; SNR limits per SF from the SX1276 datasheet (table 13):
SF6 -5 dB ... SF12 -20 dB in 2.5 dB steps. Spherical Earth, like the rest of the simulation.
"""

import math

from hal.sim.env.orbit import R_EARTH, ecef_to_eci

SNR_LIMIT_DB = {6: -5.0, 7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}
_BW_HZ = (7800, 10400, 15600, 20800, 31250, 41700, 62500, 125000, 250000, 500000)


def fspl_db(distance_m, freq_hz):
    return 20.0 * math.log10(distance_m) + 20.0 * math.log10(freq_hz) - 147.55


def noise_floor_dbm(bw_hz, noise_figure_db=6.0):
    return -174.0 + 10.0 * math.log10(bw_hz) + noise_figure_db


def _dist(a, b):
    dx, dy, dz = a[0] - b[0], a[1] - b[1], a[2] - b[2]
    return math.sqrt(dx * dx + dy * dy + dz * dz)


class GroundStation:
    """A station on the spherical Earth; positions in the same ECI frame as hal.sim.env.orbit."""

    def __init__(self, lat_deg, lon_deg, alt_m=0.0, min_elevation_deg=10.0):
        lat = math.radians(lat_deg)
        lon = math.radians(lon_deg)
        r = R_EARTH + alt_m
        self.ecef = (r * math.cos(lat) * math.cos(lon), r * math.cos(lat) * math.sin(lon), r * math.sin(lat))
        self.min_elevation_deg = min_elevation_deg

    def position_eci(self, t):
        return ecef_to_eci(self.ecef, t)

    def elevation_deg(self, r_eci, t):
        g = self.position_eci(t)
        d = (r_eci[0] - g[0], r_eci[1] - g[1], r_eci[2] - g[2])
        gn = math.sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2])
        dn = math.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
        return math.degrees(math.asin((d[0] * g[0] + d[1] * g[1] + d[2] * g[2]) / (gn * dn)))

    def range_m(self, r_eci, t):
        return _dist(r_eci, self.position_eci(t))

    def sees(self, r_eci, t):
        return self.elevation_deg(r_eci, t) >= self.min_elevation_deg


def tx_power_dbm(chip):
    """Output power a SimSX1276 is programmed for (RegPaConfig, RegPaDac; datasheet 5.4.3)."""
    pa = chip.regs[0x09]
    if pa & 0x80:  # PA_BOOST: 2..17 dBm, +3 dB with the high-power DAC setting
        return 2 + (pa & 0x0F) + (3 if chip.regs[0x4D] & 0x07 == 0x07 else 0)
    pmax = 10.8 + 0.6 * ((pa >> 4) & 0x07)  # RFO pin
    return pmax - (15 - (pa & 0x0F))


class LoraLinkBudget:
    """`link(sender, receiver)` for RadioMedium: returns (register RSSI dBm, SNR dB), or None when
    the receiver cannot demodulate (not visible, or SNR under the spreading factor's limit).

    The register RSSI is what the chip reports: the received power, but never below the noise
    floor; the driver's datasheet formula (RSSI + SNR when SNR < 0) then recovers the signal."""

    def __init__(self, positions, gains_dbi=None, losses_db=2.0, noise_figure_db=6.0, visible=None):
        self.positions = positions  # radio name -> callable returning its ECI position (m)
        self.gains_dbi = gains_dbi if gains_dbi is not None else {}
        self.losses_db = losses_db
        self.noise_figure_db = noise_figure_db
        self.visible = visible

    def budget(self, sender, receiver):
        """(signal dBm, SNR dB) at the receiver, whatever its sensitivity."""
        d = _dist(self.positions[sender.name](), self.positions[receiver.name]())
        gains = self.gains_dbi.get(sender.name, 0.0) + self.gains_dbi.get(receiver.name, 0.0)
        signal = tx_power_dbm(sender) + gains - self.losses_db - fspl_db(d, sender.frequency_hz())
        code = receiver.regs[0x1D] >> 4
        noise = noise_floor_dbm(_BW_HZ[code] if code < len(_BW_HZ) else 125000, self.noise_figure_db)
        return signal, signal - noise

    def __call__(self, sender, receiver):
        if self.visible is not None and not self.visible(sender, receiver):
            return None
        signal, snr = self.budget(sender, receiver)
        if snr < SNR_LIMIT_DB.get(receiver.regs[0x1E] >> 4, -20.0):
            return None
        return max(signal, signal - snr), snr
