"""Ground segment (CPython only): operator CLI, link transports, archive, twin."""

__version__ = "0.1.0"

# The spacecraft ID every ground tool uses unless told otherwise (`--scid`); flight/app.py's
# FlightApp defaults to the same (tests/ground_server/test_scid.py checks).
DEFAULT_SCID = 0x2A
