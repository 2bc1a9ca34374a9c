"""A board definition populated with simulated chips that read the simulated environment.

    board = SimBoard(definition("sim-twin"), env, clock, medium)

The chips on its I2C buses read `env`; the SPI chips (the SX1276 radio) run on the virtual `clock`
and talk over `medium` (hal.sim.env.radio_medium), so the board has SPI buses only when it is given
a clock (the SimWorld gives it its own). Burn wire, valves, a propulsion unit on its RS-485 UART and
loads: hal.sim.board.extras.
"""

from hal.sim.buses.bus import FaultSet, SimADC, SimI2C, SimPin, SimPWM
from hal.sim.buses.spi import SimSPI
from hal.sim.chips.ina219 import SimINA219
from hal.sim.chips.lis3mdl import SimLIS3MDL
from hal.sim.chips.lsm6dsox import SimLSM6DSOX
from hal.sim.chips.magnetorquer import SimMagnetorquer
from hal.sim.chips.sx1276 import SimSX1276
from hal.sim.chips.tmp117 import SimTMP117
from hal.sim.env import vec
from hal.sim.env.environment import Environment

_FACES = ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1))


class SimBoard:
    def __init__(self, defn, env=None, clock=None, medium=None):
        self.defn = defn
        self.env = env if env is not None else Environment()
        self.faults = FaultSet()
        self.chips = {}
        self._i2c = {}
        self._spi = {}
        self._uarts = {}
        self._pins = {}
        self._pwms = {}
        env = self.env
        makers = {
            "lis3mdl": lambda: SimLIS3MDL(lambda: env.b_body, lambda: env.structure.celsius()),
            "lsm6dsox": lambda: SimLSM6DSOX(lambda: env.body.omega),
            "ina219": lambda: SimINA219(lambda: env.battery.voltage(), lambda: env.battery.current),
            "tmp117": lambda: SimTMP117(lambda: env.payload.celsius()),
        }
        for bus_id, bus in defn["i2c"].items():
            i2c = SimI2C({}, self.faults)
            for chip, addr in bus["devices"].items():
                if chip in makers:
                    self.chips[chip] = makers[chip]()
                    i2c.attach(addr, self.chips[chip])
            self._i2c[bus_id] = i2c
        coils = []
        for mt in defn["magnetorquers"]:
            coils.append(SimMagnetorquer(self.pwm(mt["pwm"]), self.pin(mt["dir"]), defn["max_dipole"]))
        env.coils = coils
        self.coils = coils
        if clock is not None:
            self._attach_spi(clock, medium)

    def _attach_spi(self, clock, medium):
        """An SPI bus per definition entry, with the chips it names that have a simulation."""
        for bus_id, bus in self.defn.get("spi", {}).items():
            spi = SimSPI(self.faults)
            dev = bus["devices"].get("sx1276")
            if dev is not None:
                chip = SimSX1276(clock, medium, self.pin(dev["reset"]), None, "sx1276")
                chip.dio0.id = dev["dio0"]
                self.live_pin(chip.dio0)
                spi.attach(self.pin(dev["cs"]), chip)
                self.chips["sx1276"] = chip
            self._spi[bus_id] = spi

    def reset(self):
        """A commanded reboot: the world that owns this board (ground/flight_twin.py) resets it."""
        self.reset_requested = True

    def i2c(self, bus_id):
        return self._i2c[bus_id]

    def spi(self, bus_id):
        """The simulated SPI bus with its chips attached (a board built with a clock has them)."""
        if bus_id not in self._spi:
            raise KeyError("no simulated SPI bus %r (not in the definition, or no clock given)" % (bus_id,))
        return self._spi[bus_id]

    def attach_uart(self, uart_id, uart):
        """From now on board.uart(uart_id) is `uart` (a DeviceUART: a simulated peripheral)."""
        self._uarts[uart_id] = uart

    def uart(self, uart_id):
        if uart_id not in self._uarts:
            raise KeyError("no simulated device on UART %r" % (uart_id,))
        return self._uarts[uart_id]

    def live_pin(self, pin):
        """From now on board.pin(pin.id) is `pin`: an input the simulation drives (a chip's
        interrupt line, a switch)."""
        self._pins[pin.id] = pin

    def pin(self, pin_id, mode=None):
        if pin_id not in self._pins:
            self._pins[pin_id] = SimPin(pin_id)
        return self._pins[pin_id]

    def pwm(self, pin_id):
        if pin_id not in self._pwms:
            self._pwms[pin_id] = SimPWM(self.pin(pin_id))
        return self._pwms[pin_id]

    def adc(self, pin_id):
        face = self.defn["sun_adc"].index(pin_id)
        n = _FACES[face]
        env = self.env

        def source():
            return 0.0 if env.eclipse else max(0.0, vec.dot(n, env.sun_body))

        return SimADC(source, self.faults, ("adc", pin_id))
