"""One exception hierarchy for hal/. Bus-level failures stay OSError, as on MicroPython."""


class HalError(Exception):
    """Base of errors raised by drivers and boards."""


class DeviceNotFoundError(HalError):
    """The chip did not answer or its identity register holds the wrong value."""

    def __init__(self, chip, detail):
        super().__init__("%s: %s" % (chip, detail))
        self.chip = chip


class ConfigError(HalError):
    """A driver was asked for a setting the chip does not have."""


class DeviceTimeoutError(HalError):
    """A bounded wait for the chip (data ready, TX done, reset) ran out."""

    def __init__(self, chip, what, waited_ms):
        super().__init__("%s: %s not seen within %d ms" % (chip, what, waited_ms))
        self.chip = chip
        self.waited_ms = waited_ms


class InterlockError(HalError):
    """An actuator refused a command because a safety interlock is not satisfied; `reason` says
    which one, as a number the flight dictionary names (0: not said)."""

    def __init__(self, message, reason=0):
        super().__init__(message)
        self.reason = reason
