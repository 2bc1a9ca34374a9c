"""What the ground server writes and reads (`GroundStore`); `store.SqliteStore` implements it.

A server database (PostgreSQL, ...) implements this class and nothing else changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class GroundStore(ABC):
    """What the server writes and reads; every method is thread-safe. Times are Unix seconds."""

    @abstractmethod
    def add_packet(
        self,
        scid: int,
        t_ground: float,
        t_onboard: float | None,
        header: tuple[int, int, int, int],
        raw: bytes,
        decoded: dict,
    ) -> int:
        """header: (apid, seq, service, subtype). Returns the packet id (increasing)."""

    @abstractmethod
    def add_event(
        self,
        scid: int,
        t_ground: float,
        t_onboard: float | None,
        severity: int,
        name: str,
        args: dict,
        text: str,
        packet_id: int,
    ) -> int: ...

    @abstractmethod
    def add_samples(
        self, scid: int, t_onboard: float, values: dict[str, float], playback: bool = False
    ) -> None:
        """playback: samples made before the newest ones (played back from an onboard store),
        filed with the onboard clock they were made by, not as a clock restart."""

    @abstractmethod
    def has_packet(self, scid: int, key: tuple[int, int, int, int, float | None]) -> bool:
        """Whether a packet with key (apid, seq, service, subtype, t_onboard) was archived before
        (in an earlier session: the caller knows its own)."""

    @abstractmethod
    def add_command(
        self, scid: int, user: str, role: str, name: str, args: dict, apid: int, seq: int
    ) -> int: ...

    @abstractmethod
    def add_stage(
        self,
        command_id: int,
        stage: str,
        subtype: int | None = None,
        detail: str = "",
        status: str | None = None,
        failure_code: int | None = None,
    ) -> None:
        """Record a stage with its time; `status` (and a failure) update the command's row."""

    @abstractmethod
    def set_reply(self, command_id: int, packet_id: int) -> None: ...

    @abstractmethod
    def add_link_stats(self, scid: int, stats: dict) -> None: ...

    @abstractmethod
    def packets(
        self, scid: int | None, since: float, limit: int, service: int | None = None, after: int = 0
    ) -> list[dict]:
        """TM packets received at or after `since` with an id above `after`, in id order."""

    @abstractmethod
    def packet(self, packet_id: int) -> dict | None: ...

    @abstractmethod
    def events(
        self, scid: int | None, since: float, limit: int, until: float | None = None, after: int = 0
    ) -> list[dict]:
        """Events received in [since, until) (ground time) with an id above `after`, oldest first."""

    @abstractmethod
    def command(self, command_id: int) -> dict | None: ...

    @abstractmethod
    def commands(
        self, scid: int | None, since: float, limit: int, until: float | None = None, after: int = 0
    ) -> list[dict]:
        """Commands sent in [since, until) with an id above `after`, oldest first, with their stages."""

    def page(
        self, what: str, scid: int | None, since: float, until: float | None, after: int, limit: int
    ) -> tuple[list[dict], int | None]:
        """One page of "commands" or "events": (rows, the cursor to pass as `after` for the next
        page, or None when these were the last). The API and `cubesat history/events` page with it."""
        method = self.commands if what == "commands" else self.events
        rows = method(scid, since, limit + 1, until, after)  # one more: is there a next page?
        return (rows[:limit], rows[limit - 1]["id"]) if len(rows) > limit else (rows, None)

    @abstractmethod
    def add_transfer(self, row: dict) -> int:
        """A CFDP transaction that started (ground/server/transfer_store.py has the fields); its id."""

    @abstractmethod
    def end_transfer(self, tid: int, row: dict) -> None:
        """Its outcome: bytes, resent, ended, condition, condition_text, state."""

    @abstractmethod
    def transfers(
        self, spacecraft: str | None = None, limit: int = 100, tid: int | None = None
    ) -> list[dict]:
        """The newest `limit` transfers (of one spacecraft), newest first; or the one of id `tid`."""

    @abstractmethod
    def spacecraft_ids(self) -> list[int]:
        """The SCIDs the archive holds anything of (packets, events or commands)."""

    @abstractmethod
    def parameter_names(self) -> list[str]:
        """The housekeeping parameters the archive holds samples of."""

    @abstractmethod
    def samples(self, scid: int, name: str, t0: float, t1: float) -> tuple[list[float], list[float]]:
        """(onboard times, values) of one parameter with t0 <= t < t1, as `cubesat archive` reads them."""

    def stats(self) -> dict[str, Any]:
        """Write statistics (rows written, batches, seconds spent writing), if the store keeps any."""
        return {}

    @abstractmethod
    def close(self) -> None: ...
