"""SAMD51 board in the PyCubed layout: one I2C bus, RFM98 (SX1276) on SPI, sun sensors on ADC."""

BOARD = {
    "name": "samd51-pycubed",
    "mcu": "samd51",
    "mpy_arch": "armv7emsp",
    "heap_budget": 160 * 1024,
    "heap_source": "under 176 KB free: 192 KB SRAM - 16 KB stack - .bss (micropython ports/samd)",
    # no published MicroPython benchmark found: the STM32F405's (same Cortex-M4F core, 168 MHz)
    # scaled to the SAMD51's 120 MHz
    "speed_vs_unix": 140,
    "speed_source": "estimate: STM32F405 100x scaled by clock 168/120 MHz (no published figure)",
    "i2c": {
        0: {
            "scl": "PA13",
            "sda": "PA12",
            "freq": 400000,
            "devices": {"lis3mdl": 0x1E, "lsm6dsox": 0x6B, "ina219": 0x41, "tmp117": 0x49},
        }
    },
    "spi": {
        0: {
            "sck": "PA17",
            "mosi": "PB23",
            "miso": "PB22",
            "devices": {"sx1276": {"cs": "PB30", "reset": "PB31", "dio0": "PA27"}},
        }
    },
    "uart": {
        0: {"tx": "PA22", "rx": "PA23", "baud": 115200, "role": "ground-link"},
        1: {"tx": "PB16", "rx": "PB17", "baud": 115200, "role": "rs485", "de": "PB13"},
    },
    "link_uart": 0,
    "sun_adc": ("PA02", "PA03", "PB08", "PB09", "PA04", "PA05"),
    "magnetorquers": (
        {"pwm": "PA18", "dir": "PA19"},
        {"pwm": "PA20", "dir": "PA21"},
        {"pwm": "PA22", "dir": "PA23"},
    ),
    "max_dipole": 0.15,
    "burnwire": {"enable": "PB14", "fire": "PB15", "switch": "PA16"},
}
