"""Battery state from the INA219: voltage and current give the open-circuit voltage, whose
(2S Li-ion, near-linear between v_empty and v_full) curve gives the state of charge."""


class PowerMonitor:
    def __init__(self, v_empty=6.0, v_full=8.4, r_internal=0.1, alpha=0.3):
        self.v_empty = v_empty
        self.v_full = v_full
        self.r = r_internal
        self.alpha = alpha  # low-pass: one noisy sample must not trip FDIR
        self.soc = None
        self.batt_v = None

    def value(self, name):  # housekeeping (flight/telemetry.py)
        if name == "soc":
            return self.soc if self.soc is not None else float("nan")
        raise KeyError(name)

    def update(self, volts, amps):
        if volts is None:
            return self.soc
        self.batt_v = volts
        ocv = volts + (amps or 0.0) * self.r
        soc = (ocv - self.v_empty) / (self.v_full - self.v_empty)
        soc = 0.0 if soc < 0.0 else (1.0 if soc > 1.0 else soc)
        self.soc = soc if self.soc is None else self.soc + self.alpha * (soc - self.soc)
        return self.soc
