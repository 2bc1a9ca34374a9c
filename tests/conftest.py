"""Shared test set-up: the repository root on sys.path, hypothesis profiles."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "portable"))
sys.path.insert(0, str(ROOT / "tests"))

settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# A suite started in the background by a non-interactive shell (`./dev.sh test &`) inherits SIGINT
# ignored, and so would every command a test starts: the tests that press Ctrl-C on one (the CLI's
# exit codes, the mission console) would see it ignored. The tests run as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


# Files that take a minute or more (seconds on 2 loaded cores). Under pytest-xdist (./dev.sh test:
# --dist loadfile --no-loadscope-reorder) they are handed out first, longest first, so the run does
# not end on one of them alone; tests keep their order within a file, and a run in one process
# keeps the file order. A file that grows past a minute belongs here.
LONG_FILES = (
    "tests/flight/test_twin_day.py",  # 70-150: 24 simulated hours
    "tests/emuboard/test_board_heap.py",  # 70-110: every board's heap, measured on the emulated board
    "tests/test_firmware_builds.py",  # 60-90: every board's bundle built
    "tests/native/test_sanitizers.py",  # 40-70: the C core rebuilt under ASan and UBSan
    "tests/ground/test_deploy.py",  # 50-60: power cut at every step of an A/B deploy
)


def pytest_collection_modifyitems(config, items) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker; the controller schedules in this order
        rank = {path: i for i, path in enumerate(LONG_FILES)}
        items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable


def pytest_addoption(parser) -> None:
    # stress the link tests: `pytest tests/ground --link-seed 123 --count 20` (pytest-repeat) runs
    # them 20 times with other noise; a failure prints its seed so it can be run again exactly
    parser.addoption("--link-seed", type=int, default=7, help="seed of the lossy-link tests' noise")


@pytest.fixture
def link_seed(request) -> int:
    seed = request.config.getoption("--link-seed")
    if hasattr(request.node, "callspec") and "__pytest_repeat_step_number" in request.node.callspec.params:
        seed += request.node.callspec.params["__pytest_repeat_step_number"]  # other noise each repeat
    return seed


def pytest_runtest_makereport(item, call) -> None:
    if call.when == "call" and call.excinfo is not None and "link_seed" in getattr(item, "funcargs", {}):
        item.add_report_section(
            "call", "link", "link seed %d (rerun with --link-seed)" % item.funcargs["link_seed"]
        )
