"""FDIR rules: each watches one symptom with a persistence count, acts, and says so.

| rule           | symptom (persisting)                         | action                                  |
|----------------|----------------------------------------------|-----------------------------------------|
| battery low    | state of charge < fdir.soc_safe              | SAFE + load shedding                    |
| rate high      | body rate > fdir.rate_high_dps in NOMINAL    | DETUMBLE                                |
| link silence   | no TC for fdir.link_silence_s                | radio reset; still silent after as long |
|                |                                              | again: SAFE                             |
| sensor fault   | a sensor isolated by its health monitor      | fall back (see flight.sensors)          |
| thruster fault | a valve closed late, its unit not answering | disarm all + inhibit propulsion         |

Every trip is a PUS-5 event and an audit record. Rules only look at the app's state and call
its actions, so they run unchanged in the twin and on the board.
"""

from flight import modes
from flight.sensors import GYRO, MAG, TEMP


class Fdir:
    def __init__(self, app, persistence=5):
        self.app = app
        self.persistence = persistence
        self.low_count = 0
        self.rate_count = 0
        self.silence_stage = 0  # 0 listening, 1 radio reset done, 2 SAFE done
        self.trips = 0
        self.prop_inhibited = False

    def value(self, name):  # housekeeping (flight/telemetry.py)
        if name == "fdir_trips":
            return self.trips & 0xFFFF
        raise KeyError(name)

    def task(self):
        self.evaluate(self.app.uptime())
        self.app._propulsion_inhibit()

    def tc_fdir_reset(self, v):  # a component (flight/commands.py): it runs fdir_reset
        self.reset()
        self.app._propulsion_inhibit()

    def _trip(self, event, audit_text, *aux):
        self.trips += 1
        self.app.events.report(event, *aux)
        self.app.audit_fdir(audit_text)

    def evaluate(self, now_s):
        app = self.app
        p = app.params
        # battery low
        soc = app.power.soc
        if soc is not None and soc < p["fdir.soc_safe"]:
            self.low_count += 1
            if self.low_count == self.persistence:
                self._trip("BATTERY_LOW", "battery low soc=%.3f -> SAFE" % soc, int(soc * 1000))
                app.set_mode(modes.SAFE, modes.REASON_FDIR)
        else:
            self.low_count = 0
        # rate high in NOMINAL
        rate = app.adcs.rate_rad_s
        if app.modes.mode == modes.NOMINAL and rate is not None and rate * 57.29578 > p["fdir.rate_high_dps"]:
            self.rate_count += 1
            if self.rate_count == self.persistence:
                self._trip(
                    "RATE_HIGH",
                    "rate %.2f dps -> DETUMBLE" % (rate * 57.29578),
                    min(int(rate * 5729.578), 65535),
                )
                app.set_mode(modes.DETUMBLE, modes.REASON_FDIR)
        else:
            self.rate_count = 0
        # command-link silence
        last = app.comms.last_tc_s if app.comms.last_tc_s is not None else app.boot_s
        silent = now_s - last
        limit = p["fdir.link_silence_s"]
        if silent < limit:
            self.silence_stage = 0
        elif self.silence_stage == 0:
            self.silence_stage = 1
            self._trip("LINK_SILENCE_RESET", "no TC for %d s: radio reset" % silent, int(silent))
            app.reset_radio()
        elif self.silence_stage == 1 and silent >= 2 * limit:
            self.silence_stage = 2
            self._trip("LINK_SILENCE_SAFE", "no TC for %d s: SAFE" % silent, int(silent))
            app.set_mode(modes.SAFE, modes.REASON_FDIR)
        # sensor isolation
        health = app.sensors.health
        while health.newly_isolated:
            sensor = health.newly_isolated.pop(0)
            fallback = {MAG: 0, GYRO: MAG, TEMP: MAG}[sensor]
            self._trip(
                "SENSOR_FAULT", "sensor %d isolated, fallback %d" % (sensor, fallback), sensor, fallback
            )
        # thruster anomalies (found by the fast group's poll)
        while app.thruster_anomalies:
            thruster, kind = app.thruster_anomalies.pop(0)
            app.propulsion.safe()
            self.prop_inhibited = True
            app.propulsion.inhibit(True)
            self._trip(
                "THRUSTER_ANOMALY",
                "thruster %d anomaly %d: disarmed, inhibited" % (thruster, kind),
                thruster,
                kind,
            )

    def reset(self):
        """Operator command: sensors back in service, propulsion inhibit lifted."""
        self.app.sensors.health.reset()
        self.prop_inhibited = False
        self.low_count = self.rate_count = 0
