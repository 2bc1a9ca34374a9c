"""A propulsion unit with its own controller, on RS-485 Modbus RTU: the flight's client and the
thruster valve driver against the simulated unit (hal/sim/chips/modbus_propulsion.py) over a
simulated line with its wire time; exceptions, corrupted and lost frames, the client's holdoff
after a timeout, and the unit's own safety limit."""

from _check import raises

from hal.drivers.modbus_propulsion import ModbusPropulsion
from hal.drivers.modbus_rtu import ModbusExceptionError, ModbusRtuClient, RegisterSwitch, crc16_modbus
from hal.drivers.thruster import ARMED, FIRING, SAFE, ThrusterValve
from hal.errors import DeviceTimeoutError
from hal.sim.buses.bus import Fault, FaultSet
from hal.sim.buses.clock import VirtualClock
from hal.sim.buses.device_uart import FAULT_KEY, DeviceUART
from hal.sim.chips.modbus_propulsion import LIMIT_REG, SimModbusPropulsion, crc16
from hal.sim.chips.thruster import ThrusterCluster

LAYOUT = (
    {"thrust_n": 0.01, "position_m": (0.05, 0.0, -0.15), "direction": (0.0, 0.0, 1.0)},
    {"thrust_n": 0.01, "position_m": (-0.05, 0.0, -0.15), "direction": (0.0, 0.0, 1.0)},
)


class Body:
    thruster_torque = None


def _rig(holdoff_ms=0):
    clock = VirtualClock(start_ms=1000)
    faults = FaultSet()
    unit = SimModbusPropulsion(clock, LAYOUT, unit=3)
    body = Body()
    ThrusterCluster(unit.valves, body)
    line = DeviceUART(unit, clock, 115200, faults)
    client = ModbusRtuClient(line, clock, timeout_ms=20, retries=1, holdoff_ms=holdoff_ms)
    return clock, faults, unit, body, client


def test_the_bitwise_and_table_crcs_agree_on_the_spec_example():
    # Modbus over serial line V1.02, 6.2.2: read 2 holding registers of unit 1 from 0x006B...
    frame = bytes((0x01, 0x03, 0x00, 0x6B, 0x00, 0x03))
    assert crc16(frame) == crc16_modbus(frame) == 0x1774  # sent low byte first: 74 17


def test_switches_open_a_valve_only_while_arm_is_closed():
    clock, _faults, unit, body, client = _rig()
    arm = RegisterSwitch(client, 3, 0)
    valve = RegisterSwitch(client, 3, 2)
    valve.value(1)
    assert not unit.valves[1].is_open and body.thruster_torque == (0.0, 0.0, 0.0)
    arm.value(1)
    assert unit.valves[1].is_open and arm.value() == 1
    assert client.read_input_registers(3, 0, 1) == [0b101]  # ARM closed, valve 1 open
    assert client.read_holding_registers(3, 0, 3) == [1, 0, 1]
    valve.value(0)
    assert not unit.valves[1].is_open and unit.valves[1].pulses == 1
    # the request and the answer cross the wire at 115200 baud before the client sees it
    t0 = clock.ticks_us()
    client.write_single_register(3, 1, 0)
    assert clock.ticks_us() - t0 >= 16 * 10 * 1000000 // 115200


def test_a_wrong_address_or_value_is_an_exception_the_client_names():
    _clock, _faults, unit, _body, client = _rig()
    exc = raises(ModbusExceptionError, client.write_single_register, 3, 9, 1)  # no register 9
    assert exc.code == 2 and "illegal data address" in str(exc)
    exc = raises(ModbusExceptionError, client.write_single_register, 3, 1, 7)  # a switch is 0 or 1
    assert exc.code == 3
    exc = raises(ModbusExceptionError, client.read_input_registers, 3, 2, 5)  # past the map
    assert exc.code == 2
    client.write_multiple_registers(3, 0, [0, 0, 0])
    assert unit.exceptions == 3 and client.exceptions == 3


