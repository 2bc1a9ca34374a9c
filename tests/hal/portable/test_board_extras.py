# upy-heapsize: 256K  hal.sim.board.world for every board definition (the whole simulator) from source, 64-bit
"""The simulated flight board with its radio, burn wire and thrusters: the flight-side drivers run
on the board's own pins and buses, the ground radio shares the medium, and a thruster pulse
spins the environment's rigid body by torque x time / inertia."""

from _check import raises

from hal import boards
from hal.drivers.burnwire import DEPLOYED, BurnWire
from hal.drivers.sx1276 import SX1276
from hal.drivers.sx1276_blocking import BlockingSX1276
from hal.drivers.thruster import ThrusterValve
from hal.errors import DeviceNotFoundError
from hal.sim.board.board import SimBoard
from hal.sim.board.extras import EXAMPLE_THRUSTERS, add_burnwire, add_thrusters
from hal.sim.buses.bus import Fault, SimPin
from hal.sim.buses.clock import VirtualClock
from hal.sim.buses.spi import SimSPI
from hal.sim.chips.sx1276 import SimSX1276
from hal.sim.env.radio_medium import RadioMedium


def _board(clock=None, medium=None):
    """The sim-twin board on a virtual clock: its radio is on SPI bus 0 (on `medium`, if given)."""
    clock = clock if clock is not None else VirtualClock()
    return SimBoard(boards.definition("sim-twin"), None, clock, medium), clock


def _ground_station(clock, medium):
    spi = SimSPI()
    cs = SimPin("gs_cs", SimPin.OUT, 1)
    rst = SimPin("gs_rst", SimPin.OUT, 1)
    spi.attach(cs, SimSX1276(clock, medium, rst, None, "ground"))
    return BlockingSX1276(spi, cs, reset=rst, clock=clock, sf=7)


def test_flight_radio_on_the_board_pins_talks_to_the_ground():
    clock = VirtualClock()
    medium = RadioMedium(clock)
    board, clock = _board(clock, medium)
    spi = board.spi(0)
    dev = board.defn["spi"][0]["devices"]["sx1276"]
    assert board.pin(dev["dio0"]) is board.chips["sx1276"].dio0
    radio = BlockingSX1276(
        spi,
        board.pin(dev["cs"]),
        reset=board.pin(dev["reset"]),
        clock=clock,
        dio0=board.pin(dev["dio0"]),
        sf=7,
    )
    ground = _ground_station(clock, medium)
    radio.start_receive()
    ground.send(b"TC: deploy antenna")
    for _ in range(5):
        clock.advance_ms(1)
        medium.update()
        if radio.poll() == SX1276.RX_DONE:
            break
    assert bytes(radio.packet()) == b"TC: deploy antenna"
    ground.start_receive()
    radio.send(b"TM: ack")
    assert ground.recv(50) == b"TM: ack"


def test_the_board_attaches_its_radio_only_on_a_clock():
    board = _board()[0]
    assert board.spi(0) is board.spi(0) and "sx1276" in board.chips
    bare = boards.open_board("sim-twin")  # I2C chips only: the radio's timing needs the virtual clock
    raises(KeyError, bare.spi, 0)
    assert "sx1276" not in bare.chips


def test_board_fault_set_reaches_the_radio_bus():
    board, clock = _board()
    dev = board.defn["spi"][0]["devices"]["sx1276"]
    board.faults.inject(dev["cs"], Fault(Fault.NACK))
    cs, reset = board.pin(dev["cs"]), board.pin(dev["reset"])
    raises(DeviceNotFoundError, SX1276, board.spi(0), cs, reset, clock)


def test_burnwire_deploys_through_the_board_pins():
    board, clock = _board()
    wire = add_burnwire(board, clock, melt_ms=1200)
    dev = board.defn["burnwire"]
    bw = BurnWire(board.pin(dev["enable"]), board.pin(dev["fire"]), clock, sense_pin=board.pin(dev["switch"]))
    assert board.pin(dev["switch"]) is wire.sense_pin
    bw.start(3000)
    for _ in range(200):
        clock.advance_ms(20)
        if bw.poll() == DEPLOYED:
            break
    assert bw.state == DEPLOYED and wire.released and 1200 <= bw.last_burn_ms <= 1220


def test_thruster_pulse_spins_the_body_by_torque_times_time_over_inertia():
    board, clock = _board()
    env = board.env
    env.body.omega = (0.0, 0.0, 0.0)
    add_thrusters(board, clock)
    t = EXAMPLE_THRUSTERS[0]  # +Z thrust at x = +5 cm: torque r x F = (0, -0.05 * 0.01... ) about -Y
    valve = ThrusterValve(board.pin(t["arm"]), board.pin(t["fire"]), clock, max_on_ms=200)
    valve.confirm_arm(valve.request_arm())
    valve.fire(100)
    assert env.thruster_torque == (0.0, -t["position_m"][0] * t["thrust_n"], 0.0)
    for _ in range(10):  # 10 ms physics steps, the driver polled after each
        env.step(0.01)
        clock.advance_ms(10)
        valve.poll()
    assert env.thruster_torque == (0.0, 0.0, 0.0)
    iyy = env.body.inertia[1]
    expect = -0.05 * 0.01 * 0.1 / iyy  # N m * s / kg m^2 = rad/s
    w = env.body.omega
    assert abs(w[1] - expect) < 1e-3 * abs(expect)
    assert abs(w[0]) < 1e-4 * abs(expect) and abs(w[2]) < 1e-4 * abs(expect)


def test_every_board_definition_can_be_simulated():
    """The heap measurement boots the flight application on each board's simulated chips: the world
    builds every definition, a radio only where the definition has one (the ESP32-C3's has none)."""
    from hal.sim.board.world import SimWorld

    for name in boards.names():
        world = SimWorld(board=name)
        spi = world.board.defn.get("spi", {})
        has_radio = "sx1276" in spi.get(0, {}).get("devices", {})
        assert ("sx1276" in world.board.chips) == has_radio, name
        if not has_radio:
            raises(KeyError, world.board.spi, 0)
    assert not boards.definition("esp32c3-flight").get("spi")  # the case above is exercised
