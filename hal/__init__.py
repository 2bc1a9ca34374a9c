"""Hardware abstraction: buses mirroring MicroPython machine, chip drivers, simulated chips."""
