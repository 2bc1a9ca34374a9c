"""The ground server's TOML config: links (each bound to its SCID and key), archive, log, users.

    [server]
    bind = "127.0.0.1"            # loopback by default; anything else needs allow_remote = true
    port = 8700
    archive = "out/ground.sqlite"
    log_file = "out/ground.log"   # JSON lines
    max_body_bytes = 16384

    [[spacecraft]]
    name = "sat1"
    scid = 42
    link = { type = "pty", address = "/dev/pts/5" }   # serial | pty | tcp | udp | socket, kiss = true
    key_file = "keys/ops.hex"     # SDLS SPI 1; or insecure = true
    apid = 16
    interleave = 5
    rs_basis = "dual"             # dual (CCSDS; this project's flight) | conventional
    t1_ms = 4000                  # COP-1 retransmission timer (longer than a round trip)
    yamcs = { tm_frames = "127.0.0.1:10015", tc_port = 10025, role = "operator" }  # optional:
                                  # the server as Yamcs' front end (`cubesat dict yamcs DIR`)
    playback = { rate = 20, silence_s = 60, horizon_s = 43200, from_s = 0 }
                                  # optional: at each AOS, play back what the archive lacks
                                  # (ground/server/playback.py)

    [[users]]
    name = "alice"
    role = "operator"             # viewer | operator | admin
    token_hash = "scrypt$..."     # `cubesat ground token alice` makes a token and this line

    [client]                      # what `cubesat send/watch --config` use
    server = "http://127.0.0.1:8700"
    token_file = "~/.cubesat-token"

Relative paths are relative to the config file's folder.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flight.dictionary import APID
from ground.server.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

ROLES = ("viewer", "operator", "admin")
USER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a token is "<name>.<secret>": no dots in names
LINK_TYPES = ("serial", "pty", "tcp", "udp", "socket")
DEFAULT_PORT = 8700


@dataclass(frozen=True)
class LinkConfig:
    type: str
    address: str
    baud: int = 115200
    kiss: bool = False

    def url(self) -> str:
        """The URL `ground.transport.open_link` takes."""
        if self.type in ("serial", "pty"):
            return "serial://%s?baud=%d" % (self.address, self.baud)
        return "%s://%s" % (self.type, self.address)


@dataclass(frozen=True)
class YamcsConfig:
    """The server as Yamcs' front end: good TM frames go to `tm_frames` (host:port, UDP); Yamcs'
    PUS telecommands arrive on UDP `tc_port` (loopback) and are sent with `role`'s rights."""

    tm_host: str
    tm_port: int
    tc_port: int
    role: str = "operator"


@dataclass(frozen=True)
class PlaybackConfig:
    """At each AOS, play back what the archive lacks (ground/server/playback.py)."""

    rate: int = 20  # packets per second onboard (the store_dump argument, 1..50)
    silence_s: float = 60.0  # no frame for this long: the next one is an AOS
    horizon_s: float = 43200.0  # how far back gaps are looked for (the store's reach)
    from_s: float | None = None  # onboard time the archive should be complete from (mission start);
    # None: from the first sample it holds


@dataclass(frozen=True)
class SpacecraftConfig:
    name: str
    scid: int
    link: LinkConfig
    key_file: str | None = None
    apid: int = APID
    interleave: int = 5
    yamcs: YamcsConfig | None = None
    dual_basis: bool = True  # RS symbols in the dual basis (rs_basis = "dual")
    playback: PlaybackConfig | None = None
    frame_len: int | None = None  # shortened TM frames (protocols.lora.FRAME_LEN); None: 223 x I
    t1_ms: int = 4000  # COP-1 FOP retransmission timer (a LoRa round trip needs 12 s)


@dataclass(frozen=True)
class UserConfig:
    name: str
    role: str
    token_hash: str = field(repr=False)


@dataclass(frozen=True)
class ServerConfig:
    bind: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    archive: str = "out/ground.sqlite"
    log_file: str | None = None
    max_body_bytes: int = 16384
    spacecraft: tuple[SpacecraftConfig, ...] = ()
    users: tuple[UserConfig, ...] = ()
    client_server: str | None = None
    client_token_file: str | None = None


