#!/usr/bin/env node
// Emulated MicroPython dev board: the real MicroPython (WebAssembly port, npm
// @micropython/micropython-webassembly-pyscript) behind a serial-like REPL.
//
//   node board.mjs --flash DIR [--uart-rx-fd N --uart-tx-fd N] [--uart-id 1] [--status-fd N]
//                  [--virtual-clock] [--heap-kb 192] [--wasm-mem-mb 64] [--uid HEX] [--flash-kb 2048]
//                  [--speed-factor F | --board-factor B --unix-kernel-us U] [--rom-kb 64 --rom FILE]
//
// Console: bytes on stdin/stdout (board_tools/emuboard.py puts a pty in front). What the port lacks and is
// added here, as measured in shared/EMULATED_BOARD.md: soft reset (fresh instance + boot.py/main.py),
// raw-paste, `\n` -> `\r\n`, Linux errno numbers, a flash persisted in a host directory, the flight
// UART (two pipes: rx non-blocking so Python can poll it inside a call), Ctrl-C for code that sleeps,
// a watchdog, a host-driven main loop and an optional virtual clock.
//
// Board speed (docs/board-speed.md): with a speed factor F the board's clock (ticks_ms/ticks_us, which
// the flight executive times its tasks with) advances by F x the time Python code runs here, so a rate
// group that would be too slow on the board overruns here too. Outside Python the clock runs as before
// (real: 1x the wall clock; virtual: only by sleeps and main-loop periods). --speed-factor gives F;
// --board-factor B (the board against this machine's unix port) --unix-kernel-us U (tools/emuboard/
// speed_kernel.py on the unix port) calibrates it at power-on: F = B x U / (the kernel's time here).
//
// ROM partition (--rom-kb N): N KiB of memory-mapped flash outside the GC heap, as the ROMFS partition
// of a board's stock firmware (MicroPython >= 1.25): `vfs.rom_ioctl` erases and writes it (what
// `mpremote romfs deploy` and `cubesat flash deploy` call), it keeps its bytes in --rom FILE across
// power cycles, and a valid ROMFS image in it is mounted at /rom at boot, with /rom and /rom/lib on
// sys.path; .mpy files imported from there run in place, their bytecode never copied to the heap.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PKG = path.join(HERE, 'node_modules', '@micropython', 'micropython-webassembly-pyscript');

function die(msg, code = 2) {
  fs.writeSync(2, `emuboard: ${msg}\n`);
  process.exit(code);
}

// ---------------------------------------------------------------------------------------------- options
function parseArgs(argv) {
  const o = { flash: null, uartRx: -1, uartTx: -1, uartId: 1, status: -1, virtual: false, heapKb: 192,
    wasmMemMb: 64, uid: 'e0b0a4d0c0de0001', flashKb: 2048, speedFactor: 0, boardFactor: 0, unixKernelUs: 0,
    romKb: 0, rom: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) die(`${a} needs a value`); return argv[++i]; };
    if (a === '--flash') o.flash = next();
    else if (a === '--uart-rx-fd') o.uartRx = parseInt(next(), 10);
    else if (a === '--uart-tx-fd') o.uartTx = parseInt(next(), 10);
    else if (a === '--uart-id') o.uartId = parseInt(next(), 10);
    else if (a === '--status-fd') o.status = parseInt(next(), 10);
    else if (a === '--virtual-clock') o.virtual = true;
    else if (a === '--heap-kb') o.heapKb = parseInt(next(), 10);
    else if (a === '--wasm-mem-mb') o.wasmMemMb = parseInt(next(), 10);
    else if (a === '--uid') o.uid = next();
    else if (a === '--flash-kb') o.flashKb = parseInt(next(), 10);
    else if (a === '--speed-factor') o.speedFactor = parseFloat(next());
    else if (a === '--board-factor') o.boardFactor = parseFloat(next());
    else if (a === '--unix-kernel-us') o.unixKernelUs = parseFloat(next());
    else if (a === '--rom-kb') o.romKb = parseInt(next(), 10);
    else if (a === '--rom') o.rom = next();
    else die(`unknown option ${a}`);
  }
  if (!o.flash) die('--flash DIR is required');
  if (!(o.romKb >= 0 && o.romKb <= 16384)) die('--rom-kb must be 0..16384');
  if (o.romKb && !o.rom) die('--rom-kb needs --rom FILE (where the partition keeps its bytes)');
  const bad = (v) => !(Number.isFinite(v) && v > 0);
  if (o.speedFactor && bad(o.speedFactor)) die('--speed-factor must be a number above 0');
  if (o.speedFactor && o.boardFactor) die('--speed-factor and --board-factor exclude each other');
  if ((o.boardFactor || o.unixKernelUs) && (bad(o.boardFactor) || bad(o.unixKernelUs))) {
    die('--board-factor and --unix-kernel-us go together, both above 0');
  }
  return o;
}
const opt = parseArgs(process.argv.slice(2));
if (!fs.existsSync(path.join(PKG, 'micropython.mjs'))) {
  die(`MicroPython package missing in ${PKG}: run tools/emuboard/setup.sh (npm ci)`, 3);
}
const { loadMicroPython } = await import(path.join(PKG, 'micropython.mjs'));
const MP_VERSION = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8')).version;

