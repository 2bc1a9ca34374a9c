"""One hardware-in-the-loop suite, three targets:

    pytest hil_tests                          # --target twin (default): flight software on CPython
    pytest hil_tests --target emulated        # the flight bundle deployed into real MicroPython (WebAssembly)
    pytest hil_tests --target serial --port /dev/ttyACM0 [--key-file k.hex] [--reset-cmd CMD]   # a board
    pytest hil_tests --target emulated --hil-repeat 5 --hil-link-loss 0.05 --hil-seed 1234   # stress

Every test talks to the target the same way an operator does: a ground server (the one
`cubesat ground` runs) owns the target's pty or serial line, with COP-1, SDLS and its archive, and
the test drives it through the scripting API (GroundClient over HTTP: send and wait for a stage,
decoded replies, events since a time).
Target-specific actions (reset, fault injection) are methods of `Target`; a test that needs one
the target cannot do is skipped with the reason. On a target whose state outlives the test (a
real board) every parameter a test changes is put back, and thrusters are disarmed, at teardown.
How to run it against a real board: README.md here.
"""

from __future__ import annotations

import fcntl
import os
import random
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hil_target import KEY, EmulatedTarget, LinkNoise, SerialTarget, Target, TwinTarget


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware-in-the-loop target")
    group.addoption("--target", default="twin", choices=("twin", "emulated", "serial"), help="what to test")
    group.addoption("--port", default=None, help="ground-link port of the board (--target serial)")
    group.addoption(
        "--key-file",
        default=None,
        help="SDLS key (hex) the board was provisioned with; the ground's anti-replay counter is kept "
        "in KEY_FILE.sn",
    )
    group.addoption(
        "--speed", type=float, default=1.0, help="mission seconds per wall second (--target serial)"
    )
    group.addoption(
        "--reset-cmd",
        default=None,
        help="shell command that resets the board, e.g. 'mpremote connect /dev/ttyACM1 reset' (serial)",
    )
    group.addoption(
        "--hil-repeat",
        type=int,
        default=1,
        metavar="N",
        help="run every HIL test N times (stress; each repetition gets its own target and seed)",
    )
    group.addoption(
        "--hil-seed",
        type=int,
        default=None,
        metavar="SEED",
        help="seed of every random choice the suite makes (link loss); printed in the header and with "
        "each failure; default: a fresh one per run",
    )
    group.addoption(
        "--hil-link-loss",
        type=float,
        default=0.0,
        metavar="P",
        help="drop each uplink CLTU burst with probability P (0..0.5, seeded); COP-1 must recover",
    )


def _run_seed(config: pytest.Config) -> int:
    seed = config.getoption("--hil-seed")
    if seed is None:
        seed = getattr(config, "_hil_seed", None)
        if seed is None:  # an xdist worker draws from the controller's seed, the one the header prints
            seed = getattr(config, "workerinput", {}).get("hil_seed")
        if seed is None:
            seed = int.from_bytes(os.urandom(4), "big")
        config._hil_seed = seed  # type: ignore[attr-defined]
    return seed


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist, on the controller: hand the run seed to each worker (else each would draw its own)."""
    node.workerinput["hil_seed"] = _run_seed(node.config)


def pytest_configure(config: pytest.Config) -> None:
    loss = config.getoption("--hil-link-loss")
    if not 0.0 <= loss <= 0.5:
        raise pytest.UsageError("--hil-link-loss must be within 0..0.5, got %r" % loss)
    if config.getoption("--hil-repeat") < 1:
        raise pytest.UsageError("--hil-repeat must be at least 1")
    _run_seed(config)


def pytest_report_header(config: pytest.Config) -> str:
    return "hil: target %s, seed %d (--hil-seed), repeat %d, link loss %g" % (
        config.getoption("--target"),
        _run_seed(config),
        config.getoption("--hil-repeat"),
        config.getoption("--hil-link-loss"),
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    n = metafunc.config.getoption("--hil-repeat")
    if n > 1:
        metafunc.fixturenames.append("hil_repetition")
        metafunc.parametrize("hil_repetition", range(1, n + 1), ids=lambda i: "rep%d-of-%d" % (i, n))


# Under pytest-xdist (./dev.sh test), on a real-time target the tests that wait longest are handed
# out first (link silence: 60 s of mission time at 1x), so the other worker runs the rest meanwhile
# instead of the run ending on that one test alone. The twin (20x) and one process: file order.
LONG_FIRST = ("test_fdir_link_silence_resets_the_radio",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput") and config.getoption("--target") != "twin":
        items.sort(key=lambda item: getattr(item, "originalname", item.name) not in LONG_FIRST)  # stable


def seed_of(config: pytest.Config, nodeid: str) -> int:
    """The seed of one test (run seed, test id, repetition): stable across runs with the same --hil-seed."""
    return zlib.crc32(("%d:%s" % (_run_seed(config), nodeid)).encode())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        text = "run seed %d, this test's seed %d: rerun with --hil-seed %d (same --hil-link-loss)" % (
            _run_seed(item.config),
            seed_of(item.config, item.nodeid),
            _run_seed(item.config),
        )
        target = item.funcargs.get("target") if hasattr(item, "funcargs") else None
        noise = getattr(target, "noise", None)
        if noise is not None and noise.loss:
            text += "; uplink bursts dropped: %s of %d" % (noise.dropped[:50], noise.sent)
        rep.sections.append(("hil seed", text))


@pytest.fixture
def hil_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed (from --hil-seed, its id and repetition)."""
    return seed_of(request.config, request.node.nodeid)


