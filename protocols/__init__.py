"""Wire formats of the space link: CCSDS, PUS-C, RS, CRC, KISS, CBOR (MicroPython + CPython)."""
