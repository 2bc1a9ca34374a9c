"""Simulated buses, pins and clocks with the MicroPython `machine`/`time` APIs."""