// Own copies of the timer functions: globalThis' ones are wrapped below to track Python's timers.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const sleepReal = (ms) => { if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms); };

function writeAll(fd, buf) {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      sleepReal(1);
    }
  }
}

function status(obj) {
  if (opt.status < 0) return;
  try { writeAll(opt.status, Buffer.from(JSON.stringify(obj) + '\n')); } catch { /* host went away */ }
}

// Byte FIFO without O(n) shift (a raw-paste upload is ~100 KB).
class ByteQueue {
  constructor() { this.chunks = []; this.off = 0; this.length = 0; }
  push(buf) { if (buf.length) { this.chunks.push(buf); this.length += buf.length; } }
  shift() {
    const c = this.chunks[0];
    const b = c[this.off++];
    if (this.off >= c.length) { this.chunks.shift(); this.off = 0; }
    this.length--;
    return b;
  }
  take(n) {
    const out = Buffer.alloc(Math.min(n, this.length));
    for (let i = 0; i < out.length; i++) out[i] = this.shift();
    return out;
  }
  clear() { this.chunks = []; this.off = 0; this.length = 0; }
}

// -------------------------------------------------------------------------------------------- console
class Console {
  constructor(fd) { this.fd = fd; this.buf = []; this.last = 0; this.mute = 0; this.skip = 0; this.capture = null; }
  byte(c) {
    if (this.mute) return;
    // Real ports' stdout is "cooked": a bare \n goes out as \r\n (mpremote repl would staircase).
    if (c === 10 && this.last !== 13) this.push(13);
    this.push(c);
  }
  push(c) {
    if (this.skip > 0) { this.skip--; return; }
    this.last = c;
    this.buf.push(c);
    if (this.capture && this.capture.length < 64) this.capture.push(c);
    if (this.buf.length >= 1024 || c === 10) this.flush();
  }
  write(s) { for (const c of Buffer.from(s, 'latin1')) this.push(c); }
  flush() {
    if (!this.buf.length) return;
    const b = Buffer.from(this.buf);
    this.buf = [];
    try { writeAll(this.fd, b); } catch { /* host closed the console: keep running until stdin EOF */ }
  }
}
const con = new Console(1);
const input = new ByteQueue();

