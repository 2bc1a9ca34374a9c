# Runs (MicroPython, not CPython) in every fresh board instance before boot.py; see board.mjs.
# It turns the WebAssembly port into something flight code sees as a dev board: the flash is the VFS
# root, `machine` (UART, Pin, WDT, reset...: prelude_machine.py) and `time` behave like a port's, and
# `emuboard` offers the host-driven main loop and heap probes. Everything is defined inside
# _emuboard_setup so that only the names boot.py/main.py define end up in __main__.


def _rom_partition(vfs, sys, _js, uctypes):
    # The ROM partition board.mjs registered (--rom-kb): a valid ROMFS image in it is mounted at /rom
    # with /rom and /rom/lib on sys.path, as the port's mp_init does. The port's own vfs.rom_ioctl
    # only reads; the erase/write/complete operations of a board's flash driver are added here, under
    # the same numbers and return values, by a `vfs` module in sys.modules (which `import vfs` finds
    # before the built-in one).
    if not _js.rom_size():
        return
    try:
        vfs.mount(vfs.VfsRom(vfs.rom_ioctl(2, 0)), "/rom")
        sys.path[2:2] = ["/rom", "/rom/lib"]
    except OSError:  # blank or not a ROMFS image: nothing mounted, as on a board
        pass
    real_ioctl = vfs.rom_ioctl

    def rom_ioctl(op, *args):
        if op in (1, 2):  # number of partitions; partition 0 as a memoryview
            return real_ioctl(op, *args)
        if not args or args[0] != 0:
            return -19  # ENODEV: one partition, id 0
        if op == 3:  # WRITE_PREPARE (id, length) or (id, offset, length): erase
            offset, n = (0, args[1]) if len(args) == 2 else (args[1], args[2])
            return _js.rom_erase(offset, n)
        if op == 4:  # WRITE (id, offset, buf)
            buf = args[2]
            return _js.rom_write(args[1], uctypes.addressof(buf), len(buf))
        if op == 5:  # WRITE_COMPLETE (id)
            return _js.rom_save()
        if op == 6:  # block size
            return 4096
        return -22

    class shim:  # noqa: N801 - stands in for the module
        pass

    for k in dir(vfs):
        if not k.startswith("__"):
            setattr(shim, k, getattr(vfs, k))
    shim.rom_ioctl = rom_ioctl
    sys.modules["vfs"] = shim


