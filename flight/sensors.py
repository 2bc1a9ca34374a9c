"""Sensor readout with health tracking, isolation and fallback sources.

Each sensor is read once per control cycle. A read that raises (bus NACK, timeout) or returns
an implausible value counts a fault; `limit` consecutive faults isolate the sensor (FDIR
reports it) and its consumers switch to the fallback:
- gyro isolated -> body rate from the magnetometer (B-dot's field-rotation estimate);
- magnetometer isolated -> no magnetic control (coils off), rate from the gyro;
- payload thermometer (TMP117) isolated -> the magnetometer's die temperature.
An isolated sensor stays out until `fdir_reset` (a command) returns it to service.
"""

import math

MAG = 1
GYRO = 2
TEMP = 4
NAMES = {MAG: "magnetometer", GYRO: "gyro", TEMP: "thermometer"}

_MAX_FIELD_T = 1e-3  # 10 gauss: no orbit field comes close; a stuck-at-FF register does
_MIN_FIELD_T = -_MAX_FIELD_T
_MAX_RATE = 10.0  # rad/s
_MIN_RATE = -_MAX_RATE
_TEMP_LO = -60.0
_TEMP_HI = 125.0
_NAN = float("nan")  # a housekeeping value not measured (yet)

# What each control cycle reads and checks, as plain functions: a lambda or a generator per read
# would be a heap object every cycle (and abs() of a float a new float); comparisons allocate
# nothing, and a NaN fails them all.


def _magnetic(drv):
    return drv.magnetic()


def _gyro(drv):
    return drv.gyro()


def _thermo(drv):
    drv.data_ready()  # reading the status starts the next conversion's flag
    return drv.temperature()


def _field_ok(b):
    lo = _MIN_FIELD_T
    hi = _MAX_FIELD_T
    return lo < b[0] < hi and lo < b[1] < hi and lo < b[2] < hi


def _rate_ok(w):
    lo = _MIN_RATE
    hi = _MAX_RATE
    return lo < w[0] < hi and lo < w[1] < hi and lo < w[2] < hi


def _temp_ok(t):
    return _TEMP_LO < t < _TEMP_HI


class SensorHealth:
    def __init__(self, limit=5):
        self.limit = limit
        self.consecutive = {MAG: 0, GYRO: 0, TEMP: 0}
        self.faults = {MAG: 0, GYRO: 0, TEMP: 0}
        self.isolated = 0  # bit mask
        self.newly_isolated = []  # sensors isolated since FDIR last looked

    def ok(self, sensor):
        self.consecutive[sensor] = 0

    def fault(self, sensor):
        self.faults[sensor] += 1
        self.consecutive[sensor] += 1
        if self.consecutive[sensor] >= self.limit and not self.isolated & sensor:
            self.isolated |= sensor
            self.newly_isolated.append(sensor)

    def usable(self, sensor):
        return not self.isolated & sensor

    def reset(self):
        self.isolated = 0
        for k in self.consecutive:
            self.consecutive[k] = 0


class Sensors:
    """Latest readings (None when unavailable) from the board's drivers."""

    def __init__(self, mag=None, gyro=None, thermo=None, power=None, sun=None, limit=5):
        self.mag_drv = mag
        self.gyro_drv = gyro
        self.thermo_drv = thermo
        self.power_drv = power
        self.sun_drv = sun
        self.health = SensorHealth(limit)
        self.b = None  # tesla, body frame
        self.omega = None  # rad/s from the gyro
        self.payload_c = None
        self.structure_c = None
        self.batt_v = None
        self.batt_a = None
        self.sun = None  # unit vector or None (eclipse or no sensor)
        self.power_faults = 0

    def _read(self, sensor, drv, fn, plausible):
        if drv is None or not self.health.usable(sensor):
            return None
        try:
            v = fn(drv)
        except (OSError, ValueError, OverflowError):
            v = None
        if v is None or not plausible(v):
            self.health.fault(sensor)
            return None
        self.health.ok(sensor)
        return v

    def read(self):
        self.b = self._read(MAG, self.mag_drv, _magnetic, _field_ok)
        self.omega = self._read(GYRO, self.gyro_drv, _gyro, _rate_ok)
        self.payload_c = self._read(TEMP, self.thermo_drv, _thermo, _temp_ok)
        self.structure_c = None
        if self.mag_drv is not None and self.health.usable(MAG):
            try:
                self.structure_c = self.mag_drv.temperature()
            except OSError:
                pass
        if self.payload_c is None and self.structure_c is not None:
            self.payload_c = self.structure_c  # degraded: the magnetometer die sits on the same tray
        self.batt_v = self.batt_a = None
        if self.power_drv is not None:
            try:
                self.batt_v = self.power_drv.bus_voltage()
                self.batt_a = self.power_drv.current()
            except (OSError, OverflowError):
                self.power_faults += 1
        self.sun = None
        if self.sun_drv is not None:
            try:
                self.sun = self.sun_drv.sun_vector()
            except OSError:
                pass

    def value(self, name):
        """Housekeeping values (flight/telemetry.py); NaN: not measured (yet)."""
        if name == "batt_v":
            return self.batt_v if self.batt_v is not None else _NAN
        if name == "solar_w":
            # charge power = battery power + load power; the INA219 sits on the battery (discharge > 0)
            if self.batt_v is None or self.batt_a is None:
                return 0.0
            return max(0.0, -self.batt_v * self.batt_a)
        if name == "sunlit":
            return 1 if self.sun is not None else 0
        if name == "temp_c":
            return self.structure_c if self.structure_c is not None else _NAN
        if name == "payload_c":
            return self.payload_c if self.payload_c is not None else _NAN
        if name == "isolated":
            return self.health.isolated
        raise KeyError(name)

    def rate(self, mag_estimate):
        """(|omega| rad/s or None, source 0 gyro / 1 magnetometer)."""
        if self.omega is not None:
            w = self.omega
            return math.sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]), 0
        return mag_estimate, 1