// ---------------------------------------------------------------------------------------------- flash
// The build has MEMFS only: the board's flash lives in Emscripten's /flash, mirrored to a host
// directory (loaded at power-on, written back after activity, before resets and at exit).
const TMP_SUFFIX = '.emuboard-tmp';
class Flash {
  constructor(dir) {
    this.dir = path.resolve(dir);
    fs.mkdirSync(this.dir, { recursive: true });
    this.cache = new Map(); // relative path -> Buffer (file) or null (directory)
    this.loadHost('');
  }
  loadHost(rel) {
    for (const ent of fs.readdirSync(path.join(this.dir, rel), { withFileTypes: true })) {
      if (ent.name.endsWith(TMP_SUFFIX)) continue;
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isDirectory()) { this.cache.set(r, null); this.loadHost(r); }
      else if (ent.isFile()) this.cache.set(r, fs.readFileSync(path.join(this.dir, r)));
    }
  }
  populate(FS) {
    FS.mkdir('/flash');
    for (const [r, data] of [...this.cache].sort((a, b) => a[0].localeCompare(b[0]))) {
      if (data === null) FS.mkdir(`/flash/${r}`);
      else FS.writeFile(`/flash/${r}`, data);
    }
  }
  scan(FS) {
    const now = new Map();
    const walk = (rel) => {
      for (const name of FS.readdir(rel ? `/flash/${rel}` : '/flash')) {
        if (name === '.' || name === '..') continue;
        const r = rel ? `${rel}/${name}` : name;
        const st = FS.stat(`/flash/${r}`);
        if (FS.isDir(st.mode)) { now.set(r, null); walk(r); }
        else if (FS.isFile(st.mode)) now.set(r, Buffer.from(FS.readFile(`/flash/${r}`)));
      }
    };
    walk('');
    return now;
  }
  sync(FS) {
    const now = this.scan(FS);
    // Deepest paths first so directories are empty before they go.
    const gone = [...this.cache.keys()].filter((r) => !now.has(r) || (now.get(r) === null) !== (this.cache.get(r) === null));
    let changed = gone.length;
    for (const r of gone.sort((a, b) => b.length - a.length)) {
      fs.rmSync(path.join(this.dir, r), { recursive: true, force: true });
    }
    for (const [r, data] of [...now].sort((a, b) => a[0].length - b[0].length)) {
      const old = this.cache.get(r);
      const host = path.join(this.dir, r);
      if (data === null) {
        if (old !== null || !this.cache.has(r)) { fs.mkdirSync(host, { recursive: true }); changed++; }
      } else if (!(old instanceof Buffer) || !old.equals(data)) {
        // tmp + rename: a host kill mid-write never leaves a truncated file in the flash dir.
        fs.writeFileSync(host + TMP_SUFFIX, data);
        fs.renameSync(host + TMP_SUFFIX, host);
        changed++;
      }
    }
    this.cache = now;
    return changed;
  }
}
const flash = new Flash(opt.flash);

// ------------------------------------------------------------------------------------- ROM partition
// Lives in wasm memory outside the GC heap (malloc'd per instance, registered with the port), erased
// to 0xFF as NOR flash is; its bytes persist in the host file, written at WRITE_COMPLETE.
const rom = {
  size: opt.romKb * 1024,
  addr: 0,
  load(mp) {
    this.addr = 0;
    if (!this.size) return;
    const M = mp._module;
    this.addr = M._malloc(this.size);
    M.HEAPU8.fill(0xff, this.addr, this.addr + this.size);
    let data = null;
    try { data = fs.readFileSync(opt.rom); } catch { /* a blank partition */ }
    if (data) M.HEAPU8.set(data.subarray(0, this.size), this.addr);
    M.ccall('mp_js_register_romfs', 'null', ['pointer', 'number'], [this.addr, this.size]);
  },
  view() { return new Uint8Array(wasmMemory.buffer, this.addr, this.size); },
  // offset/length checked here as a port's rom_ioctl does: -EINVAL (22) outside the partition
  erase(offset, n) {
    if (!this.size || offset < 0 || n < 0 || offset + n > this.size) return -22;
    this.view().fill(0xff, offset, offset + n);
    return 4; // the minimum write size, as the rp2 and stm32 ports report it
  },
  write(offset, addr, n) {
    if (!this.size || offset < 0 || n < 0 || offset + n > this.size) return -22;
    const mem = new Uint8Array(wasmMemory.buffer);
    const v = this.view();
    for (let i = 0; i < n; i++) v[offset + i] &= mem[addr + i]; // NOR flash: a write only clears bits
    return 0;
  },
  save() {
    if (!this.size) return -22;
    const tmp = `${opt.rom}.tmp`;
    fs.writeFileSync(tmp, Buffer.from(this.view()));
    fs.renameSync(tmp, opt.rom);
    return 0;
  },
};

// ------------------------------------------------------------------------------------------- wasm hooks
// Emscripten/WASI errno numbers -> Linux ones (what errno.ENOENT etc. are in MicroPython).
const ERRNO = { 1: 7, 2: 13, 6: 11, 8: 9, 10: 16, 16: 35, 20: 17, 21: 14, 22: 27, 27: 4, 28: 22, 29: 5, 31: 21,
  32: 40, 33: 24, 34: 31, 37: 36, 41: 23, 43: 19, 44: 2, 48: 12, 51: 28, 52: 38, 54: 20, 55: 39, 58: 95,
  59: 25, 60: 6, 63: 1, 64: 32, 68: 34, 69: 30, 70: 29, 74: 26, 75: 18 };
