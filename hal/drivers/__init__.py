"""Register-level chip drivers (MicroPython style: const register maps, preallocated buffers, SI units)."""
