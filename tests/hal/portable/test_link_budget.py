"""LoRa link budget: free-space loss, noise floor and ground-station geometry against hand-worked
textbook numbers, then through the medium: who hears what at which spreading factor.

Hand references: FSPL(dB) = 20 log10(d/km) + 20 log10(f/MHz) + 32.44 (the same law in the units
link-budget tables use); thermal noise -174 dBm/Hz; horizon range from 500 km = sqrt((Re+h)^2 - Re^2)."""

import math

from _sx1276_rig import Rig

from hal.drivers.sx1276 import SX1276
from hal.sim.env.link_budget import GroundStation, LoraLinkBudget, fspl_db, noise_floor_dbm, tx_power_dbm
from hal.sim.env.orbit import R_EARTH


def test_free_space_loss_and_noise_floor():
    assert abs(fspl_db(1000e3, 437e6) - 145.25) < 0.02  # 60 + 52.81 + 32.44
    assert abs(fspl_db(500e3, 915e6) - (53.98 + 59.23 + 32.44)) < 0.02
    assert abs(noise_floor_dbm(125000) - (-174 + 50.97 + 6)) < 0.01


def test_ground_station_geometry():
    gs = GroundStation(0.0, 0.0, min_elevation_deg=10)  # on the equator at Greenwich, t = 0: ECI +X
    overhead = (R_EARTH + 500e3, 0.0, 0.0)
    assert abs(gs.elevation_deg(overhead, 0.0) - 90.0) < 1e-6
    assert abs(gs.range_m(overhead, 0.0) - 500e3) < 1e-3
    horizon_range = math.sqrt((R_EARTH + 500e3) ** 2 - R_EARTH**2)
    assert abs(horizon_range - 2573.17e3) < 100  # 6871.2 km and 6371.2 km: 2573.2 km
    on_horizon = (R_EARTH, horizon_range, 0.0)
    assert abs(gs.elevation_deg(on_horizon, 0.0)) < 1e-6
    assert not gs.sees(on_horizon, 0.0) and gs.sees(overhead, 0.0)


def test_programmed_power_read_back_from_the_chip():
    for dbm in (2, 14, 17, 18, 20):
        rig = Rig()
        rig.radio("a", tx_power_dbm=dbm)
        assert tx_power_dbm(rig.chips["a"]) == dbm


def _link_rig(distance_m, ground_gain_dbi, sf, visible=None):
    rig = Rig()
    sat_at = (R_EARTH + 500e3, 0.0, 0.0)
    pos = {"sat": lambda: sat_at, "ground": lambda: (sat_at[0] - distance_m, 0.0, 0.0)}
    rig.medium.link = LoraLinkBudget(pos, gains_dbi={"ground": ground_gain_dbi}, visible=visible)
    sat = rig.radio("sat", sf=sf, tx_power_dbm=20)
    ground = rig.radio("ground", sf=sf)
    ground.start_receive()
    return rig, sat, ground


def _heard(rig, sat, ground):
    sat.send(b"beacon")
    rig.clock.advance_ms(1)
    rig.medium.update()
    return ground.poll() == SX1276.RX_DONE


def test_strong_link_reports_rssi_and_snr():
    rig, sat, ground = _link_rig(1000e3, 12.0, 7)
    assert _heard(rig, sat, ground)
    signal = 20 + 12 - 2 - 145.25  # dBm: -115.25
    snr = signal - (-117.03)  # +1.78 dB
    assert abs(ground.rssi_dbm - signal) <= 1.0  # 1 dB register steps
    assert abs(ground.snr_db - snr) <= 0.25  # 0.25 dB register steps


def test_weak_link_needs_a_higher_spreading_factor():
    # horizon range, omni ground antenna: signal 20 - 2 - 153.46 = -135.5 dBm, SNR -18.4 dB
    rig, sat, ground = _link_rig(2573e3, 0.0, 7)
    assert not _heard(rig, sat, ground)  # SF7 demodulates down to -7.5 dB only
    rig, sat, ground = _link_rig(2573e3, 0.0, 12)
    assert _heard(rig, sat, ground)  # SF12 down to -20 dB
    assert abs(ground.snr_db + 18.4) <= 0.3
    assert abs(ground.rssi_dbm + 135.5) <= 1.5  # from the noise-floor RSSI plus the negative SNR


def test_no_line_of_sight_no_packet():
    rig, sat, ground = _link_rig(800e3, 12.0, 7, visible=lambda s, r: False)
    assert not _heard(rig, sat, ground) and rig.medium.lost == 1
