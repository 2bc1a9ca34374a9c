"""One exception hierarchy per package: every public exception class a ground module defines is a
GroundError (ground/errors.py), every one of the board tooling a BoardToolsError
(board_tools/errors.py, its board-side code left out: it runs on the boards); the dictionary's
refusal of a telecommand is not the onboard CommandError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import board_tools
import ground
from board_tools.errors import BoardToolsError
from ground.errors import GroundError


def _exceptions(package) -> list[type]:
    found = []
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if ".board_side" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found.append(obj)
    return found


def test_every_ground_exception_is_a_ground_error() -> None:
    found = _exceptions(ground)
    assert len(found) > 20  # the server's, the dictionary's, links, passes, transfers, archive
    assert [c.__qualname__ for c in found if not issubclass(c, GroundError)] == []


def test_every_board_tools_exception_is_a_board_tools_error() -> None:
    found = _exceptions(board_tools)
    assert len(found) > 25  # deploy, flashing (UF2, DFU, esptool), emulated board, heap, speed, bench
    assert [c.__qualname__ for c in found if not issubclass(c, BoardToolsError)] == []


def test_a_refused_telecommand_is_a_value_error_and_not_the_onboard_one() -> None:
    from flight.errors import CommandError
    from ground.dictionary import BadCommandError, build_tc

    with pytest.raises(BadCommandError) as info:
        build_tc("no_such_command", {}, 0x10, 1, "operator")
    assert isinstance(info.value, ValueError) and not isinstance(info.value, CommandError)
