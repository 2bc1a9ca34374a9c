"""Heater control with hysteresis: on below `on_below`, off above `off_above`, never chattering.

A failed sensor reading (None) switches the heater off and counts: a stuck-on heater drains the
battery faster than a cold payload is harmed in one orbit.

A component (flight/commands.py): its task holds a running experiment's setpoint, else the
parameters' band; `app` (the wiring sets it) gives the payload, the parameters and the sensors.
"""


class HeaterController:
    def __init__(self, on_below_c, off_above_c, max_duty_s=None):
        if off_above_c <= on_below_c:
            raise ValueError("off_above must be above on_below (hysteresis band)")
        self.on_below = on_below_c
        self.off_above = off_above_c
        self.max_duty_s = max_duty_s  # optional cap on continuous on-time
        self.on = False
        self.on_time_s = 0.0
        self.sensor_faults = 0
        self.switches = 0

    def value(self, name):  # housekeeping (flight/telemetry.py)
        if name == "heater":
            return 1 if self.on else 0
        raise KeyError(name)

    def task(self):
        app = self.app
        sp = app.payload.setpoint()
        if sp is not None:
            self.on_below, self.off_above = sp - 1.0, sp + 1.0
        else:
            self.on_below = app.params["thermal.heater_on_c"]
            self.off_above = app.params["thermal.heater_off_c"]
        self.update(app.sensors.payload_c, 1.0)

    def update(self, temp_c, dt_s):
        """New heater state for this cycle."""
        if temp_c is None:
            self.sensor_faults += 1
            want = False
        elif temp_c < self.on_below:
            want = True
        elif temp_c > self.off_above:
            want = False
        else:
            want = self.on  # inside the band: keep the state
        if want and self.max_duty_s is not None and self.on_time_s >= self.max_duty_s:
            want = False  # rest the heater; the band brings it back next cycle if still cold
            self.on_time_s = 0.0
        if want != self.on:
            self.switches += 1
        self.on = want
        self.on_time_s = self.on_time_s + dt_s if want else 0.0
        return want
