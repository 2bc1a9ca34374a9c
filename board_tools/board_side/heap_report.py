"""Board side of board_tools.emuboard_console.heap_report(): the board's heap as a repr'd dict. The
emulated board reports its own (with the high-water mark); a real board, without the emuboard
module, reports its live heap as the peak too."""

import gc

try:
    import emuboard

    r = emuboard.heap_report()
except ImportError:
    a = gc.mem_alloc()
    r = {"alloc": a, "peak": a, "heap": a + gc.mem_free()}
print(repr(r))
