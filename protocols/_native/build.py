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
CDEF = """
uint16_t pf_crc16(const uint8_t *data, size_t n, uint16_t init);
void pf_randomize(uint8_t *buf, size_t n);
int pf_rs_encode(const uint8_t *data, size_t n, int interleave, int dual, uint8_t *out, size_t out_len);
int pf_rs_decode(const uint8_t *block, size_t n, int interleave, int dual, uint8_t *data_out, size_t out_len,
                 int *failed_codeword);
long pf_rs_decode_batch(const uint8_t *blocks, size_t n, size_t block_len, int interleave, int dual,
                        uint8_t *data_out, size_t out_len, int32_t *counts, size_t ncounts);
long pf_find_asm(const uint8_t *buf, size_t len, size_t start, size_t end);
long pf_scan_packets(const uint8_t *buf, size_t len, size_t start, size_t end, uint32_t *offsets,
                     uint32_t *lengths, size_t max_packets, size_t *next_offset, size_t *skipped);
"""
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
