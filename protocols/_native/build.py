"""cffi (API mode) build of the C core `protocols._native._core`.

Used three ways:
- by the package build (setup.py: cffi_modules), so `pip install .` / `pip install -e .` compile it;
- `python protocols/_native/build.py --inplace` rebuilds it next to this file for development;
- `python protocols/_native/build.py --outdir DIR --sanitize` builds an ASan/UBSan variant into
  DIR for tests/native/test_sanitizers.py (loaded through PROTOCOLS_NATIVE_DIR).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
SOURCES = ["crc16.c", "randomizer.c", "rs.c", "scan.c"]
HEADER = HERE / "fec_core.h"


def cdef_of(header: str) -> str:
    """The C declarations cffi needs, from the header itself (one source): its prototypes, and its
    #defines as `...` (API mode takes their values from the compiled header), without the include
    guard and #includes."""
    keep = []
    for line in header.splitlines():
        if line.startswith(("#ifndef", "#endif", "#include")) or line.startswith("#define FEC_CORE_H"):
            continue
        if line.startswith("#define "):
            line = "#define %s ..." % line.split()[1]
        keep.append(line)
    return "\n".join(keep)


CDEF = cdef_of(HEADER.read_text())
SANITIZE_FLAGS = [
    "-fsanitize=address,undefined",
    "-fno-omit-frame-pointer",
    "-fno-sanitize-recover=all",
    "-O1",
    "-g",
]


def make_builder(sanitize: bool = False, rel_sources: bool = True) -> FFI:
    builder = FFI()
    builder.cdef(CDEF)
    base = Path("protocols/_native") if rel_sources else HERE
    flags = ["-std=gnu99", "-O3", "-Wall", "-Wextra"]
    if sanitize:
        flags = ["-std=gnu99", "-Wall", *SANITIZE_FLAGS]
    builder.set_source(
        "protocols._native._core",
        '#include "fec_core.h"',
        sources=[str(base / s) for s in SOURCES],
        include_dirs=[str(base)],
        extra_compile_args=flags,
        extra_link_args=SANITIZE_FLAGS[:1] if sanitize else [],
    )
    return builder


# setup.py's cffi_modules runs from the project root: relative source paths keep wheels reproducible
ffibuilder = make_builder(rel_sources=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inplace", action="store_true", help="build next to the sources")
    parser.add_argument("--outdir", help="build into this directory (module path protocols/_native/ inside)")
    parser.add_argument("--sanitize", action="store_true", help="ASan + UBSan build")
    args = parser.parse_args(argv)
    builder = make_builder(sanitize=args.sanitize, rel_sources=False)
    if args.inplace:
        target = HERE.parent.parent
    elif args.outdir:
        target = Path(args.outdir).resolve()
    else:
        parser.error("give --inplace or --outdir")
    tmp = target / "build" / ("cffi-san" if args.sanitize else "cffi")
    tmp.mkdir(parents=True, exist_ok=True)
    cwd = os.getcwd()
    try:
        so = builder.compile(tmpdir=str(tmp), verbose=False)
    finally:
        os.chdir(cwd)
    dest = target / "protocols" / "_native" / Path(so).name
    dest.parent.mkdir(parents=True, exist_ok=True)
    if Path(so).resolve() != dest.resolve():
        os.replace(so, dest)
    print(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
