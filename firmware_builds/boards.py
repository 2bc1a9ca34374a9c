"""Targets a bundle can be built for: mpy-cross architecture and the firmware's .mpy ABI.

`mpy_version` is the .mpy format the board's MicroPython loads (`sys.implementation._mpy & 0xFF`);
bytecode-only bundles depend on it alone, `arch` matters once modules use the native emitter.
`hal_board` names the hal/boards definition the bundle configures; `with_sim` ships hal/sim
(the emulated board flies simulated chips; real boards do not carry the simulator).
`from_mpy`: the .mpy bundle flies on the board's stock firmware with 15% of its heap budget spare
(tests/emuboard/test_board_heap.py holds this true both ways); otherwise the board needs the
frozen profile (manifest.py frozen into a custom firmware: bytecode and strings stay in flash).
`romfs` (optional): {"packages", "partition"}: those packages go into `romfs.img` for the board
firmware's ROMFS partition of `partition` bytes, where they run in place and cost no heap for their
bytecode (firmware_builds/romfs.py); `cubesat flash deploy` writes the image with vfs.rom_ioctl.
`platforms` are the `sys.platform` values of the firmware the bundle runs on: the deployer refuses
a bundle whose board says otherwise before writing anything (an rp2040 bundle on the emulated board
would only fail its trial boots). The emulated bundle also runs on the MicroPython unix port
("linux"), the project's second emulated board.
"""

from __future__ import annotations

import json
from pathlib import Path

# What each bundle's application needs of its board's heap, measured by `cubesat heap --write`
# (board_tools/board_heap.py: the emulated board, 32-bit MicroPython, the bundle's .mpy); the build
# writes it into the manifest and `cubesat flash deploy` refuses a board with less free heap.
HEAP_FILE = Path(__file__).with_name("heap_needed.json")


def heap_needed(target: str) -> int | None:
    """Bytes of heap the `target` bundle's application needs (None: not measured)."""
    try:
        needs = json.loads(HEAP_FILE.read_text())["needs"]
    except (OSError, ValueError, KeyError):
        return None
    need = needs.get(target)
    return int(need) if need else None


TARGETS: dict[str, dict] = {
    "rp2040": {
        "platforms": ("rp2",),
        "arch": "armv6m",
        "mpy_version": 6,
        "hal_board": "rp2040-flight",
        "with_sim": False,
        "from_mpy": True,
        "family": "RP2040",
        "flash": "uf2",
    },
    "stm32f4": {
        "platforms": ("pyboard",),
        "arch": "armv7emsp",
        "mpy_version": 6,
        "hal_board": "stm32f4-pyboard",
        "with_sim": False,
        "from_mpy": False,
        "family": "STM32F4",
        "flash": "dfu",
    },
    "stm32f7": {
        "platforms": ("pyboard",),
        "arch": "armv7emdp",
        "mpy_version": 6,
        "hal_board": "stm32f7-pyboard",
        "with_sim": False,
        "from_mpy": False,
        "family": "STM32F7",
        "flash": "dfu",
    },
    "samd51": {
        "platforms": ("samd",),
        "arch": "armv7emsp",
        "mpy_version": 6,
        "hal_board": "samd51-pycubed",
        "with_sim": False,
        "from_mpy": True,
        "family": "SAMD51",
        "flash": "uf2",
        # Stock samd firmware on a SAMD51 with an external SPI flash (Feather M4 Express class) keeps
        # a 64 KiB ROMFS partition at the end of its 496 KiB code flash (micropython ports/samd,
        # samd51x19a.ld, VfsRom support from micropython#17452). The flight package fits it.
        "romfs": {"packages": ("flight",), "partition": 64 * 1024},
    },
    "esp32": {
        "platforms": ("esp32",),
        "arch": "xtensawin",
        "mpy_version": 6,
        "hal_board": "esp32-flight",
        "with_sim": False,
        "from_mpy": False,
        "family": "ESP32",
        "flash": "esptool",
    },
    "esp32c3": {
        "platforms": ("esp32",),
        "arch": "rv32imc",
        "mpy_version": 6,
        "hal_board": "esp32c3-flight",
        "with_sim": False,
        "from_mpy": False,
        "family": "ESP32-C3",
        "flash": "esptool",
    },
    "emulated": {
        "platforms": ("webassembly", "linux"),
        "arch": None,
        "mpy_version": 6,
        "hal_board": "sim-twin",
        "with_sim": True,
        "from_mpy": True,
        "family": "webassembly",
        "flash": "mpremote",
    },
}
