"""Fixtures of the ground-server tests (helpers in server_harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from server_harness import Ground, running_ground


@pytest.fixture(scope="module")
def ground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ground]:
    """One twin on a pty and one server, shared by a module's tests (they count deltas)."""
    with running_ground(tmp_path_factory.mktemp("ground")) as g:
        yield g
