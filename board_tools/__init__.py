"""Board tooling (CPython only): firmware flashing and A/B bundle deploys (flash/), the emulated
MicroPython board (emuboard), the Modbus bench (bench/) and the board measurements (board_heap,
board_speed). The `cubesat` CLI (ground/cli) is its front end; the operations ground never
imports it (tests/test_layers.py)."""
