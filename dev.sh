#!/usr/bin/env bash
# One entry point for developers and CI. Every command first makes sure the
# environment exists (venv, pip packages, the C core), so a fresh clone needs
# nothing installed by hand.
#
#   ./dev.sh mission   set up, then fly the emulated mission (the main job): one orbit with an
#                      operator's pass, then a day of store and forward; with ARGS: cubesat mission ARGS
#   ./dev.sh test      set up, then lint and run the whole test suite on 2 workers (pytest-xdist);
#                      with ARGS: pytest ARGS only (-n 0: one process, e.g. for --pdb)
#   ./dev.sh bench     set up, then run the benchmarks (ours vs peer), JSON in .bench/
#   ./dev.sh setup     set up only
#   ./dev.sh fuzz [N]  set up, then run the atheris fuzz target for N runs
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
VENV=$ROOT/.venv
PY=$VENV/bin/python

log() { printf '[dev] %s\n' "$*" >&2; }

pick_python() {
    for cand in python3.12 python3.11 python3.10 python3; do
        if command -v "$cand" >/dev/null 2>&1 &&
            "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            echo "$cand"
            return
        fi
    done
    log "no Python >= 3.10 found; installing Debian's python3"
    apt_install python3 python3-venv python3-dev
    echo python3
}

apt_install() {
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    else
        log "please install: $*"
        exit 1
    fi
}

# A stamp of everything that changes what `pip install` produces; re-install only when it moves.
setup_stamp() {
    cat pyproject.toml setup.py protocols/_native/*.c protocols/_native/*.h protocols/_native/build.py \
        2>/dev/null | sha256sum | cut -d' ' -f1
}

setup() {
    if [ ! -x "$PY" ]; then
        local base
        base=$(pick_python)
        log "creating virtualenv with $base"
        "$base" -m venv "$VENV" || { apt_install python3-venv && "$base" -m venv "$VENV"; }
    fi
    command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || apt_install gcc libc6-dev
    # Java for the real Yamcs that tests/ground/test_yamcs.py starts (its jars come with pip)
    command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
    local want have=""
    want=$(setup_stamp)
    [ -f "$VENV/.stamp" ] && have=$(cat "$VENV/.stamp")
    if [ "$want" != "$have" ]; then
        log "installing the project and its dev dependencies (builds the C core; log in .venv/pip.log)"
        if ! { "$PY" -m pip install --upgrade pip setuptools wheel &&
            "$PY" -m pip install -e '.[dev]'; } >"$VENV/pip.log" 2>&1; then
            tail -40 "$VENV/pip.log" >&2
            log "pip install failed (full log: .venv/pip.log)"
            exit 1
        fi
        grep -h "protocols C core not built" "$VENV/pip.log" >&2 || true
        echo "$want" >"$VENV/.stamp"
    fi
    # the emulated MicroPython board: the WebAssembly port from npm, run by node
    bash tools/emuboard/setup.sh
    # the web console: uPlot from npm, and Chromium for its browser tests
    bash tools/console/setup.sh
}

# pytest-xdist workers: 2 (CI has exactly 2 cores), fewer on a smaller machine, never more (a
# bigger machine would run the real-time tests under another load than CI). TEST_WORKERS overrides.
test_workers() {
    local n
    n=$(nproc 2>/dev/null || echo 1)
    echo "${TEST_WORKERS:-$((n < 2 ? n : 2))}"
}

run_tests() {
    log "ruff"
    "$VENV/bin/ruff" check .
    log "pytest (unit, property, integration; the HIL suite against the twin)"
    run_pytest "$@"
    if [ $# = 0 ]; then
        log "pytest: the HIL suite against the emulated board (the flight bundle inside real MicroPython)"
        # one test at a time to each worker: each boots its own board and mostly waits in real time
        # (the link-silence test alone for 60 s); the bundle is built once for both (conftest.py)
        run_pytest hil_tests --target emulated --dist load
    fi
}

# --dist loadfile: a file's tests share one worker, so a module-scoped fixture (a mission flown,
# a board's heap measured) runs once; files in collection order, the longest first (LONG_FILES in
# tests/conftest.py), not by their number of tests. User ARGS come last and may override (-n 0).
run_pytest() {
    set +e
    "$PY" -m pytest -q -p no:cacheprovider -n "$(test_workers)" --dist loadfile --no-loadscope-reorder "$@"
    local rc=$?
    set -e
    if [ "$rc" = 5 ]; then
        log "pytest collected no tests: that is a failure"
        exit 1
    fi
    [ "$rc" = 0 ] || exit "$rc"
}

cmd=${1:-help}
shift || true
case "$cmd" in
setup) setup ;;
test) setup && run_tests "$@" ;;
mission)
    setup
    if [ $# -gt 0 ]; then
        exec "$VENV/bin/cubesat" mission "$@"
    fi
    "$VENV/bin/cubesat" mission
    exec "$VENV/bin/cubesat" mission --day
    ;;
bench)
    setup
    mkdir -p .bench
    exec "$PY" -m pytest -q -p no:cacheprovider tests/bench --benchmark-only \
        --benchmark-json=.bench/results.json "$@"
    ;;
fuzz)
    setup
    "$PY" -m pip install -q atheris
    exec "$PY" fuzz/atheris_decoders.py -atheris_runs="${1:-100000}"
    ;;
*)
    [ "$cmd" = help ] || log "unknown command: $cmd"
    # the usage is the comment block at the top of this file: every line up to the first that is not one
    awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$0"
    exit 2
    ;;
esac
