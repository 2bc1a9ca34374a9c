"""Every `cubesat` command with bad input: one line that names the problem, a documented exit
code, never a Python traceback (unless --debug).

The table below has cases for every command and subcommand of the click group; a command that
is added without a bad-input case fails `test_every_command_has_bad_input_cases`. Each case runs
the real `cubesat` entry point in a subprocess (its own session, killed with its group on a
deadline) and checks:

  - the exit code is the one the command documents (`cubesat --help`: 1 failed, 2 usage,
    70 error no command handled, 130 Ctrl-C; send, bench run and flash deploy add their own);
  - no "Traceback" on stdout or stderr;
  - stderr, without click's usage preamble, is one line, and it matches the case's pattern.

Bad inputs: a missing file, an empty file, a wrong format (binary, not SQLite, not TOML), an
unreachable port (a bound localhost port that never listens), an unknown URL scheme, numbers
out of range (nan, negative, zero, too big), a read-only folder, no libusb, no node (PATH
stripped), a busy port and Ctrl-C in the middle of work.

Cases that fail because of a command another engineer owns are strict xfails naming the owner.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ground import cli

ROOT = Path(__file__).resolve().parents[2]
_EXE = Path(sys.executable).with_name("cubesat")
CUBESAT = [str(_EXE)] if _EXE.exists() else [sys.executable, "-m", "ground.cli"]
ISS_TLE = ROOT / "tests" / "ground" / "data" / "iss.tle"
USAGE_PREAMBLE = re.compile(r"^(Usage: |Try '|\s*$)")
TIMEOUT = 20.0  # a bad input is refused in well under a second; a hang ends here


# ------------------------------------------------------------------------------------------
# the world the bad inputs point into
# ------------------------------------------------------------------------------------------
class World:
    """Files, folders and ports for the cases; `vars` fills the {placeholders} of their argv."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self._sockets: list[socket.socket] = []
        (tmp / "empty").write_bytes(b"")
        (tmp / "text.txt").write_text("this is a text file, not a database and not a plan [\n" * 20)
        (tmp / "binary.bin").write_bytes(bytes(range(256)) * 4 + b"\xff\xfe\x00")
        (tmp / "a_file").write_text("a file where a folder should be\n")
        (tmp / "folder").mkdir()
        (tmp / "bundle").mkdir()  # a bundle folder as `cubesat build` leaves it (its manifest only)
        (tmp / "bundle" / "manifest.json").write_text('{"board": "emulated", "files": {}}')
        iss = (ISS_TLE.read_text()).splitlines()
        (tmp / "bad_checksum.tle").write_text("%s\n%s\n" % (iss[1][:-1] + "2", iss[2]))
        con = sqlite3.connect(tmp / "other.db")  # another program's database
        con.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
        con.execute("INSERT INTO contacts VALUES ('ada', '123')")
        con.commit()
        con.close()
        from ground.archive import Archive

        arc = Archive(tmp / "archive.sqlite")
        arc.ingest_samples(42, [("soc", float(t), 0.5) for t in range(10)])
        arc.close()
        from ground.server.store import SqliteStore

        store = SqliteStore(str(tmp / "ground.sqlite"))  # a ground server's archive: one command
        cid = store.add_command(42, "ops", "operator", "ping", {}, 16, 1)
        store.add_stage(cid, "queued")
        store.close()
        for name, steps in {
            "wait_huge": '["psu.set(8, 1)", "psu.on()", "wait(1e308)"]',
            "wait_nan": '[{do = "wait", seconds = nan}]',
            "wait_neg": '["wait(-1)"]',
            "wait_inf": '[{do = "wait", seconds = inf}]',
            "ok": '["psu.set(8, 1)", "psu.on()", "wait(1)"]',
            "long": '["psu.set(8, 1)", "psu.on()", "wait(86400)"]',
        }.items():
            (tmp / ("%s.toml" % name)).write_text(
                'name = "%s"\n[[case]]\nname = "c"\nsteps = %s\n' % (name, steps)
            )
        self.original = {p.name: p.read_bytes() for p in tmp.iterdir() if p.is_file()}
        self.ro = self._readonly_dir()
        self.closed_port = self._port(listen=False)  # bound, never listening: connection refused
        self.busy_port = self._port(listen=True)  # someone else serves here
        self.vars = {
            "tmp": str(tmp),
            "ro": str(self.ro) if self.ro else "",
            "closed": str(self.closed_port),
            "busy": str(self.busy_port),
        }

    def _readonly_dir(self) -> Path | None:
        """A folder nobody may write to: chmod 555 (root ignores it: then /sys), else None."""
        candidate = self.tmp / "read_only"
        candidate.mkdir()
        candidate.chmod(0o555)
        for d in (candidate, Path("/sys")):
            try:
                tempfile.TemporaryFile(dir=d).close()
            except OSError:
                return d
        return None

    def _port(self, listen: bool) -> int:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        if listen:
            s.listen(1)
        self._sockets.append(s)
        return s.getsockname()[1]

    def close(self) -> None:
        for s in self._sockets:
            s.close()
        (self.tmp / "read_only").chmod(0o755)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("bad_inputs"))
    yield w
    w.close()