@pytest.fixture
def hil_rng(hil_seed: int) -> random.Random:
    """A random.Random for the test, seeded from --hil-seed: use it for any random choice."""
    return random.Random(hil_seed)


@pytest.fixture(scope="session")
def key_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The ground server's SDLS key file. A real board's (--key-file): its anti-replay counter
    (KEY_FILE.sn, shared with `cubesat send`) outlives the run, as the board's last number does.
    The twin and the emulated board start afresh each test: their key in a file of the run."""
    if request.config.getoption("--target") == "serial":
        given = request.config.getoption("--key-file")
        return Path(given) if given else None
    path = tmp_path_factory.mktemp("keys") / "sdls.hex"
    path.write_text(KEY.hex())
    return path


@pytest.fixture(scope="session")
def emulated_bundle(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The emulated board's bundle, built once per run. Under pytest-xdist the first worker to get
    here builds it into the run's temp folder (the parent of each worker's own), under a lock; the
    others wait for that lock and deploy the same bundle (the deployer only reads it)."""
    from firmware_builds.build import build

    if not hasattr(request.config, "workerinput"):  # one process: its own temp folder
        out = tmp_path_factory.mktemp("dist")
        build("emulated", out)
        return out / "emulated"
    run_dir = tmp_path_factory.getbasetemp().parent
    done = run_dir / "hil-dist"
    with open(run_dir / "hil-dist.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed, also if the build fails
        if not done.exists():
            out = tmp_path_factory.mktemp("dist")
            build("emulated", out)
            out.rename(done)  # complete or absent: a failed build leaves nothing for the next worker
    return done / "emulated"


@pytest.fixture
def target(request: pytest.FixtureRequest, tmp_path: Path, key_file: Path | None) -> Iterator[Target]:
    opt = request.config.getoption
    kind = opt("--target")
    seed = seed_of(request.config, request.node.nodeid)
    random.seed(seed)  # any use of the global random module in the code under test is replayable too
    noise = LinkNoise(opt("--hil-link-loss"), seed)
    if kind == "twin":
        assert key_file is not None
        t: Target = TwinTarget(tmp_path, key_file, noise)
    elif kind == "emulated":
        assert key_file is not None
        bundle = request.getfixturevalue("emulated_bundle")
        t = EmulatedTarget(tmp_path, bundle, key_file, noise)
    else:
        port = opt("--port")
        if not port:
            pytest.skip("--target serial needs --port")
        t = SerialTarget(port, key_file, opt("--speed"), opt("--reset-cmd"), tmp_path, noise)
    try:
        t.wait_link()
        yield t
        if t.persistent:
            t.wait_link()  # a reset in the test: wait for COP-1 to resynchronise first
            for undo in reversed(t.undo):
                undo()
    finally:
        t.close()