const clock = { virtual: opt.virtual, vms: 0, extra: 0, epoch: Date.now() };
// Board speed: while Python runs (depth > 0) the board's clock moves `factor` times as fast as the
// host's; `extra` is what that added on the real clock. factor 0: off (the clock is the host's).
const cpu = { factor: 0, depth: 0, t0: 0, pyMs: 0, calibration: null };
function cpuCharge() {
  const now = performance.now();
  const ms = now - cpu.t0;
  cpu.t0 = now;
  cpu.pyMs += ms;
  if (clock.virtual) clock.vms += ms * cpu.factor;
  else clock.extra += ms * (cpu.factor - 1);
}
// Around every entry into Python (main-loop tick, boot.py/main.py, a REPL byte, a Python timer).
function pyEnter() { if (cpu.factor && cpu.depth++ === 0) cpu.t0 = performance.now(); }
function pyExit() { if (cpu.factor && cpu.depth > 0 && --cpu.depth === 0) cpuCharge(); }
// Time the host spends waiting for Python (sleep_ms) is the board's idle time, not its CPU time.
function pyPause() { if (cpu.factor && cpu.depth > 0) cpuCharge(); }
function pyResume() { if (cpu.factor && cpu.depth > 0) cpu.t0 = performance.now(); }
const ticksMs = () => {
  if (cpu.factor && cpu.depth > 0) cpuCharge();
  return clock.virtual ? Math.floor(clock.vms) : Math.floor(Date.now() - clock.epoch + clock.extra);
};
let wasmMemory = null;
let wasmModule = null;
const realInstantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async (source, imports) => {
  const env = imports.env;
  const wasi = imports.wasi_snapshot_preview1;
  for (const [name, fn] of Object.entries(env)) {
    if (name.startsWith('__syscall_')) env[name] = (...a) => { const r = fn(...a); return r < 0 && ERRNO[-r] ? -ERRNO[-r] : r; };
  }
  for (const [name, fn] of Object.entries(wasi)) {
    if (name.startsWith('fd_')) wasi[name] = (...a) => { const r = fn(...a); return r > 0 && ERRNO[r] ? ERRNO[r] : r; };
  }
  env.mp_js_ticks_ms = () => ticksMs();
  env.mp_js_time_ms = () => clock.epoch + ticksMs();
  // No hard RAM limit exists in this variant (the GC heap grows); cap the wasm memory so a runaway
  // allocation ends in MemoryError instead of eating the host.
  const resize = env.emscripten_resize_heap;
  env.emscripten_resize_heap = (size) => ((size >>> 0) > opt.wasmMemMb * 1048576 ? 0 : resize(size));
  // Compile once per process: soft resets re-instantiate only.
  if (!wasmModule) wasmModule = await WebAssembly.compile(source);
  const instance = await realInstantiate(wasmModule, imports);
  wasmMemory = instance.exports.memory;
  return { instance, module: wasmModule };
};

// Timers created by Python (asyncio rides on js.setTimeout) die with their instance: one firing into a
// replaced instance crashes node ("memory access out of bounds").
const pyTimers = new Set();
globalThis.setTimeout = (fn, ms, ...args) => {
  const id = realSetTimeout(() => {
    pyTimers.delete(id);
    pyEnter();
    try { fn(...args); } finally { pyExit(); }
    afterPython();
  }, ms);
  pyTimers.add(id);
  return id;
};
globalThis.clearTimeout = (id) => { pyTimers.delete(id); realClearTimeout(id); };
const clearPyTimers = () => { for (const id of pyTimers) realClearTimeout(id); pyTimers.clear(); };

// -------------------------------------------------------------------------------------------- UART
const uart = { rx: new ByteQueue(), tmp: Buffer.alloc(4096), txBytes: 0, rxBytes: 0 };
function uartPull() {
  if (opt.uartRx < 0) return;
  for (;;) {
    let n;
    try { n = fs.readSync(opt.uartRx, uart.tmp, 0, uart.tmp.length, null); } catch (e) {
      if (e.code === 'EAGAIN') return;
      throw e;
    }
    if (n <= 0) return;
    uart.rx.push(Buffer.from(uart.tmp.subarray(0, n)));
  }
}

