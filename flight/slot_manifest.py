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

from flight.errors import UpdateError

_OPEN = ' "files": {'


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
