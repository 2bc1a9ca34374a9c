"""The ground's one exception hierarchy: every error the ground raises on purpose is a GroundError,
with the built-in class a caller would also expect as a second base (a telecommand the dictionary
refuses is a ValueError, a link that fails an OSError). The classes live beside the code that
raises them; tests/ground/test_ground_errors.py holds every public one under GroundError. The onboard
software has its own, flight.errors.FlightError (its CommandError is a command that failed
onboard), and the link stack protocols.errors.ProtocolError."""


class GroundError(Exception):
    """Base of every ground error."""
