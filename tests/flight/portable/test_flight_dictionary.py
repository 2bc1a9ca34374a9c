"""The flight dictionary is well formed (runs on MicroPython: flight code reads these tables)."""

from flight.dictionary import COMMANDS, HAZARD_ROLES, TELEMETRY


def test_commands_are_well_formed():
    seen = set()
    for name, (svc, sub, fid, args, hazardous, desc) in COMMANDS.items():
        assert 0 < svc < 256 and 0 < sub < 256 and desc
        key = (svc, sub, fid)
        assert key not in seen, name  # no two commands share a PUS type and function
        seen.add(key)
        for arg in args:
            assert len(arg) == 5
        assert hazardous == (name in HAZARD_ROLES)


def test_limits_are_ordered():
    for name, (_unit, ylo, yhi, rlo, rhi, _desc) in TELEMETRY.items():
        if ylo is not None and rlo is not None:
            assert rlo < ylo, name
        if yhi is not None and rhi is not None:
            assert yhi < rhi, name
