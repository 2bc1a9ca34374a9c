"""`cubesat archive`: params, query (CSV/JSON), plot; and the errors an operator can make."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ground import cli
from ground.archive import Archive


@pytest.fixture()
def db(tmp_path: Path) -> str:
    path = tmp_path / "a.sqlite"
    arc = Archive(path)
    arc.ingest_samples(42, [("soc", float(t), t / 100) for t in range(10)] + [("temp_c", 1.0, 20.5)])
    arc.close()
    return str(path)


def test_params(db: str) -> None:
    r = CliRunner().invoke(cli.main, ["archive", "params", "--db", db])
    assert r.exit_code == 0 and r.output.split() == ["soc", "temp_c"]


def test_query_csv_and_json(db: str, tmp_path: Path) -> None:
    r = CliRunner().invoke(
        cli.main, ["archive", "query", "--db", db, "--param", "soc", "--from", "2", "--to", "5"]
    )
    assert r.exit_code == 0
    assert r.output.splitlines() == ["t,soc", "2.0,0.02", "3.0,0.03", "4.0,0.04"]
    out = tmp_path / "soc.json"
    r = CliRunner().invoke(
        cli.main, ["archive", "query", "--db", db, "--param", "soc", "--format", "json", "-o", str(out)]
    )
    assert r.exit_code == 0
    assert len(json.loads(out.read_text())["samples"]) == 10


def test_query_errors(db: str, tmp_path: Path) -> None:
    r = CliRunner().invoke(cli.main, ["archive", "query", "--db", db, "--param", "nope"])
    assert r.exit_code == 1 and "unknown parameter 'nope'" in r.output
    r = CliRunner().invoke(
        cli.main, ["archive", "query", "--db", db, "--param", "soc", "--from", "5", "--to", "1"]
    )
    assert r.exit_code == 2 and "--to" in r.output
    r = CliRunner().invoke(cli.main, ["archive", "params", "--db", str(tmp_path / "missing.sqlite")])
    assert r.exit_code == 1 and "no archive" in r.output
    r = CliRunner().invoke(cli.main, ["archive", "query", "--db", db])
    assert r.exit_code == 2 and "--param" in r.output


def test_plot(db: str, tmp_path: Path) -> None:
    png = tmp_path / "p.png"
    r = CliRunner().invoke(
        cli.main, ["archive", "plot", "--db", db, "--param", "soc", "--param", "temp_c", "--png", str(png)]
    )
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:4] == b"\x89PNG"
    r = CliRunner().invoke(cli.main, ["archive", "plot", "--db", db, "--param", "x", "--png", str(png)])
    assert r.exit_code == 1 and "unknown parameter" in r.output


def test_help_everywhere() -> None:
    for args in (["--help"], ["archive", "--help"], ["archive", "query", "--help"], ["mission", "--help"]):
        r = CliRunner().invoke(cli.main, args)
        assert r.exit_code == 0 and "Usage" in r.output
