#!/usr/bin/env bash
# Installs what the emulated board needs: node (Debian's nodejs + npm when missing, as root) and the
# pinned MicroPython WebAssembly package (`npm ci` from package-lock.json). Idempotent: does nothing
# when node_modules already matches the lock file. Called by ./dev.sh setup.
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '[emuboard] %s\n' "$*" >&2; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing Debian's nodejs and npm"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
        log "please install node (>= 18) and npm"
        exit 1
    fi
fi

stamp=node_modules/.emuboard-lock.sha256
want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    [ -f node_modules/@micropython/micropython-webassembly-pyscript/micropython.wasm ]; then
    exit 0
fi
log "npm ci (MicroPython WebAssembly package, pinned by package-lock.json)"
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" >"$stamp"