def _get(table: dict, key: str, kind: type | tuple, where: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise ConfigError("%s: missing %r" % (where, key))
        return default
    value = table[key]
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError("%s: %s must be %s, got %r" % (where, key, names, value))
    return value


def _path(base: Path, value: str | None) -> str | None:
    if value is None:
        return None
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else base / p)


def _unknown(table: dict, known: set[str], where: str) -> None:
    extra = sorted(set(table) - known)
    if extra:
        raise ConfigError(
            "%s: unknown key(s) %s (known: %s)" % (where, ", ".join(extra), ", ".join(sorted(known)))
        )


def _spacecraft(t: dict, i: int, base: Path) -> SpacecraftConfig:
    where = "spacecraft[%d]" % i
    known = {
        "name",
        "scid",
        "link",
        "key_file",
        "insecure",
        "apid",
        "interleave",
        "rs_basis",
        "yamcs",
        "playback",
        "t1_ms",
    }
    _unknown(t, known, where)
    name = _get(t, "name", str, where)
    scid = _get(t, "scid", int, where)
    if not 0 <= scid <= 1023:
        raise ConfigError("%s: scid must be 0..1023, got %d" % (where, scid))
    lt = _get(t, "link", dict, where)
    _unknown(lt, {"type", "address", "baud", "kiss"}, where + ".link")
    ltype = _get(lt, "type", str, where + ".link")
    if ltype not in LINK_TYPES:
        raise ConfigError("%s.link: type must be one of %s, got %r" % (where, ", ".join(LINK_TYPES), ltype))
    link = LinkConfig(
        ltype,
        _get(lt, "address", str, where + ".link"),
        _get(lt, "baud", int, where + ".link", 115200),
        _get(lt, "kiss", bool, where + ".link", False),
    )
    key_file = _path(base, _get(t, "key_file", str, where, None))
    insecure = _get(t, "insecure", bool, where, False)
    if key_file is None and not insecure:
        raise ConfigError("%s: give key_file (authenticated uplink) or insecure = true (none)" % where)
    if key_file is not None and insecure:
        raise ConfigError("%s: key_file and insecure = true contradict each other" % where)
    interleave = _get(t, "interleave", int, where, 5)
    if interleave not in (1, 2, 3, 4, 5, 8):
        raise ConfigError("%s: interleave must be 1..5 or 8, got %d" % (where, interleave))
    apid = _get(t, "apid", int, where, APID)
    if not 0 <= apid <= 2047:
        raise ConfigError("%s: apid must be 0..2047, got %d" % (where, apid))
    yt = _get(t, "yamcs", dict, where, None)
    yamcs = _yamcs(yt, where + ".yamcs") if yt is not None else None
    basis = _get(t, "rs_basis", str, where, "dual")
    if basis not in ("dual", "conventional"):
        raise ConfigError("%s: rs_basis must be dual or conventional, got %r" % (where, basis))
    pt = _get(t, "playback", dict, where, None)
    playback = _playback(pt, where + ".playback") if pt is not None else None
    t1_ms = _get(t, "t1_ms", int, where, 4000)
    if not 100 <= t1_ms <= 120_000:
        raise ConfigError(
            "%s: t1_ms must be 100..120000 (COP-1 retransmission timer), got %d" % (where, t1_ms)
        )
    return SpacecraftConfig(
        name, scid, link, key_file, apid, interleave, yamcs, basis == "dual", playback, t1_ms=t1_ms
    )


def _playback(t: dict, where: str) -> PlaybackConfig:
    _unknown(t, {"rate", "silence_s", "horizon_s", "from_s"}, where)
    rate = _get(t, "rate", int, where, 20)
    if not 1 <= rate <= 50:
        raise ConfigError("%s: rate must be 1..50 packets per second, got %d" % (where, rate))
    out = {"rate": rate}
    for key, default in (("silence_s", 60.0), ("horizon_s", 43200.0)):
        value = _get(t, key, (int, float), where, default)
        if isinstance(value, bool) or not 0 < value < 1e7:
            raise ConfigError("%s: %s must be a number of seconds above 0, got %r" % (where, key, value))
        out[key] = float(value)
    start = _get(t, "from_s", (int, float), where, None)
    if start is not None:
        if isinstance(start, bool) or not 0 <= start < 2**32:
            raise ConfigError("%s: from_s must be an onboard time in seconds, got %r" % (where, start))
        out["from_s"] = float(start)
    return PlaybackConfig(**out)