# ------------------------------------------------------------------------------------------
# the table
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    command: str  # the click path, e.g. "archive query"
    name: str  # what is wrong
    argv: tuple[str, ...]  # after `cubesat`, {placeholders} from World.vars
    code: int | tuple[int, ...]  # the documented exit code(s)
    message: str | None  # regex the one error line must match (None: no error line, e.g. Ctrl-C stop)
    owner: str = ""  # set while the owner's command still fails the case: a strict xfail
    env: dict[str, str] = field(default_factory=dict)
    interrupt: bool = False  # SIGINT once the command printed its first line (matching `ready`)
    ready: str = r""
    needs_ro: bool = False
    unchanged: tuple[str, ...] = ()  # files whose bytes must be the same afterwards
    noise: str = r"^$"  # stderr lines allowed besides the error line (e.g. a start-up banner)


NO_NODE = {"PATH": "/nonexistent"}
TWIN_BANNER = r"(?i)insecure|unkeyed|no authentication|twin: link at|WARNING"
OWN_SEND = "send (lead)"
OWN_TWIN = "twin (lead)"
OWN_FLASH = "flash/emulate/build (helper)"

CASES: list[Case] = [
    # --- the group itself
    Case("", "unknown command", ("nosuch",), 2, r"No such command 'nosuch'"),
    # --- mission
    Case("heap", "zero minutes", ("heap", "--minutes", "0"), 2, r"--minutes.*must be in 0\.\.1440"),
    Case("heap", "nan minutes", ("heap", "--minutes", "nan"), 2, r"--minutes.*must be in 0\.\.1440"),
    Case("mission", "zero seconds", ("mission", "--seconds", "0"), 2, r"--seconds.*0 is not in the range"),
    Case("mission", "negative seconds", ("mission", "--seconds", "-5"), 2, r"--seconds.*-5"),
    Case("mission", "nan ber", ("mission", "--ber", "nan", "--seconds", "1"), 2, r"--ber.*not a finite"),
    Case("mission", "out onto a file", ("mission", "--out", "{tmp}/a_file"), 1, r"--out .*a_file is a file"),
    Case(
        "mission",
        "read-only out",
        ("mission", "--out", "{ro}/out"),
        1,
        r"--out .*cannot write",
        needs_ro=True,
    ),
    Case(
        "mission", "Ctrl-C", ("mission", "--out", "{tmp}/mission_out"), 130, r"^interrupted", interrupt=True
    ),
    # --- archive
    Case(
        "archive params",
        "missing file",
        ("archive", "params", "--db", "{tmp}/missing.sqlite"),
        1,
        r"no archive at",
    ),
    Case(
        "archive params",
        "empty file",
        ("archive", "params", "--db", "{tmp}/empty"),
        1,
        r"not a cubesat archive: .*empty is empty",
        unchanged=("empty",),
    ),
    Case(
        "archive params",
        "text file",
        ("archive", "params", "--db", "{tmp}/text.txt"),
        1,
        r"not a cubesat archive: .*not an SQLite database",
        unchanged=("text.txt",),
    ),
    Case(
        "archive params",
        "another program's database",
        ("archive", "params", "--db", "{tmp}/other.db"),
        1,
        r"not a cubesat archive: .*another program's database",
        unchanged=("other.db",),
    ),
    Case("archive params", "a folder", ("archive", "params", "--db", "{tmp}/folder"), 1, r"is a folder"),
    Case(
        "archive query",
        "another program's database",
        ("archive", "query", "--db", "{tmp}/other.db", "--param", "x"),
        1,
        r"not a cubesat archive",
        unchanged=("other.db",),
    ),
    Case(
        "archive query",
        "binary file",
        ("archive", "query", "--db", "{tmp}/binary.bin", "--param", "x"),
        1,
        r"not an SQLite database",
        unchanged=("binary.bin",),
    ),
    Case(
        "archive query",
        "scid out of range",
        ("archive", "query", "--db", "{tmp}/archive.sqlite", "--param", "soc", "--scid", "5000"),
        2,
        r"--scid.*5000",
    ),
    Case(
        "archive query",
        "nan time",
        ("archive", "query", "--db", "{tmp}/archive.sqlite", "--param", "soc", "--from", "nan"),
        2,
        r"--from.*not a finite",
    ),
    Case(
        "archive query",
        "output into a missing folder",
        ("archive", "query", "--db", "{tmp}/archive.sqlite", "--param", "soc", "-o", "{tmp}/no/such/x.csv"),
        1,
        r"cannot write .*x\.csv.*create the folder",
    ),
    Case(
        "archive query",
        "output into a read-only folder",
        ("archive", "query", "--db", "{tmp}/archive.sqlite", "--param", "soc", "-o", "{ro}/x.csv"),
        1,
        r"cannot write .*x\.csv",
        needs_ro=True,
    ),
    Case(
        "archive plot",
        "text file",
        ("archive", "plot", "--db", "{tmp}/text.txt", "--param", "soc", "--png", "{tmp}/p.png"),
        1,
        r"not an SQLite database",
        unchanged=("text.txt",),
    ),
    Case(
        "archive plot",
        "png into a read-only folder",
        ("archive", "plot", "--db", "{tmp}/archive.sqlite", "--param", "soc", "--png", "{ro}/p.png"),
        1,
        r"cannot write the plot",
        needs_ro=True,
    ),
    # --- dict
    Case("dict commands", "extra argument", ("dict", "commands", "extra"), 2, r"unexpected extra argument"),
    Case("dict telemetry", "extra argument", ("dict", "telemetry", "extra"), 2, r"unexpected extra argument"),
    Case(
        "dict xtce",
        "output into a missing folder",
        ("dict", "xtce", "-o", "{tmp}/no/such/d.xml"),
        1,
        r"cannot write the XTCE file .*create the folder",
    ),
    Case(
        "dict xtce",
        "read-only folder",
        ("dict", "xtce", "-o", "{ro}/d.xml"),
        1,
        r"cannot write",
        needs_ro=True,
    ),
    Case("dict xtce", "output is a folder", ("dict", "xtce", "-o", "{tmp}/folder"), 2, r"is a directory"),
    Case(
        "dict yamcs",
        "read-only folder",
        ("dict", "yamcs", "{ro}/yamcs"),
        1,
        r"cannot write the Yamcs instance to .*: (Permission denied|Operation not permitted)",
        needs_ro=True,
    ),
    Case(
        "dict yamcs",
        "port 0",
        ("dict", "yamcs", "{tmp}/y", "--tc-port", "0"),
        2,
        r"--tc-port.*not in the range",
    ),
    # --- watch
    Case(
        "watch",
        "closed port",
        ("watch", "--link", "tcp://127.0.0.1:{closed}", "--seconds", "1"),
        1,
        r"link: .*refused.*twin or board is running",
    ),
    Case("watch", "unknown scheme", ("watch", "--link", "foo://bar", "--seconds", "1"), 1, r"link: .*foo"),
    Case("watch", "http URL", ("watch", "--link", "http://x", "--seconds", "1"), 1, r"link: .*http"),
    Case(
        "watch",
        "port out of range",
        ("watch", "--link", "tcp://127.0.0.1:99999", "--seconds", "1"),
        1,
        r"link: .*99999|port",
    ),
    Case("watch", "nan seconds", ("watch", "--seconds", "nan"), 2, r"--seconds.*not a finite"),
    Case("ground token", "no user", ("ground", "token"), 2, r"Missing argument 'USER'"),
    Case("ground token", "dot in the user name", ("ground", "token", "a.b"), 2, r"USER.*letters, digits"),
    # --- ground transfers (CFDP through the ground server; refusals by a running server: tests/ground_server)
    Case("ground transfers list", "no server", ("ground", "transfers", "list"), 2, r"give --server URL"),
    Case(
        "ground transfers list",
        "unreachable server",
        ("ground", "transfers", "list", "--server", "http://127.0.0.1:{closed}"),
        1,
        r"cannot reach the ground server",
    ),
    Case(
        "ground transfers list", "zero limit", ("ground", "transfers", "list", "--limit", "0"), 2, r"--limit"
    ),
    Case(
        "ground transfers list",
        "nan interval",
        ("ground", "transfers", "list", "--watch", "--interval", "nan"),
        2,
        r"--interval.*not a finite",
    ),
    Case(
        "ground transfers put",
        "missing local file",
        ("ground", "transfers", "put", "{tmp}/missing.bin", "files/x.bin"),
        2,
        r"LOCAL.*does not exist",
    ),
    Case(
        "ground transfers put",
        "a folder as the file",
        ("ground", "transfers", "put", "{tmp}/folder", "files/x.bin"),
        2,
        r"LOCAL.*is a directory",
    ),
    Case(
        "ground transfers put",
        "remote outside files/ and the slots",
        ("ground", "transfers", "put", "{tmp}/text.txt", "lib/boot.py"),
        2,
        r"REMOTE.*under files/, slot_a/ or slot_b/",
    ),
    Case(
        "ground transfers put",
        "remote climbing out",
        ("ground", "transfers", "put", "{tmp}/text.txt", "files/../main.py"),
        2,
        r"REMOTE.*\.\. parts",
    ),
    Case(
        "ground transfers put",
        "unreachable server",
        (
            "ground",
            "transfers",
            "put",
            "{tmp}/text.txt",
            "files/t.txt",
            "--server",
            "http://127.0.0.1:{closed}",
        ),
        1,
        r"cannot reach the ground server",
        unchanged=("text.txt",),
    ),
    Case(
        "ground transfers put",
        "zero timeout",
        ("ground", "transfers", "put", "{tmp}/text.txt", "files/t.txt", "--timeout", "0"),
        2,
        r"--timeout",
    ),
    Case(
        "ground transfers get", "no remote", ("ground", "transfers", "get"), 2, r"Missing argument 'REMOTE'"
    ),
    Case(
        "ground transfers get",
        "remote outside",
        ("ground", "transfers", "get", "/etc/passwd"),
        2,
        r"REMOTE.*no leading /",
    ),
    Case(
        "ground transfers get",
        "unreachable server",
        ("ground", "transfers", "get", "files/log.bin", "--server", "http://127.0.0.1:{closed}"),
        1,
        r"cannot reach the ground server",
    ),
    Case(
        "ground transfers cancel",
        "id not a number",
        ("ground", "transfers", "cancel", "last"),
        2,
        r"ID.*'last'",
    ),
    Case("ground transfers cancel", "zero id", ("ground", "transfers", "cancel", "0"), 2, r"ID.*0"),
    Case(
        "ground transfers cancel",
        "unreachable server",
        ("ground", "transfers", "cancel", "3", "--server", "http://127.0.0.1:{closed}"),
        1,
        r"cannot reach the ground server",
    ),
    Case("ground transfers resume", "negative id", ("ground", "transfers", "resume", "-4"), 2, r"ID|-4"),
    Case(
        "ground transfers resume",
        "unreachable server",
        ("ground", "transfers", "resume", "3", "--server", "http://127.0.0.1:{closed}"),
        1,
        r"cannot reach the ground server",
    ),
    Case(
        "ground transfers resume",
        "no server",
        ("ground", "transfers", "resume", "3"),
        2,
        r"give --server URL",
    ),
    Case("watch", "negative seconds", ("watch", "--seconds", "-1"), 2, r"--seconds"),
    Case(
        "watch",
        "archive is a text file",
        ("watch", "--archive", "{tmp}/text.txt", "--link", "tcp://127.0.0.1:{closed}"),
        1,
        r"--archive: not a cubesat archive",
        unchanged=("text.txt",),
    ),
    Case(
        "watch",
        "archive in a read-only folder",
        ("watch", "--archive", "{ro}/w.sqlite", "--link", "tcp://127.0.0.1:{closed}"),
        1,
        r"--archive: cannot open archive .*may you write there",
        needs_ro=True,
    ),
    # --- history and events (the ground server's archive, or the server)
    Case("history", "no source", ("history",), 2, r"give --archive FILE.*--config.*--server"),
    Case("history", "missing archive", ("history", "--archive", "{tmp}/missing.sqlite"), 1, r"no archive at"),
    Case(
        "history",
        "an archive without server history",
        ("history", "--archive", "{tmp}/archive.sqlite"),
        1,
        r"holds no ground-server history",
        unchanged=("archive.sqlite",),
    ),
    Case(
        "history",
        "bad time",
        ("history", "--archive", "{tmp}/ground.sqlite", "--since", "yesterday"),
        2,
        r"--since.*not a time: 'yesterday'.*ISO 8601",
    ),
    Case(
        "history",
        "until before since",
        ("history", "--archive", "{tmp}/ground.sqlite", "--since", "-1h", "--until", "-2h"),
        2,
        r"--until must be after --since",
    ),
    Case(
        "history",
        "unknown spacecraft",
        ("history", "--archive", "{tmp}/ground.sqlite", "--spacecraft", "7"),
        1,
        r"unknown spacecraft '7'.*scid 42",
        unchanged=("ground.sqlite",),
    ),
    Case(
        "history",
        "unreachable server",
        ("history", "--server", "http://127.0.0.1:{closed}"),
        1,
        r"cannot reach the ground server",
    ),
    Case(
        "history",
        "out into a missing folder",
        ("history", "--archive", "{tmp}/ground.sqlite", "--out", "{tmp}/no/such/h.csv"),
        1,
        r"cannot write the commands .*create the folder",
    ),
    Case("history", "unknown format", ("history", "--format", "xml"), 2, r"--format.*'xml'"),
    Case("events", "missing archive", ("events", "--archive", "{tmp}/missing.sqlite"), 1, r"no archive at"),
    Case("events", "bad time", ("events", "--until", "-2x"), 2, r"--until.*not a time"),
    Case(
        "events",
        "unknown spacecraft",
        ("events", "--archive", "{tmp}/ground.sqlite", "--spacecraft", "sat9"),
        1,
        r"unknown spacecraft 'sat9'",
    ),
    Case(
        "events",
        "unreachable server",
        ("events", "--server", "http://127.0.0.1:{closed}", "--since", "-2h"),
        1,
        r"cannot reach the ground server",
    ),
    Case(
        "dict params",
        "output into a missing folder",
        ("dict", "params", "--out", "{tmp}/no/such/p.csv"),
        1,
        r"cannot write the parameter table .*create the folder",
    ),
    Case("dict params", "unknown format", ("dict", "params", "--format", "xml"), 2, r"--format.*'xml'"),
    Case(
        "",
        "log file in a missing folder",
        ("--log-file", "{tmp}/no/such/c.log", "dict", "params"),
        1,
        r"cannot write --log-file .*create the folder",
    ),
    # --- bench
    Case("bench run", "missing plan", ("bench", "run", "{tmp}/missing.toml"), 2, r"does not exist"),
    Case("bench run", "empty plan", ("bench", "run", "{tmp}/empty"), 2, r"^bench: .*no \[\[case\]\]"),
    Case("bench run", "binary plan", ("bench", "run", "{tmp}/binary.bin"), 2, r"^bench: .*not a text file"),
    Case(
        "bench run",
        "not TOML",
        ("bench", "run", "{tmp}/text.txt"),
        2,
        r"^bench: .*text\.txt is not a valid TOML plan",
    ),
    Case("bench run", "wait(1e308)", ("bench", "run", "{tmp}/wait_huge.toml"), 2, r"seconds must be at most"),
    Case("bench run", "wait(nan)", ("bench", "run", "{tmp}/wait_nan.toml"), 2, r"not nan"),
    Case("bench run", "wait(inf)", ("bench", "run", "{tmp}/wait_inf.toml"), 2, r"not inf"),
    Case("bench run", "wait(-1)", ("bench", "run", "{tmp}/wait_neg.toml"), 2, r"non-negative"),
    Case(
        "bench run",
        "unreachable instrument",
        ("bench", "run", "{tmp}/ok.toml", "--psu", "tcp://127.0.0.1:{closed}"),
        2,
        r"cannot reach .*is the instrument on",
    ),
    Case(
        "bench run",
        "unknown URL scheme",
        ("bench", "run", "{tmp}/ok.toml", "--psu", "foo://bar"),
        2,
        r"instrument URL 'foo://bar'",
    ),
    Case(
        "bench run", "http URL", ("bench", "run", "{tmp}/ok.toml", "--psu", "http://x"), 2, r"instrument URL"
    ),
    Case(
        "bench run",
        "port out of range",
        ("bench", "run", "{tmp}/ok.toml", "--psu", "tcp://127.0.0.1:99999"),
        2,
        r"out of range",
    ),
    Case(
        "bench run",
        "junit in a read-only folder",
        ("bench", "run", "{tmp}/ok.toml", "--junit", "{ro}/j.xml"),
        2,
        r"cannot write --junit",
        needs_ro=True,
    ),
    Case("bench run", "Ctrl-C", ("bench", "run", "{tmp}/long.toml"), 130, r"^interrupted", interrupt=True),
    # --- uplink-bundle
    Case("uplink-bundle", "missing bundle", ("uplink-bundle", "{tmp}/nosuch"), 2, r"BUNDLE.*does not exist"),
    Case("uplink-bundle", "no manifest", ("uplink-bundle", "{tmp}"), 2, r"no manifest\.json"),
    Case(
        "uplink-bundle",
        "closed port",
        ("uplink-bundle", "{tmp}/bundle", "--link", "tcp://127.0.0.1:{closed}", "--timeout", "2"),
        1,
        r"link",
    ),
    Case(
        "uplink-bundle",
        "missing key file",
        ("uplink-bundle", "{tmp}/bundle", "--key-file", "{tmp}/missing.hex"),
        2,
        r"--key-file",
    ),
    Case(
        "uplink-bundle",
        "empty key file",
        ("uplink-bundle", "{tmp}/bundle", "--key-file", "{tmp}/empty"),
        2,
        r"key",
    ),
    Case(
        "uplink-bundle",
        "zero attempts",
        ("uplink-bundle", "{tmp}/bundle", "--max-attempts", "0"),
        2,
        r"attempts",
    ),
    # --- send (the lead)
    Case("send", "apid out of range", ("send", "ping", "--apid", "5000"), 2, r"apid"),
    Case(
        "send",
        "closed port",
        ("send", "ping", "--link", "tcp://127.0.0.1:{closed}", "--timeout", "2"),
        1,
        r"link",
    ),
    Case(
        "send",
        "port out of range",
        ("send", "ping", "--link", "tcp://127.0.0.1:99999"),
        (1, 2),
        r"99999|port",
    ),
    Case("send", "unknown scheme", ("send", "ping", "--link", "foo://bar"), (1, 2), r"foo"),
    Case("send", "http URL", ("send", "ping", "--link", "http://x"), (1, 2), r"http"),
    Case("send", "missing key file", ("send", "ping", "--key-file", "{tmp}/missing.hex"), 2, r"--key-file"),
    Case("send", "empty key file", ("send", "ping", "--key-file", "{tmp}/empty"), 2, r"key"),
    Case("send", "binary key file", ("send", "ping", "--key-file", "{tmp}/binary.bin"), 2, r"key"),
    Case(
        "send",
        "rekey with a non-hex key",
        (
            "send",
            "rekey",
            "spi=1",
            "wrapped_key=zz",
            "--role",
            "admin",
            "--confirm",
            "--link",
            "tcp://127.0.0.1:{closed}",
        ),
        2,
        r"wrapped_key",
    ),
    Case("send", "nan timeout", ("send", "ping", "--timeout", "nan"), 2, r"--timeout"),
    # --- twin (the lead)
    Case(
        "twin",
        "port out of range",
        ("twin", "--insecure", "--port", "99999"),
        2,
        r"--port",
        noise=TWIN_BANNER,
    ),
    Case(
        "twin",
        "nan speed",
        ("twin", "--insecure", "--port", "0", "--speed", "nan", "--seconds", "1"),
        2,
        r"--speed",
        noise=TWIN_BANNER,
    ),
    Case(
        "twin",
        "negative speed",
        ("twin", "--insecure", "--port", "0", "--speed", "-1", "--seconds", "1"),
        2,
        r"--speed",
        noise=TWIN_BANNER,
    ),
    Case(
        "twin",
        "zero speed",
        ("twin", "--insecure", "--port", "0", "--speed", "0", "--seconds", "1"),
        2,
        r"--speed",
        noise=TWIN_BANNER,
    ),
    Case(
        "twin",
        "busy port",
        ("twin", "--insecure", "--port", "{busy}", "--seconds", "1"),
        1,
        r"port {busy}.*(in use|busy)",
        noise=TWIN_BANNER,
    ),
    Case(
        "twin",
        "flash folder in /proc",
        ("twin", "--insecure", "--port", "0", "--flash", "/proc/x", "--seconds", "1"),
        1,
        r"(?i)flash.*/proc/x|/proc/x.*flash",
        noise=TWIN_BANNER,
    ),
    Case(
        "twin",
        "read-only flash folder",
        ("twin", "--insecure", "--port", "0", "--flash", "{ro}/flash", "--seconds", "1"),
        1,
        r"(?i)flash",
        needs_ro=True,
        noise=TWIN_BANNER,
    ),
    Case(
        "twin",
        "binary key file",
        (
            "twin",
            "--key-file",
            "{tmp}/binary.bin",
            "--flash",
            "{tmp}/twin_flash",
            "--port",
            "0",
            "--seconds",
            "1",
        ),
        2,
        r"--key-file",
        noise=TWIN_BANNER,
    ),
    Case(
        "twin",
        "Ctrl-C",
        ("twin", "--insecure", "--port", "0"),
        # 0: the twin stopped (its --help); 130: the group's "interrupted (Ctrl-C)" when the signal
        # lands between the banner and serve() (twin prints the banner outside its try)
        (0, 130),
        None,
        interrupt=True,
        ready=r"link at",
        noise=TWIN_BANNER + r"|stopp|^interrupted \(Ctrl-C\)$",
    ),
    Case(
        "twin",
        "station without a TLE",
        ("twin", "--insecure", "--port", "0", "--seconds", "1", "--station", "48,11,0"),
        1,
        r"ground station .*needs the orbit as a TLE \(--tle\)",
        noise=TWIN_BANNER,
    ),
    Case(
        "twin",
        "missing TLE file",
        ("twin", "--insecure", "--port", "0", "--seconds", "1", "--tle", "{tmp}/missing.tle"),
        2,
        r"--tle.*cannot read TLE file .*missing\.tle: No such file",
        noise=TWIN_BANNER,
    ),
    # --- passes (contact windows)
    Case(
        "passes",
        "missing TLE file",
        ("passes", "--tle", "{tmp}/missing.tle", "--station", "0,0,0"),
        2,
        r"--tle.*cannot read TLE file .*missing\.tle: No such file",
    ),
    Case(
        "passes",
        "text file as TLE",
        ("passes", "--tle", "{tmp}/text.txt", "--station", "0,0,0"),
        2,
        r"--tle.*text\.txt must hold one TLE",
    ),
    Case(
        "passes",
        "bad checksum",
        ("passes", "--tle", "{tmp}/bad_checksum.tle", "--station", "0,0,0"),
        2,
        r"--tle.*bad_checksum\.tle line 1: bad checksum \(expected 1, got '2'\)",
    ),
    Case(
        "passes",
        "latitude out of range",
        ("passes", "--tle", str(ISS_TLE), "--station", "91,0,0"),
        2,
        r"--station.*latitude must be -90\.\.90, got 91",
    ),
    # --- build, emulate, flash (another helper)
    Case("build", "unknown board", ("build", "--board", "nosuch"), 2, r"unknown board 'nosuch'"),
    Case("build", "out onto a file", ("build", "--board", "emulated", "--out", "{tmp}/a_file"), 1, r"a_file"),
    Case(
        "build",
        "read-only out",
        ("build", "--board", "emulated", "--out", "{ro}/dist"),
        1,
        r"build failed",
        needs_ro=True,
    ),
    Case(
        "emulate",
        "no node",
        ("emulate", "--flash", "{tmp}/emu_flash"),
        1,
        r"(?i)node",
        env=NO_NODE,
    ),
    Case("emulate", "flash onto a file", ("emulate", "--flash", "{tmp}/a_file"), 2, r"--flash.*is a file"),
    Case(
        "emulate",
        "busy UART port",
        ("emulate", "--flash", "{tmp}/emu_flash2", "--uart-tcp", "{busy}"),
        1,
        r"(?i){busy}.*(in use|busy)|(in use|busy).*{busy}",
    ),
    Case(
        "emulate",
        "UART port out of range",
        ("emulate", "--uart-tcp", "99999"),
        2,
        r"--uart-tcp|99999",
        owner=OWN_FLASH
        + ": exits 1; a port out of range is bad usage (exit 2, click.IntRange) like twin --port",
    ),
    Case(
        "flash deploy",
        "missing bundle",
        ("flash", "deploy", "-p", "/dev/null", "--bundle", "{tmp}/missing"),
        2,
        r"--bundle",
    ),
    Case(
        "flash deploy",
        "empty bundle folder",
        ("flash", "deploy", "-p", "{tmp}/no_such_tty", "--bundle", "{tmp}/folder"),
        1,
        r"(?i)manifest|bundle",
    ),
    Case(
        "flash restart",
        "no such serial port",
        ("flash", "restart", "-p", "{tmp}/no_such_tty"),
        1,
        r"no_such_tty",
    ),
    Case(
        "flash status",
        "no such serial port",
        ("flash", "status", "-p", "{tmp}/no_such_tty"),
        1,
        r"no_such_tty",
    ),
    Case(
        "flash esp32",
        "missing image",
        ("flash", "esp32", "-p", "/dev/null", "{tmp}/missing.bin"),
        2,
        r"does not exist",
    ),
    Case(
        "flash esp32",
        "no such serial port",
        ("flash", "esp32", "-p", "{tmp}/no_such_tty", "{tmp}/binary.bin", "--force"),
        1,
        r"no_such_tty",
    ),
    Case(
        "flash esp32",
        "bad address",
        ("flash", "esp32", "-p", "/dev/null", "{tmp}/binary.bin", "--address", "zz"),
        2,
        r"--address",
    ),
    Case(
        "flash uf2",
        "missing image",
        ("flash", "uf2", "{tmp}/missing.uf2", "--drive", "{tmp}/folder"),
        2,
        r"does not exist",
    ),
    Case(
        "flash uf2",
        "plain folder as drive",
        ("flash", "uf2", "{tmp}/binary.bin", "--drive", "{tmp}/folder"),
        1,
        r"INFO_UF2",
    ),
    Case(
        "flash uf2",
        "read-only folder as drive",
        ("flash", "uf2", "{tmp}/binary.bin", "--drive", "{ro}"),
        1,
        r"INFO_UF2|cannot write",
        needs_ro=True,
    ),
    Case("flash dfu", "missing image", ("flash", "dfu", "{tmp}/missing.bin"), 2, r"does not exist"),
    Case(
        "flash dfu",
        "no libusb (or no board)",
        ("flash", "dfu", "{tmp}/binary.bin"),
        1,
        r"no USB backend.*libusb|no DFU device",
    ),
    Case(
        "flash dfu",
        "bad address",
        ("flash", "dfu", "{tmp}/binary.bin", "--address", "zz"),
        2,
        r"zz|--address",
    ),
]


