"""ESP32 (WROOM-32 class, no PSRAM) flight computer: sensors on I2C(0), LoRa radio on VSPI; and
the ESP32-C3 (BOARD_C3 below).

GPIO numbers. The ESP32's GPIO matrix puts any bus on any pin, and MicroPython takes explicit
pins: I2C(0) on SCL 22 / SDA 21, SPI(2) (VSPI) on 18/23/19, UART(2) on TX 17 / RX 16 (the port's
defaults for UART2; UART0 stays the REPL). Avoided: 6-11 (SPI flash), 1/3 (REPL), 0 (boot mode).
34-39 are inputs only (ADC1 and DIO0). The burn wire's enable and fire sit on strapping pins 2
and 12, which must be low at reset: the burn wire's safe state. No RS-485 port: UART0
is the REPL, UART2 the ground link, and no GPIO is left for UART1 after the radio, the coils, the
sun sensors and the burn wire.
Each bus is keyed by the index the flight application uses (0) and carries the port's bus `id`.
"""

BOARD = {
    "name": "esp32-flight",
    "mcu": "esp32",
    "mpy_arch": "xtensawin",
    "heap_budget": 100 * 1024,
    "heap_source": "no PSRAM: 56 KiB first heap area, about 112 KB after one growth (micropython#13219)",
    # no published MicroPython benchmark against a known host was found: give --speed-factor
    "speed_vs_unix": None,
    "speed_source": "no published figure (docs/board-speed.md)",
    "i2c": {
        0: {
            "id": 0,
            "scl": 22,
            "sda": 21,
            "freq": 400000,
            "devices": {"lis3mdl": 0x1C, "lsm6dsox": 0x6A, "ina219": 0x40, "tmp117": 0x48},
        }
    },
    "spi": {
        0: {
            "id": 2,
            "sck": 18,
            "mosi": 23,
            "miso": 19,
            "devices": {"sx1276": {"cs": 5, "reset": 14, "dio0": 35}},
        }
    },
    "uart": {0: {"id": 2, "tx": 17, "rx": 16, "baud": 115200, "role": "ground-link"}},
    "link_uart": 0,
    # ADC1 channels (ADC2 cannot be read while Wi-Fi is on); four faces, as on the RP2040 board
    "sun_adc": (36, 39, 34, 32, None, None),
    "magnetorquers": ({"pwm": 25, "dir": 33}, {"pwm": 26, "dir": 13}, {"pwm": 27, "dir": 4}),
    "max_dipole": 0.2,
    "burnwire": {"enable": 2, "fire": 12, "switch": 15},
}

# ESP32-C3 (RISC-V, 400 KB SRAM, no PSRAM), the same port (sys.platform "esp32"): a reduced profile
# for its 22 GPIOs. I2C(0) on SDA 8 / SCL 9, the port's defaults; the ground link on UART(1)
# remapped to TX 21 / RX 20, so the REPL and `cubesat flash deploy` use the USB serial/JTAG (18/19).
# 11-17 are the SPI flash. What is left (0-7, 10) drives the three coils and the burn wire; there
# are no pins for the SX1276 beacon radio (SPI plus cs, reset, dio0) or the sun sensors, so this
# profile flies without them (the flight application runs without a radio or sun sensor).
BOARD_C3 = {
    "name": "esp32c3-flight",
    "mcu": "esp32c3",
    "mpy_arch": "rv32imc",
    # 64,000 B first GC area (52,608 free) at boot, 139,968 B after one growth with 11,392 B used:
    # about 128 KB free, MicroPython v1.22.2 on LOLIN_C3_MINI (micropython issue #14293). The
    # ESP32's budget keeps the same margin (100 KiB of about 112 KB): 110 KiB here.
    "heap_budget": 110 * 1024,
    "heap_source": "LOLIN_C3_MINI: about 128 KB free once the heap grew, v1.22.2 (micropython#14293)",
    "speed_vs_unix": None,
    "speed_source": "no published figure (docs/board-speed.md)",
    "i2c": {
        0: {
            "id": 0,
            "scl": 9,
            "sda": 8,
            "freq": 400000,
            "devices": {"lis3mdl": 0x1C, "lsm6dsox": 0x6A, "ina219": 0x40, "tmp117": 0x48},
        }
    },
    "spi": {},
    "uart": {0: {"id": 1, "tx": 21, "rx": 20, "baud": 115200, "role": "ground-link"}},
    "link_uart": 0,
    "sun_adc": (),
    "magnetorquers": ({"pwm": 4, "dir": 7}, {"pwm": 5, "dir": 10}, {"pwm": 6, "dir": 3}),
    "max_dipole": 0.2,
    # 2 is a strapping pin read high at reset: the deployment switch input, pulled up, open at launch
    "burnwire": {"enable": 0, "fire": 1, "switch": 2},
}