def test_a_corrupted_request_gets_no_answer_and_the_retry_goes_through():
    _clock, faults, unit, _body, client = _rig()
    faults.inject(FAULT_KEY, Fault(Fault.STUCK, count=1, value=0x55))
    client.write_single_register(3, 0, 1)  # the first copy is garbage on the wire
    assert unit.ignored == 1 and client.timeouts == 1 and unit.arm_pin.value() == 1


def test_a_silent_unit_times_out_then_is_not_asked_again_during_the_holdoff():
    clock, faults, unit, _body, client = _rig(holdoff_ms=1000)
    faults.inject(FAULT_KEY, Fault(Fault.DROP))
    t0 = clock.ticks_ms()
    raises(DeviceTimeoutError, client.write_single_register, 3, 0, 1)
    assert client.timeouts == 2 and 40 <= clock.ticks_ms() - t0 <= 50  # two 20 ms attempts
    t1 = clock.ticks_ms()
    exc = raises(DeviceTimeoutError, client.write_single_register, 3, 0, 1)
    assert clock.ticks_ms() == t1 and "since its last timeout" in str(exc)  # no wait at all
    faults.clear()
    clock.advance_ms(1000)
    client.write_single_register(3, 0, 1)  # asked again after the holdoff
    assert unit.arm_pin.value() == 1


def test_the_valve_driver_fires_through_the_unit_and_the_unit_limits_a_lost_close():
    clock, faults, unit, body, client = _rig(holdoff_ms=1000)
    valve = ThrusterValve(RegisterSwitch(client, 3, 0), RegisterSwitch(client, 3, 1), clock, max_on_ms=200)
    valve.confirm_arm(valve.request_arm())
    valve.fire(50)
    assert valve.state == FIRING and unit.valves[0].is_open and body.thruster_torque[1] != 0.0
    clock.advance_ms(50)
    valve.poll()
    assert valve.state == ARMED and not unit.valves[0].is_open
    assert 50000 <= unit.valves[0].total_open_us <= 53000  # 50 ms and the line's latency
    # the close never reaches the unit: its own limit closes the valve
    valve.fire(50)
    faults.inject(FAULT_KEY, Fault(Fault.DROP))
    clock.advance_ms(50)
    raises(DeviceTimeoutError, valve.poll)
    assert valve.state == FIRING and unit.valves[0].is_open
    clock.advance_ms(unit.limit_ms)
    unit.update()
    assert not unit.valves[0].is_open and unit.safety_closes == 1
    # safe() leaves the driver SAFE even though the unit does not hear it
    raises(DeviceTimeoutError, valve.safe)
    assert valve.state == SAFE


def test_the_safety_limit_is_a_register_and_broadcasts_are_not_answered():
    _clock, _faults, unit, _body, client = _rig()
    client.write_single_register(3, LIMIT_REG, 250)
    assert unit.limit_ms == 250 and client.read_holding_registers(3, LIMIT_REG, 1) == [250]
    raises(ModbusExceptionError, client.write_single_register, 3, LIMIT_REG, 0)
    line = client.uart
    body = bytes((0, 6, 0, 0, 0, 1))
    c = crc16(body)
    line.write(body + bytes((c & 0xFF, c >> 8)))  # unit 0: every unit acts, none answers
    assert unit.arm_pin.value() == 1 and line.any() == 0


def test_the_units_driver_gives_valve_switches_its_status_and_its_limit():
    clock = VirtualClock(start_ms=1000)
    unit = SimModbusPropulsion(clock, LAYOUT, unit=5)
    driver = ModbusPropulsion(DeviceUART(unit, clock), clock, unit=5, valves=2)
    pairs = driver.switches()
    assert len(pairs) == 2 and pairs[0][0] is pairs[1][0]  # one ARM switch, shared
    valves = [ThrusterValve(arm, fire, clock, name="t%d" % i) for i, (arm, fire) in enumerate(pairs)]
    assert driver.status() == 0
    valves[0].confirm_arm(valves[0].request_arm())
    valves[1].confirm_arm(valves[1].request_arm())
    valves[1].fire(20)
    assert driver.status() == 0b101 and unit.valves[1].is_open  # ARM closed, valve 1 open
    driver.set_limit_ms(300)
    assert unit.limit_ms == 300
    for v in valves:
        v.safe()
    assert driver.status() == 0 and unit.valves[1].pulses == 1