// ----------------------------------------------------------------------------------------- board state
const S = {
  mp: null,
  runFile: null,
  raw: false, // REPL mode
  rawLineEmpty: true,
  paste: 0, // raw-paste detection: 1 after \x05, 2 after \x05A, 3 receiving
  pasteBuf: null,
  pasteWindow: 0,
  swallowOK: 0,
  resetCause: 1, // machine.PWRON_RESET
  pendingReset: 0, // machine cause requested from Python (reset/deepsleep/watchdog)
  loop: null, // host-driven main loop {fn, period, next, timer}
  program: false, // main.py/asyncio program owns the console until it ends or Ctrl-C
  replStarted: false,
  wdt: null, // {timeout, deadline}
  boots: 0,
  flashSyncs: 0, // host-mirror writes so far (status event "flash")
  busy: false,
  exiting: false,
};

const api = {
  uart_id: () => opt.uartId,
  uart_any: () => { uartPull(); return uart.rx.length; },
  uart_readinto: (addr, n) => {
    uartPull();
    const data = uart.rx.take(n);
    // Re-create the view each call: memory growth replaces memory.buffer.
    new Uint8Array(wasmMemory.buffer).set(data, addr);
    uart.rxBytes += data.length;
    return data.length;
  },
  uart_write: (addr, n) => {
    const data = Buffer.from(new Uint8Array(wasmMemory.buffer).slice(addr, addr + n));
    uart.txBytes += n;
    if (opt.uartTx >= 0) {
      try { writeAll(opt.uartTx, data); } catch { /* host gone: a UART with no listener */ }
    }
    return n;
  },
  sleep_ms: (ms) => {
    pyPause();
    try {
      con.flush();
      let left = Math.max(0, Number(ms));
      if (clock.virtual) { clock.vms += left; left = 0; }
      for (;;) {
        pollConsoleSync();
        if (wdtExpired()) return 1;
        if (S.pendingReset) return 1;
        if (left <= 0) return 0;
        const slice = Math.min(left, 10);
        sleepReal(slice);
        left -= slice;
      }
    } finally {
      pyResume();
    }
  },
  // [factor, board factor, unix-port kernel us, kernel us here, ms of Python run so far]; 0s when off
  speed: () => {
    const c = cpu.calibration || {};
    return [cpu.factor, c.boardFactor || 0, c.unixKernelUs || 0, c.kernelUs || 0, cpu.pyMs];
  },
  wdt_start: (timeout) => { S.wdt = { timeout: Math.max(1, Number(timeout)), deadline: 0 }; api.wdt_feed(); },
  wdt_feed: () => { if (S.wdt) S.wdt.deadline = ticksMs() + S.wdt.timeout; },
  request_reset: (cause) => { S.pendingReset = cause; },
  reset_cause: () => S.resetCause,
  unique_id: () => [...Buffer.from(opt.uid, 'hex')],
  virtual_clock: () => (clock.virtual ? 1 : 0),
  // os.statvfs: MEMFS reports 4 GB; report the configured flash with 4 KiB blocks (one per directory,
  // files rounded up), roughly what littlefs shows. Not enforced: writes never fail with ENOSPC.
  flash_blocks: () => {
    let used = 1;
    for (const data of flash.scan(S.mp.FS).values()) used += data === null ? 1 : Math.ceil(data.length / 4096);
    return [Math.floor(opt.flashKb / 4), used];
  },
  run_main: (fn, period) => {
    stopLoop();
    S.loop = { fn, period: Math.max(0, Number(period)), next: ticksMs(), timer: null };
    S.program = true;
  },
  stop_main: () => stopLoop(),
  rom_size: () => rom.size,
  rom_erase: (offset, n) => rom.erase(offset, n),
  rom_write: (offset, addr, n) => rom.write(offset, addr, n),
  rom_save: () => rom.save(),
  program_started: () => { S.program = true; },
  program_done: () => { S.program = false; realSetTimeout(() => startReplIfIdle(), 0); },
};

function wdtExpired() {
  if (S.wdt && ticksMs() > S.wdt.deadline) { S.pendingReset = 3; return true; }
  return false;
}

