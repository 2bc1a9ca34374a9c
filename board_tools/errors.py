"""Board tooling's one exception hierarchy: every error the flashing, deploying, emulated-board, heap,
speed and bench tools raise on purpose is a BoardToolsError, with the built-in (or mpremote) class
a caller would also expect as a second base. The classes live beside the code that raises them;
tests/ground/test_ground_errors.py holds every public one under it, as it does the ground's."""


class BoardToolsError(Exception):
    """Base of every board tooling error."""
