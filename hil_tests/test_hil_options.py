"""The suite's own stress options: --hil-repeat, --hil-seed, --hil-link-loss (see README.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hil_target import LinkNoise

HERE = Path(__file__).resolve().parent


def test_link_noise_is_replayable_from_its_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        noise = LinkNoise(0.3, seed)
        return [noise.drop_up() for _ in range(200)]

    assert pattern(1234) == pattern(1234) != pattern(1235)
    assert 30 < sum(pattern(1234)) < 90  # about 30 % of 200
    noise = LinkNoise(0.3, 1234)
    for _ in range(200):
        noise.drop_up()
    assert noise.sent == 200 and noise.dropped == [i + 1 for i, d in enumerate(pattern(1234)) if d]
    quiet = LinkNoise()
    assert not any(quiet.drop_up() for _ in range(100))


def test_hil_rng_is_seeded_per_test(hil_rng, hil_seed: int, request: pytest.FixtureRequest) -> None:
    import random
    import zlib

    assert hil_rng.random() == random.Random(hil_seed).random()
    # the seed is the run seed and this test's id: stable across runs given --hil-seed
    run_seed = request.config.getoption("--hil-seed")
    if run_seed is not None:
        assert hil_seed == zlib.crc32(("%d:%s" % (run_seed, request.node.nodeid)).encode())


def test_repeat_seed_and_loss_on_the_twin(request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--target") != "twin":
        pytest.skip("runs the twin in a sub-session; once per suite is enough (the default target)")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        str(HERE / "test_hil_spacecraft.py"),
        "-k",
        "boot_and_ping",
        "--hil-repeat",
        "2",
        "--hil-seed",
        "7",
        "--hil-link-loss",
        "0.05",
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=HERE.parent)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "hil: target twin, seed 7 (--hil-seed), repeat 2, link loss 0.05" in r.stdout
    assert re.search(r"\b2 passed\b", r.stdout), r.stdout
    bad = subprocess.run(
        [*cmd[:-2], "--hil-link-loss", "0.9"], capture_output=True, text=True, timeout=60, cwd=HERE.parent
    )
    assert bad.returncode != 0 and "--hil-link-loss must be within 0..0.5" in bad.stderr + bad.stdout
