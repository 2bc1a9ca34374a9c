"""RP2040 flight computer (PROVES-Kit-like): sensors on I2C0/I2C1, LoRa radio on SPI0."""

BOARD = {
    "name": "rp2040-flight",
    "mcu": "rp2040",
    "mpy_arch": "armv6m",
    "heap_budget": 200 * 1024,
    "heap_source": "Pico: 209,936-215,904 B free at boot, v1.20 (micropython#12557)",
    # times slower than this machine's MicroPython unix port (docs/board-speed.md): published 150-200x,
    # the slow end taken
    "speed_vs_unix": 200,
    "speed_source": "bm_chaos 152-154 on a Pico (micropython#19352) vs 29,897 on the unix port here",
    "i2c": {
        0: {"scl": 5, "sda": 4, "freq": 400000, "devices": {"lis3mdl": 0x1C, "lsm6dsox": 0x6A}},
        1: {"scl": 3, "sda": 2, "freq": 400000, "devices": {"ina219": 0x40, "tmp117": 0x48}},
    },
    "spi": {
        0: {"sck": 18, "mosi": 19, "miso": 16, "devices": {"sx1276": {"cs": 17, "reset": 20, "dio0": 21}}}
    },
    "uart": {
        0: {"tx": 0, "rx": 1, "baud": 115200, "role": "ground-link"},
        1: {"tx": 8, "rx": 9, "baud": 115200, "role": "rs485", "de": 10},
    },
    "link_uart": 0,
    "sun_adc": (26, 27, 28, 29, None, None),
    "magnetorquers": ({"pwm": 11, "dir": 12}, {"pwm": 13, "dir": 14}, {"pwm": 15, "dir": 22}),
    "max_dipole": 0.2,
    "burnwire": {"enable": 23, "fire": 24, "switch": 25},
}
