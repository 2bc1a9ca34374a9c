"""Battery monitoring and load shedding by priority.

Loads carry a priority (0 = never shed, e.g. the flight computer and receiver). When the state
of charge falls below a shedding level, every load whose priority is at or above that level's
cut-off is switched off; loads come back only when the charge recovers past the level plus a
margin, so a battery near a threshold does not toggle loads every cycle.
"""


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