def _leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # through click's API: some groups load lazily
        cmd = group.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            yield from _leaf_commands(cmd, (*prefix, name))
        else:
            yield " ".join((*prefix, name))


def test_every_command_has_bad_input_cases() -> None:
    commands = set(_leaf_commands(cli.main))
    covered = {c.command for c in CASES}
    assert commands - covered == set(), "commands without a bad-input case in CASES"
    assert covered - commands - {""} == set(), "cases for commands that do not exist"


# ------------------------------------------------------------------------------------------
# running a case
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ran:
    code: int | None  # None: killed at the deadline
    stdout: str
    stderr: str
    signalled: bool  # SIGINT was sent (interrupt cases)


def _run(argv: list[str], env: dict[str, str], interrupt: bool, ready: str = "") -> Ran:
    """Run cubesat in its own session; with interrupt, SIGINT once a line matching `ready` is printed.
    The whole process group is killed at the deadline (a hang fails the case, never the suite)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **env}
    full_env.pop("CUBESAT_DEBUG", None)
    if "PATH" in env:  # no node on the PATH: the entry point itself still has to start
        argv = [sys.executable, "-m", "ground.cli", *argv[len(CUBESAT) :]]
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full_env,
        cwd=ROOT,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    sel = selectors.DefaultSelector()
    for pipe in out:
        os.set_blocking(pipe.fileno(), False)
        sel.register(pipe, selectors.EVENT_READ)
    deadline = time.monotonic() + TIMEOUT
    signalled = False
    code: int | None = None
    try:
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for key, _ in sel.select(min(left, 0.5)):
                chunk = key.fileobj.read(65536)  # type: ignore[union-attr]
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                out[key.fileobj].extend(chunk)  # type: ignore[index]
            if interrupt and not signalled and any(_line_matches(b, ready) for b in out.values()):
                os.kill(proc.pid, signal.SIGINT)  # the command is at work: Ctrl-C
                signalled = True
        else:
            code = proc.wait(max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        pass
    finally:
        sel.close()
        if proc.poll() is None or code is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = {k: v.decode(errors="replace") for k, v in out.items()}
    return Ran(code, text[proc.stdout], text[proc.stderr], signalled)


def _line_matches(data: bytearray, pattern: str) -> bool:
    lines = data.decode(errors="replace").split("\n")[:-1]  # complete lines only
    return any(re.search(pattern, ln) for ln in lines)


def _case_id(c: Case) -> str:
    return "%s: %s" % (c.command or "cubesat", c.name)


def _params() -> list:
    params = []
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason="owner: %s" % c.owner)] if c.owner else []
        params.append(pytest.param(c, id=_case_id(c), marks=marks))
    return params


@pytest.fixture(scope="module")
def ran(world: World) -> dict[str, Ran]:
    """Every case, a few processes at a time (each waits on its own process, with a deadline)."""
    from concurrent.futures import ThreadPoolExecutor

    todo = [c for c in CASES if not (c.needs_ro and world.ro is None)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            _case_id(c): pool.submit(
                _run, [*CUBESAT, *(a.format(**world.vars) for a in c.argv)], c.env, c.interrupt, c.ready
            )
            for c in todo
        }
        return {k: f.result() for k, f in futures.items()}


@pytest.mark.parametrize("case", _params())
def test_bad_input_gives_one_line_and_a_documented_exit_code(
    case: Case, world: World, ran: dict[str, Ran]
) -> None:
    if case.needs_ro and world.ro is None:
        pytest.skip("no read-only folder on this machine")
    r = ran[_case_id(case)]
    stdout, stderr, code = r.stdout, r.stderr, r.code
    shown = "exit %s\n--- stdout\n%s\n--- stderr\n%s" % (code, stdout[-2000:], stderr[-2000:])
    assert code is not None, "no exit within %g s\n%s" % (TIMEOUT, shown)
    if case.interrupt:
        assert r.signalled, "the command ended before it printed a line matching %r\n%s" % (case.ready, shown)
    assert "Traceback" not in stdout + stderr, shown
    codes = case.code if isinstance(case.code, tuple) else (case.code,)
    assert code in codes, shown
    lines = [ln for ln in stderr.splitlines() if not USAGE_PREAMBLE.match(ln)]
    noise = re.compile(case.noise.format(**world.vars))
    if case.message is None:
        assert [ln for ln in lines if not noise.search(ln)] == [], shown
    else:
        pattern = re.compile(case.message.format(**world.vars))
        errors = [ln for ln in lines if pattern.search(ln)]
        assert len(errors) == 1, "one line naming the problem (%s)\n%s" % (case.message, shown)
        assert [ln for ln in lines if ln not in errors and not noise.search(ln)] == [], shown
    for name in case.unchanged:
        assert (world.tmp / name).read_bytes() == world.original[name], "%s was changed" % name
    for name in case.unchanged:  # no -wal/-shm/-journal beside a file that was only read
        assert not [p for p in world.tmp.iterdir() if p.name.startswith(name + "-")]


# ------------------------------------------------------------------------------------------
# the safety net of the group: anything a command did not handle
# ------------------------------------------------------------------------------------------
def _boom(exc: BaseException):  # type: ignore[no-untyped-def]
    def raiser() -> str:
        raise exc

    return raiser


def test_an_unhandled_error_is_one_line_with_exit_70(monkeypatch: pytest.MonkeyPatch) -> None:
    import ground.dictionary

    monkeypatch.setattr(ground.dictionary, "to_xtce", _boom(RuntimeError("boom\nsecond line")))
    r = CliRunner().invoke(cli.main, ["dict", "xtce"])
    assert r.exit_code == cli.EXIT_SOFTWARE == 70
    assert r.stderr.splitlines() == [
        "error: RuntimeError: boom second line; this is a bug in cubesat, please report it with the "
        "traceback (rerun as `cubesat --debug ...` to see it)"
    ]
    assert "Traceback" not in r.output


def test_debug_prints_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import ground.dictionary

    monkeypatch.setattr(ground.dictionary, "to_xtce", _boom(RuntimeError("boom")))
    r = CliRunner().invoke(cli.main, ["--debug", "dict", "xtce"])
    assert r.exit_code == 70
    assert "Traceback (most recent call last)" in r.stderr and "RuntimeError: boom" in r.stderr
    assert r.stderr.splitlines()[-1].startswith("error: RuntimeError: boom; this is a bug")
    r = CliRunner().invoke(cli.main, ["dict", "xtce"], env={"CUBESAT_DEBUG": "1"})
    assert r.exit_code == 70 and "Traceback" in r.stderr


def test_an_os_error_names_the_file_and_what_to_check(monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import ground.dictionary

    err = OSError(errno.ENOSPC, "No space left on device", "/data/x")
    monkeypatch.setattr(ground.dictionary, "to_xtce", _boom(err))
    r = CliRunner().invoke(cli.main, ["dict", "xtce"])
    assert r.exit_code == 70
    assert r.stderr.splitlines() == [
        "error: No space left on device: /data/x; check the path or link, its permissions and free space "
        "(rerun as `cubesat --debug ...` to see it)"
    ]


def test_ctrl_c_is_one_line_with_exit_130(monkeypatch: pytest.MonkeyPatch) -> None:
    import ground.dictionary

    monkeypatch.setattr(ground.dictionary, "to_xtce", _boom(KeyboardInterrupt()))
    r = CliRunner().invoke(cli.main, ["dict", "xtce"])
    assert r.exit_code == cli.EXIT_INTERRUPTED == 130
    assert r.stderr.splitlines() == ["interrupted (Ctrl-C)"]


def test_a_reader_that_went_away_is_exit_141_and_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    import ground.dictionary

    monkeypatch.setattr(ground.dictionary, "to_xtce", _boom(BrokenPipeError(32, "Broken pipe")))
    r = CliRunner().invoke(cli.main, ["dict", "xtce"])  # as in `cubesat dict xtce | head -1`
    assert r.exit_code == cli.EXIT_BROKEN_PIPE == 141
    assert r.stderr == ""


def test_help_documents_the_exit_codes() -> None:
    text = CliRunner().invoke(cli.main, ["--help"]).output
    for code in ("0", "1", "2", "70", "130", "141"):
        assert re.search(r"^\s+%s\s+\S" % code, text, re.M), code
    assert "--debug" in text


def test_watch_says_when_the_link_is_lost() -> None:
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(10)

    def hang_up() -> None:  # a twin that goes away: accept, then close
        conn, _ = server.accept()
        conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    try:
        r = CliRunner().invoke(cli.main, ["watch", "--link", "tcp://127.0.0.1:%d" % port, "--seconds", "30"])
    finally:
        thread.join(10)
        server.close()
    assert r.exit_code == 1, r.output
    assert r.stderr.splitlines() == [
        "Error: link lost: connection closed by peer; is the twin or board still running?"
    ]
