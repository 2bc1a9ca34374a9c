"""Hardware-in-the-loop bench: Modbus instruments, their simulators, and the bench plan runner.

    instruments      PowerSupply / ElectronicLoad clients (pymodbus), register maps, BenchError
    sim_instruments  SimBench: a simulated PSU and e-load as real Modbus servers on one circuit
    plan             plan files, TwinPowerTarget (the flight twin on the bench supply), run_plan
    report           JUnit XML and Markdown reports

`bench` below is the `cubesat bench` click group; this module imports only click so that the
CLI starts fast (pymodbus and the flight code load when a command runs).
"""

from __future__ import annotations

import sys

import click


@click.group()
def bench() -> None:
    """Hardware-in-the-loop bench: instruments over Modbus, plans against the flight twin."""


@bench.command("run")
@click.argument("plan", type=click.Path(exists=True, dir_okay=False))
@click.option("--junit", type=click.Path(dir_okay=False), help="Write JUnit XML here.")
@click.option("--report", type=click.Path(dir_okay=False), help="Write a Markdown report here.")
@click.option(
    "--flash-dir",
    type=click.Path(file_okay=False),
    help="The twin's flash (boot record, parameters); default: a fresh temporary one.",
)
@click.option("--psu", "psu_url", help="PSU: tcp://HOST:PORT or rtu:///dev/ttyUSB0?baud=N (default: sim).")
@click.option("--load", "load_url", help="E-load URL, same forms (with --psu, if the plan uses the load).")
@click.option("--quiet", "-q", is_flag=True, help="Print only the verdict per case.")
def bench_run(
    plan: str,
    junit: str | None,
    report: str | None,
    flash_dir: str | None,
    psu_url: str | None,
    load_url: str | None,
    quiet: bool,
) -> None:
    """Run a bench PLAN (TOML/JSON). Exit 0: all cases pass, 1: a case failed, 2: plan or bench error.

    Ctrl-C (exit 130) and errors still switch the load and the supply output off.
    """
    import logging
    import tempfile
    from pathlib import Path

    from board_tools.bench.instruments import BenchError, InstrumentUnreachableError
    from board_tools.bench.plan import run_plan_file

    # failures come back as BenchError with the reason; pymodbus's own frame dumps are noise here
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

    def log(line: str) -> None:
        if not quiet or not line.startswith(" "):
            click.echo(line)

    for option, path in (("--junit", junit), ("--report", report)):
        if not path:  # a report that cannot be written fails before the bench moves
            continue
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=Path(path).parent).close()
        except OSError as exc:
            click.echo(
                "bench: cannot write %s %s: %s; choose a place you can write to"
                % (option, path, exc.strerror or exc),
                err=True,
            )
            sys.exit(2)
    try:
        result = run_plan_file(
            plan, junit=junit, report=report, flash_dir=flash_dir, psu_url=psu_url, load_url=load_url, log=log
        )
    except InstrumentUnreachableError as exc:
        click.echo("bench: %s; is the instrument on and is its --psu/--load URL right?" % exc, err=True)
        sys.exit(2)
    except BenchError as exc:
        click.echo("bench: %s" % exc, err=True)
        sys.exit(2)
    except OSError as exc:  # --junit/--report/--flash-dir in a missing or read-only place
        where = " %s" % exc.filename if exc.filename else ""
        click.echo(
            "bench: cannot write%s: %s; choose a place you can write to" % (where, exc.strerror or exc),
            err=True,
        )
        sys.exit(2)
    click.echo(
        "%s: %d/%d cases passed (%.2f s)"
        % ("PASS" if result.ok else "FAIL", result.count("pass"), len(result.cases), result.wall_s)
    )
    sys.exit(0 if result.ok else 1)
