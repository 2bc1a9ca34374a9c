"""A bundle's manifest.json read and written one file entry at a time, so that staging an update
never holds a parsed manifest: parsed whole it is about 190 B a file on a 32-bit heap (17 KB for
the RP2040's 90 files), which with the update's own state would not fit beside the flight.

The layout (`write`: firmware_builds/build.py and flight/update.py write it) is plain JSON for
every other reader, with each file entry on a line of its own, sorted by path:

    {
     "board": "rp2040",
     "files": {
      "flight/adcs.mpy": {"sha256": "1f64...", "size": 1142},
      ...
     },
     "git_revision": "...",
     ...
    }

`top` parses everything but the entries; `entries` yields them one line at a time. A manifest
in another layout (written by another tool) is parsed whole instead: it works, with the heap it
costs. Loaded only by flight/update.py.
"""

import binascii
import json
import os

from flight.errors import UpdateError

_OPEN = ' "files": {'

# what must not change by radio: the board, the firmware's .mpy ABI; and the ROMFS image
FACTS = ("board", "hal_board", "mpy_version", "arch", "romfs")


def facts(m):
    """A parsed manifest's FACTS in order; romfs as the image identity boot_select checks
    ([size, sha256]), None for a slot that runs without ROMFS."""
    t = m.get("target") or {}
    r = m.get("romfs")
    rom = [r.get("size"), r.get("sha256")] if isinstance(r, dict) else None
    return (m.get("board"), m.get("hal_board"), t.get("mpy_version"), t.get("arch"), rom)


def check_target(got, have):
    """UpdateError unless a new manifest's facts `got` name the board and firmware of `have`."""
    for i in range(4):
        if got[i] != have[i]:
            what = (
                "manifest is for %s %r, this board runs %r"
                if i < 2
                else "manifest target %s %r, the firmware loads %r"
            )
            raise UpdateError(what % (FACTS[i], got[i], have[i]))


def _one_line(line):
    # an entry line of this layout: the whole entry, `"path": {...}` with its comma
    return line.startswith('  "') and line.rstrip().endswith(("}", "},"))


def _whole(f):
    # another layout (one line, or an entry over several lines, as json.dumps(indent=1) writes)
    f.seek(0)
    return json.load(f)


def top(path):
    """The manifest's fields with "files" empty, or None when it is missing or unreadable."""
    try:
        with open(path) as f:
            parts = [f.readline()]
            inside = False
            for line in f:
                if inside and line.startswith('  "'):
                    if not _one_line(line):
                        parts = None
                        break
                    continue
                inside = line.rstrip("\r\n") == _OPEN
                parts.append(line)
            if parts is None or parts[0].rstrip("\r\n") != "{":
                m = _whole(f)
                if isinstance(m, dict) and isinstance(m.get("files"), dict):
                    m["files"] = {}
            else:
                m = json.loads("".join(parts))
    except (OSError, ValueError):  # missing, or torn (an uplink that did not complete)
        return None
    return m if isinstance(m, dict) and isinstance(m.get("files"), dict) else None


def entries(path):
    """(path, entry dict) of every file the manifest lists, in path order; an UpdateError when the
    file is unreadable, an entry malformed or out of order."""
    try:
        f = open(path)  # noqa: SIM115 (a generator holds it across yields)
    except OSError:
        raise UpdateError("%s unreadable" % path) from None
    try:
        lines = f.readline().rstrip("\r\n") == "{"  # this layout, as far as is known yet
        inside = False
        last = ""
        while lines:
            line = f.readline()
            if not inside:
                if not line:
                    break
                inside = line.rstrip("\r\n") == _OPEN
                continue
            if not _one_line(line):
                # the end of the files; or the first entry spans lines: another layout
                lines = bool(last) or not line.startswith('  "')
                break
            one = json.loads("{" + line.strip().rstrip(",") + "}")
            for rel in one:
                if rel <= last:
                    raise UpdateError("%s: %s out of order" % (path, rel))
                last = rel
                yield rel, one[rel]
        if not lines:  # parsed whole: it works, with the heap it costs
            files = _whole(f)["files"]
            for rel in sorted(files):
                yield rel, files[rel]
    except (ValueError, KeyError, TypeError):
        raise UpdateError("%s: a malformed entry" % path) from None
    finally:
        f.close()


def digest(f):
    """A manifest entry's sha256 as 32 bytes (half the RAM of the hex string); None when malformed."""
    sha = f.get("sha256") if isinstance(f, dict) else None
    if not isinstance(sha, str) or len(sha) != 64:
        return None
    try:
        return binascii.unhexlify(sha)
    except ValueError:
        return None


def merged(old, files, removed):
    """(path, entry) of the sorted stream `old` with the dict `files` replacing or joining and the
    paths in `removed` left out, in path order (a delta applied an entry at a time)."""
    add = sorted(files)
    j = 0
    for rel, f in old:
        while j < len(add) and add[j] < rel:
            yield add[j], files[add[j]]
            j += 1
        if j < len(add) and add[j] == rel:
            yield rel, files[rel]
            j += 1
        elif rel not in removed:
            yield rel, f
    for rel in add[j:]:
        yield rel, files[rel]


def _member(key, value):
    return ' "%s": %s' % (key, json.dumps(value))


def write(path, fields, files):
    """Write a manifest: `fields` (a dict, its "files" ignored) and `files`, an iterable of
    (path, entry) in sorted order."""
    with open(path, "w") as f:
        f.write("{\n")
        sep = ""
        keys = list(fields)
        if "files" not in fields:
            keys.append("files")
        for key in sorted(keys):
            f.write(sep)
            sep = ",\n"
            if key != "files":
                f.write(_member(key, fields[key]))
                continue
            f.write(_OPEN)
            comma = "\n"
            for rel, entry in files:
                f.write(comma + "  " + json.dumps(rel) + ": " + json.dumps(entry))
                comma = ",\n"
            f.write("\n }")
        f.write("\n}\n")


def apply_delta(delta_path, active_path, target_path, active, active_hash):
    """Write the target's manifest.json from the active one (`active`: its parsed top, at
    `active_path`, whose SHA-256 in hex is `active_hash`) and the uplinked delta, which is then
    removed: the active entries stream through, the delta's replace or join them in path order;
    the ROMFS image's entries that changed go onto the running image's."""
    try:
        with open(delta_path) as f:
            delta = json.load(f)
        base, new, files = delta["base"], delta["manifest"], delta["files"]
        removed = delta.get("removed", ())
    except (OSError, ValueError, KeyError, TypeError):
        raise UpdateError("%s is unreadable: uplink it again" % delta_path) from None
    if base != active_hash:
        raise UpdateError("%s was planned against another active manifest: plan again" % delta_path)
    if "rom_files" in delta:  # planned against the running image, so every removed entry is there
        f = dict(active["romfs"]["files"])
        f.update(delta["rom_files"])
        for rel in delta["rom_removed"]:
            del f[rel]
        new["romfs"]["files"] = f
    write(target_path, new, merged(entries(active_path), files, removed))
    os.remove(delta_path)