// While Python runs (sleep_ms), the event loop is blocked: read the console pipe directly so Ctrl-C
// can interrupt a blocking main.py, and keep the other bytes in order for the REPL.
const pollBuf = Buffer.alloc(4096);
function pollConsoleSync() {
  if (stdinIsTTY) return;
  for (;;) {
    let n;
    try { n = fs.readSync(0, pollBuf, 0, pollBuf.length, null); } catch (e) {
      if (e.code === 'EAGAIN') return;
      return; // EOF/closed: the 'end' handler shuts down once the event loop runs again
    }
    if (n === 0) shutdown(0); // launcher closed the console: write the flash back and exit from here
    if (n <= 0) return;
    acceptInput(pollBuf.subarray(0, n), true);
  }
}

function acceptInput(data, insidePython) {
  for (const b of data) {
    if (b === 3 && (insidePython || S.program)) {
      // Ctrl-C goes to the running program, as a UART IRQ does on a board; it never reaches the REPL.
      if (insidePython) S.mp._module._mp_sched_keyboard_interrupt();
      else interruptProgram();
    } else {
      input.push(Buffer.from([b]));
    }
  }
}

// -------------------------------------------------------------------------------------------- booting
// prelude_machine.py only defines the `machine` builder that prelude.py calls (and deletes): run in order
const PRELUDE = ['prelude_machine.py', 'prelude.py'].map((f) => fs.readFileSync(path.join(HERE, f), 'utf8'));

async function boot(mode) {
  clearPyTimers();
  stopLoop();
  S.program = false;
  S.replStarted = false;
  S.pendingReset = 0;
  S.wdt = null;
  S.paste = 0;
  S.boots++;
  const mp = await loadMicroPython({
    heapsize: opt.heapKb * 1024,
    pystack: 4096,
    linebuffer: false,
    stdout: (b) => { for (const c of b) con.byte(c); },
    stderr: (b) => { for (const c of b) con.byte(c); },
  });
  S.mp = mp;
  rom.load(mp);
  flash.populate(mp.FS);
  mp.registerJsModule('_emuboard', api);
  try {
    for (const src of PRELUDE) mp.runPython(src);
  } catch (e) {
    die(`prelude failed: ${String(e.message).slice(0, 2000)}`, 70);
  }
  S.runFile = mp.globals.get('_emuboard_run_file');
  mp.globals.delete('_emuboard_run_file');
  // Ready before boot.py/main.py: a main.py that never returns must still be reachable (Ctrl-C).
  if (S.boots === 1) {
    calibrate(mp);
    status({ event: 'ready', version: `MicroPython v${MP_VERSION} (webassembly-pyscript)`, mpy: 774, pid: process.pid,
      speed: speedReport() });
    process.stdin.on('data', (d) => { acceptInput(d, false); kick(); });
    process.stdin.on('end', () => shutdown(0));
    process.stdin.on('error', () => shutdown(0));
    process.stdin.resume();
  }
  if (runBootFile('boot.py')) return;
  if (mode === 'friendly' && runBootFile('main.py')) return;
  if (S.loop) scheduleTick(0);
  if (!S.program) startRepl(mode);
}

// Board speed at the first power-on: a given factor, or the calibration kernel timed here against the
// unix port's time (passed in by the host) and the board's published factor against the unix port.
const KERNEL_SRC = path.join(HERE, 'speed_kernel.py');
function calibrate(mp) {
  if (opt.speedFactor) { cpu.factor = opt.speedFactor; return; }
  if (!opt.boardFactor) return;
  // the kernel only: its `if __name__ == "__main__"` part (which times it from Python) stays out
  mp.runPython(fs.readFileSync(KERNEL_SRC, 'utf8').split('\nif __name__')[0]);
  const kernel = mp.globals.get('speed_kernel');
  for (let i = 0; i < 10; i++) kernel(4); // let the wasm engine tier up before timing
  let best = Infinity;
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    kernel(4);
    best = Math.min(best, performance.now() - t0);
  }
  for (const name of ['speed_kernel', '_Cell', '_now_us', '_best_us']) mp.globals.delete(name);
  const kernelUs = best * 1000;
  cpu.calibration = { boardFactor: opt.boardFactor, unixKernelUs: opt.unixKernelUs, kernelUs };
  cpu.factor = opt.boardFactor * opt.unixKernelUs / kernelUs;
}