def _yamcs(t: dict, where: str) -> YamcsConfig:
    _unknown(t, {"tm_frames", "tc_port", "role"}, where)
    host, _, port = _get(t, "tm_frames", str, where).rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError("%s: tm_frames must be host:port, got %r" % (where, t["tm_frames"]))
    tc_port = _get(t, "tc_port", int, where)
    if not 1 <= tc_port <= 65535:
        raise ConfigError("%s: tc_port must be 1..65535, got %d" % (where, tc_port))
    role = _get(t, "role", str, where, "operator")
    if role not in ROLES[1:]:
        raise ConfigError("%s: role must be operator or admin, got %r" % (where, role))
    return YamcsConfig(host, int(port), tc_port, role)


def parse_config(data: dict, base: Path | None = None) -> ServerConfig:
    """A ServerConfig from the parsed TOML; raises ConfigError naming the bad key."""
    base = base or Path.cwd()
    _unknown(data, {"server", "spacecraft", "users", "client"}, "config")
    srv = _get(data, "server", dict, "config", {})
    _unknown(srv, {"bind", "port", "archive", "log_file", "max_body_bytes", "allow_remote"}, "server")
    bind = _get(srv, "bind", str, "server", "127.0.0.1")
    try:
        loopback = bind == "localhost" or ipaddress.ip_address(bind).is_loopback
    except ValueError:
        raise ConfigError("server: bind must be an IP address, got %r" % bind) from None
    if not loopback and not _get(srv, "allow_remote", bool, "server", False):
        raise ConfigError("server: bind %s is not loopback; set allow_remote = true to mean it" % bind)
    port = _get(srv, "port", int, "server", DEFAULT_PORT)
    if not 0 <= port <= 65535:
        raise ConfigError("server: port must be 0..65535, got %d" % port)
    max_body = _get(srv, "max_body_bytes", int, "server", 16384)
    if not 256 <= max_body <= 1 << 24:
        raise ConfigError("server: max_body_bytes must be 256..16777216, got %d" % max_body)
    craft = tuple(_spacecraft(t, i, base) for i, t in enumerate(_get(data, "spacecraft", list, "config", [])))
    for what in ("name", "scid"):
        seen = [getattr(c, what) for c in craft]
        dup = {v for v in seen if seen.count(v) > 1}
        if dup:
            raise ConfigError("spacecraft: %s %s used twice" % (what, ", ".join(map(str, sorted(dup)))))
    users = []
    for i, u in enumerate(_get(data, "users", list, "config", [])):
        where = "users[%d]" % i
        _unknown(u, {"name", "role", "token_hash"}, where)
        role = _get(u, "role", str, where)
        if role not in ROLES:
            raise ConfigError("%s: role must be one of %s, got %r" % (where, ", ".join(ROLES), role))
        token_hash = _get(u, "token_hash", str, where)
        if not token_hash.startswith(("scrypt$", "pbkdf2_sha256$")):
            raise ConfigError(
                "%s: token_hash must be a scrypt$ or pbkdf2_sha256$ hash, never a token" % where
            )
        name = _get(u, "name", str, where)
        if not USER_NAME.fullmatch(name):
            raise ConfigError("%s: name %r must be 1-64 letters, digits, - or _" % (where, name))
        users.append(UserConfig(name, role, token_hash))
    names = [u.name for u in users]
    if len(set(names)) != len(names):
        raise ConfigError("users: a name is used twice")
    client = _get(data, "client", dict, "config", {})
    _unknown(client, {"server", "token_file"}, "client")
    return ServerConfig(
        bind=bind,
        port=port,
        archive=_path(base, _get(srv, "archive", str, "server", "out/ground.sqlite")) or "",
        log_file=_path(base, _get(srv, "log_file", str, "server", None)),
        max_body_bytes=max_body,
        spacecraft=craft,
        users=tuple(users),
        client_server=_get(client, "server", str, "client", None),
        client_token_file=_path(base, _get(client, "token_file", str, "client", None)),
    )


def load_config(path: str | Path) -> ServerConfig:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError("cannot read config %s: %s" % (p, exc.strerror or exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config %s is not valid TOML: %s" % (p, exc)) from None
    return parse_config(data, p.resolve().parent)
