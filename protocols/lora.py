"""The LoRa link profile: the CCSDS space link in 255-byte SX127x packets.

Downlink: one CADU per LoRa packet. The CADU is the ASM and one RS(255,223) codeblock at I=1,
shortened with virtual fill so that ASM + codeblock is exactly one packet:
    4 (ASM) + FRAME_LEN (219) + 32 (check symbols) = 255 bytes.
The ASM stays although the LoRa packet (preamble, sync word, explicit header with the length)
already delimits the codeblock: it costs 4 of 255 bytes (1.6 % of the air time), and in return
the received packets, laid end to end, are an ordinary CCSDS CADU stream. The ground decodes it
with the same frame synchronizer and RS decoder as a UART or TCP link (protocols.sync
CaduDecoder) and any CCSDS ground (Yamcs, gr-satellites) can take it as it is; and a packet that
is not a CADU (the beacon) is told apart by its length and missing ASM.

The radio's own payload CRC is off for this profile: RS(255,223) corrects up to 16 damaged
symbols, where a failed CRC would drop the whole packet, and every frame still carries its own
check (TM FECF CRC-16; TC: BCH per codeblock, FECF and the SDLS MAC).

Uplink: the CLTU stream (protocols.cltu) is cut into packets of at most PACKET_MAX bytes in the
order it is sent; the board lays the packets it receives end to end and feeds that byte stream
to the CLTU receiver, so a CLTU may span packets and a packet may hold several CLTUs. A lost
packet breaks the CLTU it was part of; COP-1 sends the frame again.

Everything here is MicroPython-portable: the flight adapter (flight/lora_link.py) and the ground
station use the same numbers.
"""

from protocols import sync
from protocols.errors import EncodeError

PACKET_MAX = 255  # SX127x FIFO / RegPayloadLength limit
INTERLEAVE = 1
FRAME_LEN = PACKET_MAX - sync.ASM_LEN - 32  # 219: TM frame bytes per packet (4 bytes of virtual fill)
CADU_LEN = sync.cadu_len(FRAME_LEN, INTERLEAVE)  # 255
VIRTUAL_FILL = 223 - FRAME_LEN

# modem settings of the profile (the SX1276 driver's defaults: 70 cm band, SF9, 125 kHz, CR 4/5)
SF = 9
BW_HZ = 125000
CR = 5
PREAMBLE = 8
CRC = False


def segments(data, size=PACKET_MAX):
    """Cut a byte stream into packets of at most `size` bytes, in order (views, no copies)."""
    if not 1 <= size <= PACKET_MAX:
        raise EncodeError("lora.size", "a packet holds 1..%d bytes, got %r" % (PACKET_MAX, size))
    mv = memoryview(data)
    out = []
    for start in range(0, len(mv), size):
        out.append(mv[start : start + size])
    return out


def is_cadu(packet, max_asm_bit_errors=2):
    """True for a packet that can be a CADU of this profile: its length, and an ASM with no more
    wrong bits than the frame synchronizer tolerates."""
    return len(packet) == CADU_LEN and sync.asm_bit_errors(packet, 0) <= max_asm_bit_errors
