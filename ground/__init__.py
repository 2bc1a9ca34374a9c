"""Ground segment (CPython only): operator CLI, link transports, archive, twin."""
