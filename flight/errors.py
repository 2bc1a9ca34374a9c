"""One exception hierarchy for the flight application.

`CommandError` and `ParamError` carry a PUS-1 failure code (dictionary.FAIL) so the
dispatcher can report exactly why a command was refused; `StorageError` is a write that did not
read back. `super().__init__` (not `Exception.__init__(self, ...)`): MicroPython has only the former.
"""


class FlightError(Exception):
    """Base of every error the flight application raises on purpose."""


class CommandError(FlightError):
    """A command refused or failed: `code` from dictionary.FAIL, message for the operator, and
    `reason`, the number of the check that refused (the dictionary's failure reasons; 0: none)."""

    def __init__(self, code, message="", reason=0):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason


class ParamError(CommandError):
    """A parameter id or value the table refuses."""


class UpdateError(FlightError):
    """An in-orbit update step refused (flight/update.py); `reason` (also str()) is the one line
    for the ground."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class StorageError(FlightError):
    """A write that did not read back as written, or a value too large for its store."""
