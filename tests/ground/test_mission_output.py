"""What `cubesat mission` (and `cubesat watch`, `./dev.sh`) print reads right: honest counts, PUS-1
stages by name, codes by their dictionary names, a title that fits, exactly the usage lines."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from flight.dictionary import EVENTS, MODE_NAMES, TELEMETRY
from ground import watch
from ground.flight_twin import FlightTwin
from ground.mission import run_mission
from ground.terminal import EVENT_VALUE_NAMES, event_text, stage_names

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 240  # past the time-tagged hk_oneshot of set 1 (released at 220 s)


def _mission(monkeypatch: pytest.MonkeyPatch, columns: int, seconds: int = SECONDS) -> tuple[bool, str]:
    monkeypatch.setenv("COLUMNS", str(columns))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ok = run_mission(seconds=seconds, out_dir=None)
    return ok, out.getvalue()


@pytest.fixture(scope="module")
def printed() -> str:
    with pytest.MonkeyPatch.context() as mp:
        ok, text = _mission(mp, 80)
    assert ok, text
    return text


def test_counts_are_honest(printed: str) -> None:
    # nothing reads as a fraction with more received than expected ("541/540")
    for n, m in re.findall(r"\b(\d+)/(\d+)\b", printed):
        assert int(n) <= int(m), "%s/%s in\n%s" % (n, m, printed)
    line = re.search(r"housekeeping set 1: (\d+) reports received of (\d+) generated onboard", printed)
    assert line, printed
    received, generated = map(int, line.groups())
    # 24 periodic reports (t = 0, 10, ... 230 s) and the one-shot released from the schedule
    assert (received, generated) == (SECONDS // 10 + 1, SECONDS // 10 + 1)
    assert re.search(r"1 core\s+│\s+25\s+│\s+1\s+│\s+25\s", printed), printed  # per set: one of them one-shot
    assert "PASS every command verified (7 of 7 completed)" in printed


def test_verification_stages_by_name(printed: str) -> None:
    commands = printed[printed.index("Commands:") : printed.index("Housekeeping reports")]
    assert "Commands: 7 sent, 7 completed" in commands
    assert commands.count("accepted, started, completed") == 7
    assert "1 accepted" not in printed and "1 3 7" not in printed
    assert stage_names([1, 4]) == "accepted, start failed"


def test_event_codes_by_dictionary_name(printed: str) -> None:
    assert "BOOT boot_count=1 reset_cause=power-on" in printed
    assert "MODE_CHANGE from=BOOT to=SAFE reason=auto" in printed
    assert "MODE_CHANGE from=SAFE to=DETUMBLE reason=command" in printed  # the commanded one
    assert "PARAM_CHANGED param_id=comms.beacon_s value=120" in printed
    assert not re.search(r"\b(from|to|reason|reset_cause)=\d", printed), printed


def test_value_names_come_from_the_flight_dictionary() -> None:
    # the names are read from flight/dictionary.py; a reworded description must not silently lose them
    assert all(EVENT_VALUE_NAMES.values()), EVENT_VALUE_NAMES
    assert EVENT_VALUE_NAMES[("MODE_CHANGE", "to")] == dict(enumerate(MODE_NAMES))
    assert len(EVENT_VALUE_NAMES[("BOOT", "reset_cause")]) == TELEMETRY["reset_cause"][5].count(",") + 1
    assert len(EVENT_VALUE_NAMES[("MODE_CHANGE", "reason")]) == EVENTS["MODE_CHANGE"][4].count(",") + 1
    for (event, field), _names in EVENT_VALUE_NAMES.items():
        assert field in EVENTS[event][3], (event, field)
    assert event_text("AUTH_REJECT", {"check": 2}) == "AUTH_REJECT check=replay"
    assert event_text("OVERRUN", {"group": 0, "ms": 130}) == "OVERRUN group=fast ms=130"
    assert event_text("SENSOR_FAULT", {"sensor": 9, "fallback": 1}) == "SENSOR_FAULT sensor=9 fallback=mag"
    assert (
        event_text("THRUSTER_ANOMALY", {"thruster": 0, "kind": 2})
        == "THRUSTER_ANOMALY thruster=0 kind=unit-silent"
    )


def test_title_fits_the_console(printed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    title = "cubesat mission: %d s of flight software on the twin, full space link" % SECONDS
    assert title in printed.splitlines()[0] and "…" not in printed
    assert max(len(line) for line in printed.splitlines()) <= 80
    _ok, narrow = _mission(monkeypatch, 50, seconds=20)
    head = " ".join(" ".join(narrow.splitlines()[1:3]).split())
    assert head == "cubesat mission: 20 s of flight software on the twin, full space link", narrow


def test_watch_names_event_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as flash:
        twin = FlightTwin(flash)
        twin.run_ms(2000)
        cadus = twin.link.ground_read()

    class Link:
        def __init__(self, data: bytes) -> None:
            self.data = data

        def read(self, _timeout: float) -> bytes:
            data, self.data = self.data, b""
            return data

        def close(self) -> None:
            pass

    monkeypatch.setattr(watch, "open_link", lambda _url: Link(cadus))
    w = watch.Watcher("tcp://nowhere:1")
    w.poll()
    assert any("BOOT boot_count=1 reset_cause=power-on" in e for e in w.events), w.events
    assert any("MODE_CHANGE from=BOOT to=SAFE reason=auto" in e for e in w.events), w.events


def test_dev_sh_without_argument_prints_exactly_the_usage() -> None:
    r = subprocess.run(["bash", str(ROOT / "dev.sh")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    lines = r.stdout.splitlines()
    usage = [line.split()[1] for line in lines if line.strip().startswith("./dev.sh ")]
    assert usage == ["mission", "test", "bench", "setup", "fuzz"], r.stdout
    assert lines[-1].strip().startswith("./dev.sh fuzz"), r.stdout
    assert "set -euo pipefail" not in r.stdout and "#" not in r.stdout
