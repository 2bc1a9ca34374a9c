"""Flashing: MicroPython firmware images (UF2, DFU, esptool) and application bundles (mpremote)."""
