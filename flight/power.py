"""Battery monitoring and load shedding by priority.

Loads carry a priority (0 = never shed, e.g. the flight computer and receiver). When the state
of charge falls below a shedding level, every load whose priority is at or above that level's
cut-off is switched off; loads come back only when the charge recovers past the level plus a
margin, so a battery near a threshold does not toggle loads every cycle.

The shedder is the power subsystem's component (flight/commands.py): its task updates the state
of charge (flight/power_monitor.py), sheds or restores loads and switches their pins; `app` (the
wiring sets it) gives the sensors, the loads and what each load's owner wants.
"""

from flight import modes


class LoadShedder:
    def __init__(self, loads, levels=((0.30, 2), (0.15, 1)), recover_margin=0.05):
        """loads: {name: priority}; levels: ((soc threshold, shed priorities >= this), ...), high to low."""
        self.loads = dict(loads)
        self.levels = tuple(sorted(levels, reverse=True))
        self.margin = recover_margin
        self.cutoff = None  # lowest priority number currently shed (None: nothing shed)
        self.events = []

    def value(self, name):  # housekeeping (flight/telemetry.py)
        if name == "loads_shed":
            return self.cutoff or 0
        raise KeyError(name)

    def task(self):
        app = self.app
        soc = app.power.update(app.sensors.batt_v, app.sensors.batt_a)
        if soc is None:
            return
        safe = app.params["fdir.soc_safe"]
        self.levels = ((safe, 2), (safe - 0.10, 1))  # FDIR SAFE and the first shed level coincide
        before = self.cutoff
        states = self.update(soc)
        after = self.cutoff
        if after != before:
            if after is not None and (before is None or after < before):
                app.events.report("LOAD_SHED", after)
                app.audit_fdir("load shed from priority %d at soc %.3f" % (after, soc))
            else:
                app.events.report("LOAD_RESTORED", after or 0)
        mode = app.modes.mode
        for name, pin in app.loads.items():
            on = states.get(name, True)
            if name == "payload":
                on = on and app.payload.active is not None and mode == modes.NOMINAL
            elif name == "adcs":
                on = on and mode in (modes.DETUMBLE, modes.NOMINAL)
            elif name == "heater":
                on = on and app.heater.on
            pin.value(1 if on else 0)

    def enabled(self, name):
        return self.cutoff is None or self.loads[name] == 0 or self.loads[name] < self.cutoff

    def update(self, soc):
        """Apply the policy for this state of charge; returns {name: enabled}."""
        cutoff = self.cutoff
        for threshold, shed_from in self.levels:
            if soc < threshold and (cutoff is None or shed_from < cutoff):
                cutoff = shed_from
        if self.cutoff is not None:
            # recover level by level, with hysteresis
            for threshold, shed_from in reversed(self.levels):
                if shed_from == cutoff and soc >= threshold + self.margin:
                    higher = [lvl for lvl in self.levels if lvl[1] > shed_from]
                    cutoff = None
                    for t, s in reversed(higher):
                        if soc < t + self.margin:
                            cutoff = s
                            break
        if cutoff != self.cutoff:
            self.events.append((soc, self.cutoff, cutoff))
            self.cutoff = cutoff
        return {name: self.enabled(name) for name in self.loads}
