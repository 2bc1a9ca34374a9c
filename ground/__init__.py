"""Ground segment (CPython only): operator CLI, link transports, archive, twin."""

__version__ = "0.1.0"
