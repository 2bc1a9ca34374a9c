"""Simulated buses, chips and environment: drivers run unchanged against them (CPython and MicroPython)."""
