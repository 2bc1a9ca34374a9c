"""The manifest read and written an entry at a time (flight/slot_manifest.py): the build's text and the
board's writer read back as what was written, other JSON layouts still read, bad entries refused."""

import json
import os

from _check import raises

from flight import slot_manifest as manifest
from flight.errors import UpdateError

SHA = "ab" * 32
M = {
    "board": "rp2040",
    "files": {
        "flight/a.mpy": {"sha256": SHA, "size": 10},
        "flight/b.mpy": {"sha256": "cd" * 32, "size": 20},
        "hal/x y.mpy": {"sha256": "ef" * 32, "size": 0},
    },
    "target": {"arch": "armv6m", "mpy_version": 6},
    "romfs": {"size": 4, "sha256": SHA, "files": {"flight/main.mpy": {"sha256": SHA}}},
    "version": "0.1.0",
}
PATH = "manifest-test.json"


def _put(text):
    with open(PATH, "w") as f:
        f.write(text)


def _text(m):
    # the layout as the build writes it
    manifest.write(PATH, m, iter(sorted(m["files"].items())))
    with open(PATH) as f:
        return f.read()


def _read():
    top = manifest.top(PATH)
    files = {}
    for rel, entry in manifest.entries(PATH):
        files[rel] = entry
    return top, files


def _check(top, files):
    assert files == M["files"]
    assert top["files"] == {} and top["board"] == "rp2040" and top["romfs"] == M["romfs"]
    assert top["target"] == M["target"] and top["version"] == "0.1.0"


def test_the_builds_text_is_json_with_one_line_per_file():
    text = _text(M)
    assert json.loads(text) == M
    lines = text.split("\n")
    assert lines[0] == "{" and ' "files": {' in lines
    assert len([ln for ln in lines if ln.startswith('  "')]) == 3
    _put(text)
    try:
        _check(*_read())
    finally:
        os.remove(PATH)


def test_what_the_board_writes_reads_back():
    entries = sorted(M["files"].items())
    fields = dict((k, v) for k, v in M.items() if k != "files")
    manifest.write(PATH, fields, iter(entries))
    try:
        with open(PATH) as f:
            assert json.load(f) == M
        _check(*_read())
        manifest.write(PATH, {"board": "x"}, iter([]))  # no files
        top, files = _read()
        assert top == {"board": "x", "files": {}} and files == {}
    finally:
        os.remove(PATH)


def test_a_manifest_in_another_layout_is_parsed_whole():
    _put(json.dumps(M))  # one line
    try:
        _check(*_read())
    finally:
        os.remove(PATH)


def test_missing_torn_unordered_and_malformed_manifests():
    assert manifest.top("no-such-manifest.json") is None
    raises(UpdateError, lambda: list(manifest.entries("no-such-manifest.json")))
    text = _text(M)
    _put(text[: len(text) // 2])  # torn: an uplink that did not complete
    try:
        assert manifest.top(PATH) is None
        lines = text.split("\n")
        i = lines.index(' "files": {')
        lines[i + 1], lines[i + 2] = lines[i + 2].rstrip(",") + ",", lines[i + 1]
        _put("\n".join(lines))
        raises(UpdateError, lambda: list(manifest.entries(PATH)))  # out of order
        lines = text.split("\n")
        lines[i + 1] = '  "flight/a.mpy": {"sha256": ,'
        _put("\n".join(lines))
        raises(UpdateError, lambda: list(manifest.entries(PATH)))  # malformed
    finally:
        os.remove(PATH)


def test_a_delta_merges_into_the_sorted_entries():
    old = [("a", 1), ("c", 3), ("e", 5), ("g", 7)]
    files = {"0": 0, "c": 33, "d": 4, "z": 26}
    got = list(manifest.merged(iter(old), files, ("e",)))
    assert got == [("0", 0), ("a", 1), ("c", 33), ("d", 4), ("g", 7), ("z", 26)]
    assert list(manifest.merged(iter([]), {"b": 2}, ())) == [("b", 2)]
    assert manifest.digest({"sha256": SHA}) == bytes([0xAB] * 32)
    for bad in (None, {}, {"sha256": "ab"}, {"sha256": "zz" * 32}, {"sha256": 5}):
        assert manifest.digest(bad) is None


# what json.dumps(sort_keys=True, indent=1) wrote before: an entry over four lines
FORMER = """{
 "board": "rp2040",
 "files": {
  "flight/a.mpy": {
   "sha256": "%s",
   "size": 10
  },
  "flight/b.mpy": {
   "sha256": "%s",
   "size": 20
  }
 },
 "version": "0.1.0"
}
""" % (SHA, "cd" * 32)


def test_the_former_builds_layout_still_reads():
    _put(FORMER)
    try:
        top, files = _read()
        assert top == {"board": "rp2040", "files": {}, "version": "0.1.0"}
        assert files == {
            "flight/a.mpy": M["files"]["flight/a.mpy"],
            "flight/b.mpy": M["files"]["flight/b.mpy"],
        }
    finally:
        os.remove(PATH)
