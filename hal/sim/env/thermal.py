"""Lumped thermal nodes: heat capacity, absorbed sun, internal dissipation, radiation to space."""

SIGMA = 5.670374419e-8


class ThermalNode:
    def __init__(self, name, capacity_j_per_k, area_m2, absorptivity=0.6, emissivity=0.8, temp_k=293.15):
        self.name = name
        self.capacity = capacity_j_per_k
        self.area = area_m2
        self.absorptivity = absorptivity
        self.emissivity = emissivity
        self.temp_k = temp_k
        self.heater_w = 0.0

    def step(self, dt, absorbed_sun_w=0.0, internal_w=0.0, conducted_w=0.0):
        radiated = self.emissivity * SIGMA * self.area * (self.temp_k**4 - 3.0**4)
        q = self.absorptivity * absorbed_sun_w + internal_w + self.heater_w + conducted_w - radiated
        self.temp_k += q * dt / self.capacity

    def celsius(self):
        return self.temp_k - 273.15


def conduct(a, b, conductance_w_per_k):
    """Heat flow from a to b (W) through a link."""
    return conductance_w_per_k * (a.temp_k - b.temp_k)
