"""The simulated environment: orbit, attitude, fields, sun, power, thermal and the radio medium."""