def _emuboard_setup(main_globals, rom_partition, make_machine):
    import asyncio
    import gc
    import os
    import sys

    import _emuboard as _js  # the JS side (board.mjs `api`)
    import uctypes
    import vfs

    # The port mounts the whole Emscripten FS at "/": remount only /flash there, so os.listdir("/")
    # shows user files, as on a board's littlefs/FAT flash.
    vfs.umount("/")
    vfs.mount(vfs.VfsPosix("/flash"), "/")
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib"]
    rom_partition(vfs, sys, _js, uctypes)

    # VfsPosix's ilistdir has no size field, so `mpremote fs ls` would print 0 for every file.
    real_ilistdir = os.ilistdir

    def ilistdir(path="."):
        sep = b"/" if isinstance(path, bytes) else "/"
        base = path if path.endswith(sep) else path + sep
        for ent in real_ilistdir(path):
            if len(ent) >= 4 or ent[1] != 0x8000:
                yield ent
                continue
            try:
                size = os.stat(base + ent[0])[6]
            except OSError:
                size = 0
            yield (ent[0], ent[1], ent[2], size)

    os.ilistdir = ilistdir

    def statvfs(path):
        total, used = _js.flash_blocks()
        free = max(0, total - used)
        return (4096, 4096, total, free, free, 0, 0, 0, 0, 255)

    os.statvfs = statvfs

    # VfsPosix with a root (1.27) builds both rename paths in one buffer, so rename("/a.tmp", "/a")
    # becomes rename("/flash/a", "/flash/a") -> ENOENT. Relative paths from "/" do not hit it.
    real_rename = os.rename

    def rename(old, new):
        cwd = os.getcwd()

        def from_root(p):
            p = p if p.startswith("/") else cwd.rstrip("/") + "/" + p
            return p.lstrip("/") or "."

        os.chdir("/")
        try:
            real_rename(from_root(old), from_root(new))
        finally:
            os.chdir(cwd)

    os.rename = rename

    peak = [0]
    split_max = 128 * 1024 * 1024  # the port's "max new split": mem_free() includes it

    def sample():
        a = gc.mem_alloc()
        if a > peak[0]:
            peak[0] = a
        return a

    class time_mod:  # noqa: N801 - stands in for the module
        pass

    import time as real_time

    for k in dir(real_time):
        if not k.startswith("__"):
            setattr(time_mod, k, getattr(real_time, k))

    def sleep_ms(ms):
        # The port's own sleeps busy-wait on a clock that is frozen in virtual-clock mode; the JS side
        # waits without burning CPU, reads Ctrl-C from the console and checks the watchdog.
        if _js.sleep_ms(ms):
            raise SystemExit  # a machine reset (watchdog) is pending: unwind to the host

    def sleep(s):
        sleep_ms(s * 1000)

    def sleep_us(us):
        sleep_ms(us / 1000)

    time_mod.sleep_ms = sleep_ms
    time_mod.sleep = sleep
    time_mod.sleep_us = sleep_us
    sys.modules["time"] = time_mod
    sys.modules["utime"] = time_mod

    sys.modules["machine"] = make_machine(_js, uctypes, sleep_ms)

    def tick_wrapper(step):
        # One control cycle as a single top-level call: the heap sample right after step() still sees
        # the tick's garbage (the port only collects once control is back in JS), so `peak` is an upper
        # bound of what the tick needed.
        def tick():
            try:
                step()
            except SystemExit:
                return 2
            except BaseException as e:  # printed like an uncaught error on a board
                sys.print_exception(e)
                return 1
            sample()
            return 0

        return tick

    class emuboard:  # noqa: N801 - stands in for the module
        virtual_clock = bool(_js.virtual_clock())

        @staticmethod
        def run_main(step, period_ms=10):
            """Call step() every period_ms from the host until Ctrl-C; returns at once (main.py ends)."""
            _js.run_main(tick_wrapper(step), period_ms)

        def stop_main():
            _js.stop_main()

        def heap_report():
            """Heap now, peak seen so far and heap area size, in bytes."""
            a = sample()
            return {"alloc": a, "peak": peak[0], "heap": a + gc.mem_free() - split_max}

        def peak_reset():
            peak[0] = gc.mem_alloc()

        def speed():
            """The board speed factor (0: off) and its calibration; python_ms: host time spent in Python."""
            f, board, unix_us, here_us, py_ms = list(_js.speed())
            return {
                "factor": f,
                "board_factor": board,
                "unix_kernel_us": unix_us,
                "kernel_us": here_us,
                "python_ms": py_ms,
            }

    sys.modules["emuboard"] = emuboard

    async def program(coro):
        try:
            await coro
        except BaseException as e:  # printed like an uncaught error on a board
            sys.print_exception(e)
        finally:
            _js.program_done()

    def asyncio_run(coro):
        # The port has no asyncio.run: the event loop is the JS one. The task runs on JS timers and the
        # REPL starts when it ends (or on Ctrl-C), as after main.py's asyncio.run() on a board.
        _js.program_started()
        return asyncio.create_task(program(coro))

    asyncio.run = asyncio_run

    def run_file(name):
        # boot.py/main.py run in __main__ like pyexec_file_if_exists: 0 ok/absent, 1 SystemExit.
        try:
            os.stat(name)
        except OSError:
            return 0
        try:
            with open(name) as f:
                src = f.read()
            exec(compile(src, name, "exec"), main_globals)
        except SystemExit:
            return 1
        except BaseException as e:  # printed like an uncaught error on a board
            sys.print_exception(e)
        sample()
        return 0

    return run_file


# _emuboard_machine comes from prelude_machine.py, which board.mjs runs just before this file
_emuboard_run_file = _emuboard_setup(globals(), _rom_partition, _emuboard_machine)  # noqa: F821
del _emuboard_setup, _rom_partition, _emuboard_machine  # noqa: F821
