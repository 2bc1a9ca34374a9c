"""Pyboard-class STM32 flight computer: the pyboard v1.1 (STM32F405) and its F7 sibling (pyboard D).

Pins by their pyboard names. The stm32 port fixes each bus's pins by its id and refuses explicit
pins ("explicit choice of scl/sda is not implemented"; its UART takes no tx/rx), so the pins below
are the wiring, recorded for the harness, and `fixed_bus_pins` tells MachineBoard to pass the id
only. Same on PYBv1.1 and PYBD-SF2 (ports/stm32/boards/*/mpconfigboard.h): I2C(1) on X9/X10,
SPI(1) on X5-X8, UART(2) on X3/X4, UART(3) on Y9/Y10. Each bus is keyed by the index the flight
application uses (0) and carries the port's bus `id`.
"""

BOARD = {
    "name": "stm32f4-pyboard",
    "mcu": "stm32f405",
    "mpy_arch": "armv7emsp",
    # free GC heap at boot on stock firmware: 93,632 of 102,400 B (PYBv1.0, micropython issue #1877)
    "heap_budget": 90 * 1024,
    "heap_source": "PYBv1.0: 93,632 B free of a 102,400 B heap at boot (micropython#1877)",
    # times slower than this machine's MicroPython unix port (docs/board-speed.md)
    "speed_vs_unix": 100,
    "speed_source": "run-perfbench median, PYBv1.0 168 MHz vs the unix port here (micropython#4858)",
    "fixed_bus_pins": True,
    "i2c": {
        0: {
            "id": 1,
            "scl": "X9",
            "sda": "X10",
            "freq": 400000,
            "devices": {"lis3mdl": 0x1C, "lsm6dsox": 0x6A, "ina219": 0x40, "tmp117": 0x48},
        }
    },
    "spi": {
        0: {
            "id": 1,
            "sck": "X6",
            "mosi": "X8",
            "miso": "X7",
            "devices": {"sx1276": {"cs": "X5", "reset": "X1", "dio0": "X2"}},
        }
    },
    "uart": {
        0: {"id": 2, "tx": "X3", "rx": "X4", "baud": 115200, "role": "ground-link"},
        1: {"id": 3, "tx": "Y9", "rx": "Y10", "baud": 115200, "role": "rs485", "de": "Y7"},
    },
    "link_uart": 0,
    # PC0-PC5: ADC123_IN10..IN15 (pins of PYBv1.1, ports/stm32/boards/PYBV11/pins.csv)
    "sun_adc": ("X19", "X20", "X21", "X22", "X11", "X12"),
    # Y1/Y2: TIM8_CH1/CH2, Y3: TIM4_CH3. machine.PWM exists on stm32 only from micropython PR
    # #18881: older firmware gets MachineBoard's on/off drive on the same pins
    "magnetorquers": ({"pwm": "Y1", "dir": "Y4"}, {"pwm": "Y2", "dir": "Y5"}, {"pwm": "Y3", "dir": "Y6"}),
    "max_dipole": 0.2,
    "burnwire": {"enable": "Y8", "fire": "Y11", "switch": "Y12"},
}

# STM32F7 pyboard class (PYBD-SF2 STM32F722, PYBD-SF6 STM32F767): the same bus ids and bus pins
# (PYBD_SF2/mpconfigboard.h); the GPIO and ADC pins keep their PYBv1.1 names, check them against
# the carrier board before flying.
# No published free-heap figure at boot was found; the F722's RAM left to the GC heap is
# 256 KiB - 16 KiB stack - .bss (ports/stm32/boards/PYBD_SF2/f722_qspi.ld), more than the F405's,
# so the F4 budget is kept as the safe floor until a board is measured.
BOARD_F7 = dict(BOARD)
BOARD_F7["name"] = "stm32f7-pyboard"
BOARD_F7["mcu"] = "stm32f722"
BOARD_F7["mpy_arch"] = "armv7emdp"
BOARD_F7["heap_source"] = "no published figure: the STM32F4 budget as a floor (micropython PYBD_SF2 .ld)"
# PYBD_SF2 at 120 MHz scores within 5% of PYBv1.0 in run-perfbench (micropython#4858); at its
# stock 216 MHz it is faster, so the F405's factor is kept as the safe floor
BOARD_F7["speed_source"] = "PYBD_SF2 @120 MHz = PYBv1.0 within 5% (micropython#4858): F405 factor as floor"
