#!/usr/bin/env bash
# Installs what the web console needs: its browser libraries from the npm registry (`npm ci` from
# package-lock.json: uPlot, pinned), and Debian's Chromium and ChromeDriver for the browser tests
# (as root). Idempotent. Called by ./dev.sh setup (after tools/emuboard/setup.sh, which brings node).
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '[console] %s\n' "$*" >&2; }

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing Debian's chromium and chromium-driver (the browser tests)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        log "please install chromium and chromedriver (the browser tests need them)"
        exit 1
    fi
fi

stamp=node_modules/.console-lock.sha256
want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f node_modules/uplot/dist/uPlot.iife.min.js ]; then
    exit 0
fi
log "npm ci (uPlot, pinned by package-lock.json)"
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" >"$stamp"
