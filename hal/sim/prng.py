"""A small deterministic PRNG (xorshift32) so simulations give the same numbers on every interpreter."""

import math


class Prng:
    def __init__(self, seed=1):
        self.state = (seed & 0xFFFFFFFF) or 0x9E3779B9

    def next_u32(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x

    def random(self):
        """Uniform in [0, 1)."""
        return self.next_u32() / 4294967296.0

    def gauss(self, sigma=1.0):
        """Normal deviate (Box-Muller)."""
        u1 = self.random() or 1e-12
        u2 = self.random()
        return sigma * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def randrange(self, n):
        return self.next_u32() % n