function speedReport() {
  if (!cpu.factor) return null;
  const c = cpu.calibration;
  return c ? { factor: cpu.factor, board_factor: c.boardFactor, unix_kernel_us: c.unixKernelUs,
    kernel_us: c.kernelUs } : { factor: cpu.factor };
}

// Runs boot.py/main.py; true when it ended in a reset (already scheduled).
function runBootFile(name) {
  pyEnter();
  let r;
  try { r = S.runFile(name); } finally { pyExit(); }
  afterPython();
  if (r === 1 || S.pendingReset) { scheduleReset(); return true; }
  return false;
}

function startRepl(mode) {
  S.replStarted = true;
  const mp = S.mp;
  if (mode === 'raw') {
    // After a soft reset from raw mode a board prints only the raw banner (mpremote waits for it).
    con.mute++;
    mp.replInit();
    mp.replProcessChar(1);
    con.mute--;
    con.write('raw REPL; CTRL-B to exit\r\n>');
    S.raw = true;
  } else {
    mp.replInit();
    S.raw = false;
  }
  S.rawLineEmpty = true;
  con.flush();
  kick();
}

function startReplIfIdle() {
  if (!S.program && !S.replStarted && !S.pendingReset) startRepl('friendly');
}

let resetQueued = false;
function scheduleReset() {
  if (resetQueued) return;
  resetQueued = true;
  realSetTimeout(async () => { resetQueued = false; await doReset(); kick(); }, 0);
}

// SystemExit/Ctrl-D -> soft reset (mode kept); machine.reset()/watchdog/deepsleep -> hard reset.
async function doReset() {
  const cause = S.pendingReset || 5;
  const soft = cause === 5;
  const mode = soft && S.raw ? 'raw' : 'friendly';
  stopLoop();
  clearPyTimers();
  syncFlash();
  if (soft) con.write('MPY: soft reboot\r\n');
  con.flush();
  S.resetCause = cause;
  if (!soft) input.clear(); // a hard reset drops the USB link: nothing typed before survives
  await boot(mode);
  status({ event: 'reset', cause, boots: S.boots });
}

// ----------------------------------------------------------------------------------------- main loop
function stopLoop() {
  if (S.loop && S.loop.timer) realClearTimeout(S.loop.timer);
  if (S.loop && S.loop.immediate) clearImmediate(S.loop.immediate);
  S.loop = null;
}

function scheduleTick(delay) {
  const lp = S.loop;
  if (!lp) return;
  if (clock.virtual) lp.immediate = setImmediate(tick);
  else lp.timer = realSetTimeout(tick, Math.max(0, delay));
}

function tick() {
  const lp = S.loop;
  if (!lp) return;
  if (clock.virtual) clock.vms = Math.max(clock.vms, lp.next);
  pyEnter();
  let r;
  try { r = lp.fn(); } finally { pyExit(); }
  afterPython();
  if (S.loop !== lp) return; // stop_main() or reset from inside step()
  if (r === 2 || S.pendingReset || wdtExpired()) { stopLoop(); scheduleReset(); return; }
  if (r === 1) { endProgram(); return; }
  lp.next += lp.period;
  // Drift compensation against the real clock; a late tick runs at once rather than being skipped.
  scheduleTick(lp.next - ticksMs());
}

function endProgram() {
  stopLoop();
  clearPyTimers();
  S.program = false;
  startReplIfIdle();
}

function interruptProgram() {
  con.write('Traceback (most recent call last):\r\nKeyboardInterrupt: \r\n');
  stopLoop();
  clearPyTimers();
  // Tasks whose timers were just dropped would stay queued in the old loop.
  try { S.mp.runPython('import asyncio\nasyncio.new_event_loop()'); } catch { /* no asyncio used */ }
  endProgram();
}

// ---------------------------------------------------------------------------------------------- REPL
function afterPython() {
  con.flush();
  scheduleSync();
}

// Feeds one byte to the port's event-driven REPL, tracking its mode; true when it asked for a reset.
function feed(b) {
  con.capture = [];
  pyEnter();
  let r;
  try { r = S.mp.replProcessChar(b); } finally { pyExit(); }
  const out = Buffer.from(con.capture).toString('latin1');
  con.capture = null;
  if (!S.raw && b === 1 && out.includes('raw REPL; CTRL-B to exit')) S.raw = true;
  else if (S.raw && b === 2) S.raw = false;
  if (S.raw) S.rawLineEmpty = b === 1 || b === 3 || b === 4;
  return r !== 0 || S.pendingReset !== 0;
}

