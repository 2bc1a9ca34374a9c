"""The failures of an A/B deploy (board_tools/flash/deploy.py): every one is a DeployError whose
message says what failed and what state the board is in."""

from __future__ import annotations

from board_tools.errors import BoardToolsError


class DeployError(BoardToolsError):
    """Base of every deploy failure; the message says what failed and what state the board is in."""


class BundleError(DeployError):
    """The bundle folder is not a consistent build (manifest missing or not matching the files)."""


class BoardError(DeployError):
    """The board did not answer, or board-side code failed."""


class AbiMismatchError(DeployError):
    """The firmware on the board cannot load the bundle's .mpy files."""


class WrongBoardError(AbiMismatchError):
    """The bundle was built for another kind of board (its sys.platform is not the board's)."""


class HeapTooSmallError(DeployError):
    """The board's free heap at boot cannot hold the application the bundle carries."""


class RomfsPartitionError(DeployError):
    """The bundle runs packages from a ROMFS image and the board has no ROM partition to hold it."""


class VerifyError(DeployError):
    """Files on the board do not hash to the manifest after copying; the boot pointer was not touched."""

    def __init__(self, message: str, mismatches: dict[str, tuple[str, str | None]]) -> None:
        super().__init__(message)
        self.mismatches = mismatches  # path -> (expected sha256, sha256 on the board or None if missing)


class HeartbeatTimeoutError(DeployError):
    """The new slot did not report good within the time limit."""


class RolledBackError(DeployError):
    """The new slot failed max_attempts boots; boot_select went back to the previous slot."""

    def __init__(
        self, message: str, failed_slot: str, running_slot: str, attempts: int, console: str = ""
    ) -> None:
        super().__init__(message)
        self.failed_slot = failed_slot
        self.running_slot = running_slot
        self.attempts = attempts
        self.console = console  # the last console lines of the failed boots
