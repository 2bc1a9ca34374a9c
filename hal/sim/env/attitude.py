"""Rigid-body attitude: Euler's equations and quaternion kinematics, integrated with RK4."""

from hal.sim.env import vec


class RigidBody:
    def __init__(self, inertia=(0.03, 0.03, 0.01), omega=(0.0, 0.0, 0.0), q=(1.0, 0.0, 0.0, 0.0)):
        self.inertia = inertia  # principal moments, kg m^2
        self.omega = omega  # body rates, rad/s
        self.q = q  # body -> inertial, scalar first

    def _derivs(self, omega, q, torque):
        ix, iy, iz = self.inertia
        wx, wy, wz = omega
        dw = (
            (torque[0] - (iz - iy) * wy * wz) / ix,
            (torque[1] - (ix - iz) * wz * wx) / iy,
            (torque[2] - (iy - ix) * wx * wy) / iz,
        )
        dq = vec.q_mul(q, (0.0, wx, wy, wz))
        return dw, (0.5 * dq[0], 0.5 * dq[1], 0.5 * dq[2], 0.5 * dq[3])

    def step(self, dt, torque):
        """Advance by dt seconds under a body-frame torque (N m) held constant over the step."""
        w0, q0 = self.omega, self.q
        k1w, k1q = self._derivs(w0, q0, torque)
        k2w, k2q = self._derivs(vec.add(w0, vec.scale(k1w, dt / 2)), _qadd(q0, k1q, dt / 2), torque)
        k3w, k3q = self._derivs(vec.add(w0, vec.scale(k2w, dt / 2)), _qadd(q0, k2q, dt / 2), torque)
        k4w, k4q = self._derivs(vec.add(w0, vec.scale(k3w, dt)), _qadd(q0, k3q, dt), torque)
        self.omega = tuple(w0[i] + dt / 6 * (k1w[i] + 2 * k2w[i] + 2 * k3w[i] + k4w[i]) for i in range(3))
        self.q = vec.q_normalize(
            tuple(q0[i] + dt / 6 * (k1q[i] + 2 * k2q[i] + 2 * k3q[i] + k4q[i]) for i in range(4))
        )

    def angular_momentum(self):
        return (
            self.inertia[0] * self.omega[0],
            self.inertia[1] * self.omega[1],
            self.inertia[2] * self.omega[2],
        )

    def kinetic_energy(self):
        w = self.omega
        i = self.inertia
        return 0.5 * (i[0] * w[0] * w[0] + i[1] * w[1] * w[1] + i[2] * w[2] * w[2])


def _qadd(q, dq, k):
    return (q[0] + dq[0] * k, q[1] + dq[1] * k, q[2] + dq[2] * k, q[3] + dq[3] * k)
