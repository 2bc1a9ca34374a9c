"""Fixtures of the ground-server tests (helpers in server_harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from server_harness import Ground, start_ground, until


@pytest.fixture(scope="module")
def ground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ground]:
    """One twin on a pty and one server, shared by a module's tests (they count deltas)."""
    g, stop = start_ground(tmp_path_factory.mktemp("ground"))
    try:
        link = g.server.links["sat1"]
        until(lambda: link.term.fop._initialized, 15, "COP-1 Set V(R) confirmed")
        yield g
    finally:
        stop()
