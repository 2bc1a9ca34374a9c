"""Picks the @micropython.viper hot paths (protocols/_viper_hot.py) once, at import.

`hot` is the module protocols._viper_hot, or None (and `REASON` says why):
- on CPython, which never parses the viper module: the C core or the pure code runs there;
- under PROTOCOLS_PURE=1 (read with os.getenv where the port has it);
- on a port without a native emitter (the WebAssembly port): compiling a viper function raises
  SyntaxError ("invalid micropython decorator") when the module is imported from source;
- when a bundle left the module out (ImportError: built for a target without an arch) or carries
  it compiled for another arch (ValueError: "incompatible .mpy arch", "native code in .mpy
  unsupported");
- on a big-endian machine: the RS encoder reads its tables as little-endian 32-bit words.

This module holds no viper code, so it compiles and runs everywhere. rs, crc, randomizer and
cltu check their arguments in Python, the same way as the pure code, before calling into
_viper_hot: a viper pointer argument takes any object, so nothing unchecked may reach it.
"""

import sys

hot = None
REASON = "CPython: C core or pure code"

if sys.implementation.name == "micropython":
    import os

    _getenv = getattr(os, "getenv", None)
    if _getenv is not None and _getenv("PROTOCOLS_PURE") in ("1", "true", "yes"):
        REASON = "PROTOCOLS_PURE is set"
    elif sys.byteorder != "little":
        REASON = "big-endian machine"
    else:
        try:
            from protocols import _viper_hot as hot  # noqa: F401 (the module is the result)

            REASON = "viper"
            import gc

            gc.collect()  # compiling from source leaves parse and emitter garbage: free it in one piece
        except SyntaxError as exc:  # the port has no native emitter (WebAssembly)
            REASON = "no viper emitter: %s" % exc
        except ImportError as exc:  # left out of a bundle built without an arch
            REASON = "viper module missing: %s" % exc
        except ValueError as exc:  # an .mpy of another arch, or a port that loads no native code
            REASON = "viper module not loadable: %s" % exc