// Raw-paste (\x05A\x01): the port's version reads stdin from inside the VM, which this build cannot do
// (it spins forever). Do the flow control here, then hand the whole text to the raw REPL.
const PASTE_WINDOW = 4096;
function pasteByte(b) {
  if (S.paste === 1) {
    if (b === 0x41) { S.paste = 2; return false; }
    S.paste = 0;
    return feed(5) || feed(b);
  }
  if (S.paste === 2) {
    if (b === 1) {
      S.paste = 3;
      S.pasteBuf = [];
      S.pasteWindow = PASTE_WINDOW;
      con.write('R\x01');
      con.push(PASTE_WINDOW & 0xff);
      con.push(PASTE_WINDOW >> 8);
      con.write('\x01');
      return false;
    }
    S.paste = 0;
    return feed(5) || feed(0x41) || feed(b);
  }
  // S.paste === 3: receiving
  if (b === 4 || b === 3) {
    S.paste = 0;
    con.write('\x04');
    if (b === 3) {
      con.write('\x04Traceback (most recent call last):\r\nKeyboardInterrupt: \r\n\x04>');
      S.rawLineEmpty = true;
      return false;
    }
    const code = S.pasteBuf;
    S.pasteBuf = null;
    for (const c of code) feed(c);
    // The raw REPL answers "OK" to Ctrl-D; raw-paste's answer was the \x04 above.
    con.skip = 2;
    return feed(4);
  }
  S.pasteBuf.push(b);
  if (--S.pasteWindow === 0) { con.write('\x01'); S.pasteWindow = PASTE_WINDOW; }
  return false;
}

function handleByte(b) {
  if (S.paste) return pasteByte(b);
  if (S.raw && S.rawLineEmpty && b === 5) { S.paste = 1; return false; }
  return feed(b);
}

function kick() {
  if (S.busy || resetQueued || S.exiting) return;
  S.busy = true;
  try {
    while (input.length && S.replStarted && !S.program && !resetQueued) {
      if (handleByte(input.shift())) { afterPython(); scheduleReset(); break; }
      if (S.paste !== 3 || input.length === 0) con.flush();
      if (S.loop) { scheduleTick(0); break; } // run_main() typed at the REPL
    }
  } finally {
    S.busy = false;
  }
  afterPython();
}

// ---------------------------------------------------------------------------------------------- sync
let syncTimer = null;
function syncFlash() {
  if (syncTimer) { realClearTimeout(syncTimer); syncTimer = null; }
  // The host mirror changed: tell the launcher, so a test waits for this event instead of sleeping.
  if (S.mp && flash.sync(S.mp.FS) > 0) status({ event: 'flash', syncs: ++S.flashSyncs });
}
function scheduleSync() {
  if (!syncTimer) syncTimer = realSetTimeout(() => { syncTimer = null; syncFlash(); }, 100);
}

// Watchdog while idle at the REPL or between ticks.
setInterval(() => {
  if (S.mp && !resetQueued && S.wdt && wdtExpired()) { stopLoop(); scheduleReset(); }
}, 20).unref();

function shutdown(code) {
  if (S.exiting) return;
  S.exiting = true;
  try { syncFlash(); } catch (e) { fs.writeSync(2, `emuboard: flash sync failed: ${e.message}\n`); }
  con.flush();
  process.exit(code);
}

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('uncaughtException', (e) => {
  // The port's minified JS puts 100 KB on one line: keep the message short.
  fs.writeSync(2, `emuboard: crashed: ${String(e && e.stack ? e.stack : e).slice(0, 2000)}\n`);
  shutdown(70);
});

// ---------------------------------------------------------------------------------------------- start
// Opening process.stdin makes libuv switch a pipe to O_NONBLOCK, which pollConsoleSync relies on (the
// launcher also creates it non-blocking). A terminal (manual runs) is put in raw mode and not polled.
const stdinIsTTY = Boolean(process.stdin.isTTY);
if (stdinIsTTY) process.stdin.setRawMode(true);
process.stdin.pause();
await boot('friendly');
kick();
