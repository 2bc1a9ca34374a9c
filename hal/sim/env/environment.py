"""The simulated world the chips read from: orbit, field, sun, attitude, power, thermal.

`Environment.step(dt)` advances everything; actuators act through `magnetorquer_dipole`
(A m^2, body frame) and `thruster_torque` (N m, body frame), which the simulated
actuator chips set from the pins and PWM the drivers drive.
"""

from hal.sim.env import vec
from hal.sim.env.attitude import RigidBody
from hal.sim.env.magfield import field_eci
from hal.sim.env.orbit import CircularOrbit
from hal.sim.env.power import Battery, SolarArray
from hal.sim.env.sun import in_eclipse, sun_vector
from hal.sim.env.thermal import ThermalNode, conduct

EPOCH_UNIX = 1798761600.0  # 2027-01-01T00:00:00Z


class Environment:
    def __init__(self, orbit=None, body=None, epoch_unix=EPOCH_UNIX, load_w=2.5):
        self.orbit = orbit if orbit is not None else CircularOrbit()
        self.body = body if body is not None else RigidBody()
        self.epoch = epoch_unix
        self.t = 0.0
        self.solar = SolarArray()
        self.battery = Battery()
        self.load_w = load_w
        self.structure = ThermalNode("structure", 1200.0, 0.12)
        self.payload = ThermalNode("payload", 150.0, 0.01, temp_k=288.15)
        self.magnetorquer_dipole = (0.0, 0.0, 0.0)
        self.thruster_torque = (0.0, 0.0, 0.0)
        self.coils = None  # (x, y, z) SimMagnetorquer: when set, the dipole comes from the coils' PWM
        # switched loads: [(pin, watts, heats payload)], added by hal.sim.board.extras.add_loads
        self.switched = []
        self.heater_w = 0.0
        self._update()

    def _update(self):
        self.r_eci = self.orbit.position(self.t)
        self.sun_eci = sun_vector(self.epoch + self.t)
        self.eclipse = in_eclipse(self.r_eci, self.sun_eci)
        self.b_eci = field_eci(self.r_eci, self.t)
        self.b_body = vec.rotate_to_body(self.body.q, self.b_eci)
        self.sun_body = vec.rotate_to_body(self.body.q, self.sun_eci)
        self.solar_w = self.solar.power(self.sun_body, self.eclipse)

    def step(self, dt):
        if self.coils is not None:
            self.magnetorquer_dipole = (
                self.coils[0].dipole(),
                self.coils[1].dipole(),
                self.coils[2].dipole(),
            )
        torque = vec.add(vec.cross(self.magnetorquer_dipole, self.b_body), self.thruster_torque)
        self.body.step(dt, torque)
        load_w = self.load_w
        heater_w = 0.0
        for pin, watts, heats_payload in self.switched:
            if pin.value():
                load_w += watts
                if heats_payload:
                    heater_w += watts
        self.heater_w = heater_w
        self.battery.step(dt, self.solar_w, load_w)
        sun_w = 0.0 if self.eclipse else 1361.0 * 0.03
        link = conduct(self.structure, self.payload, 0.2)
        self.structure.step(dt, sun_w, self.load_w * 0.8 + (load_w - self.load_w - heater_w), -link)
        self.payload.step(dt, 0.0, self.load_w * 0.2 + heater_w, link)
        self.t += dt
        self._update()

    def body_rate(self):
        return vec.norm(self.body.omega)
