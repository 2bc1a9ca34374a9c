"""Class 2 CFDP between the real Yamcs 5.12 CFDP service (`org.yamcs.cfdp.CfdpService`, pip
fprime-yamcs-bundle) and the board's lean CFDP machines (`protocols/cfdp_lean_rx.py`,
`protocols/cfdp_lean_tx.py`), both directions, on one Yamcs:
- up: a file put in a Yamcs bucket and started through Yamcs' REST file-transfer API reaches our
  Receiver byte-identical with NO_ERROR, and Yamcs lists the upload as COMPLETED;
- down: our Sender's file lands in Yamcs' incoming bucket byte-identical (read back through the
  bucket REST API), Yamcs' Finished carries NO_ERROR (data complete, file retained) and Yamcs
  lists the download as COMPLETED;
each loss-free and with 10% of the PDUs lost each way (a seeded draw per PDU; which PDUs it hits
still varies a little, since both ends' retries run on wall-clock timers).

The wire is the flight's: each PDU in a CCSDS space packet on APID 0x0CF (`CFDP_APID`), over UDP.
Yamcs' side (added to the instance `cubesat dict yamcs` writes): a UDP TM link puts the board's
packets on the stream `cfdp_tm`, an SQL stream strips the 6-byte packet header into `cfdp_in`;
the service's `cfdp_out` PDUs get a TC packet header (APID 0x0CF, no secondary header) and go to
a UDP TC link whose IssCommandPostprocessor fills in the packet length and sequence count.
1-byte entity IDs (the lean sender's only size), 4-byte sequence numbers, the modular checksum.
Both ends run on wall-clock milliseconds, as Yamcs does.

Every run also drops, deterministically, Yamcs' first ACK of our Finished (up) and Yamcs' first
ACK of our EOF and its first Finished (down), so the retry paths the cfdp-py interop test found
broken in cfdp-py (tests/protocols/test_cfdp_interop.py) are exercised against Yamcs as well.
Yamcs deviation seen: none. Unlike cfdp-py, Yamcs ACKs a repeated EOF while it waits for its
Finished's ACK, repeats its Finished on its own timer, and ACKs a repeated Finished after its
upload completed, so our Receiver ends on NO_ERROR (POSITIVE_ACK_LIMIT_REACHED would fail the
test with a message naming that). Yamcs' Finished says data complete, file retained. Yamcs emits
no warning event (PDU decoding error, unexpected PDU) in any of these transfers.

Needs `java` and the pip bundle, like tests/ground/test_yamcs.py: without them the tests fail, they
do not skip. Yamcs starts in ~7 s; each transfer takes a second or two."""

from __future__ import annotations

import itertools
import json
import random
import socket
import struct
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from yamcs_harness import Yamcs, free_port, running_yamcs

from flight.dictionary import CFDP_APID
from ground.flight_twin import SCID
from ground.yamcs_instance import INSTANCE_NAME
from protocols import cfdp_lean as cl
from protocols.cfdp_filestore import HostFileStore
from protocols.cfdp_lean_rx import Receiver
from protocols.cfdp_lean_tx import Sender

BOARD = 1  # the board's CFDP entity ID (Yamcs' remote entity)
GROUND = 2  # Yamcs' local entity ID
SERVICE = "cfdp0"
UP_BUCKET = "cfdpUp"  # what operators put there Yamcs uploads
DOWN_BUCKET = "cfdpDown"  # where Yamcs stores what comes down
SIZE = 20_000
TIMER_MS = 500  # every ACK / NAK timer, both ends: quick retries over a local link
DEADLINE_S = 40.0
_SEQ = itertools.count(101)  # our outgoing transactions' sequence numbers (Yamcs keeps old ones)

CFDP_SERVICE = """  - class: org.yamcs.cfdp.CfdpService
    name: %(service)s
    args:
      inStream: cfdp_in
      outStream: cfdp_out
      entityIdLength: 1
      sequenceNrLength: 4
      maxPduSize: 512
      checksumType: MODULAR
      incomingBucket: %(down_bucket)s
      sleepBetweenPdus: 5
      eofAckTimeout: %(timer)d
      eofAckLimit: 20
      finAckTimeout: %(timer)d
      finAckLimit: 20
      nakTimeout: %(timer)d
      nakLimit: 20
      inactivityTimeout: 20000
      localEntities: [{name: ground, id: %(ground)d}]
      remoteEntities: [{name: board, id: %(board)d}]
"""
CFDP_LINKS = """  - name: cfdp_down
    class: org.yamcs.tctm.UdpTmDataLink
    stream: cfdp_tm
    port: %(down_port)d
    packetPreprocessorClassName: org.yamcs.tctm.GenericPacketPreprocessor
    packetPreprocessorArgs: {timestampOffset: -1, seqCountOffset: -1}
  - name: cfdp_up
    class: org.yamcs.tctm.UdpTcDataLink
    stream: cfdp_tc
    host: 127.0.0.1
    port: %(up_port)d
    commandPostprocessorClassName: org.yamcs.tctm.IssCommandPostprocessor
"""
# the board's packets carry one PDU each after the 6-byte primary header; Yamcs' PDUs get a TC
# packet header on APID 0x0CF (length and count filled in by IssCommandPostprocessor)
CFDP_SQL = """create stream cfdp_in as select substring(packet, 6) as pdu from cfdp_tm
create stream cfdp_out (gentime TIMESTAMP, entityId long, seqNum int, pdu binary)
insert into cfdp_tc select gentime, 'cfdp-service' as origin, seqNum, '/yamcs/cfdp/upload' as cmdName, \
unhex('%(tc_header)s') + pdu as binary from cfdp_out
"""


def _insert_after(text: str, anchor: str, added: str) -> str:
    assert text.count(anchor) == 1, anchor
    return text.replace(anchor, anchor + added)


def add_cfdp(etc: Path, down_port: int, up_port: int) -> None:
    """Add the CFDP service, its two UDP links and its streams to the instance in `etc`."""
    conf = {
        "service": SERVICE,
        "down_bucket": DOWN_BUCKET,
        "timer": TIMER_MS,
        "ground": GROUND,
        "board": BOARD,
        "down_port": down_port,
        "up_port": up_port,
        "tc_header": "%04X%04X0000" % (0x1000 | CFDP_APID, 0xC000),
    }
    sql = etc / "cfdp_streams.sql"
    sql.write_text(CFDP_SQL % conf)
    path = etc / ("yamcs.%s.yaml" % INSTANCE_NAME)
    text = path.read_text()
    text = _insert_after(text, "services:\n", CFDP_SERVICE % conf)
    text = _insert_after(text, "dataLinks:\n", CFDP_LINKS % conf)
    text = _insert_after(text, "streamConfig:\n  tm:\n", "    - {name: cfdp_tm}\n")
    text = _insert_after(text, "  tc:\n", "    - {name: cfdp_tc}\n")
    text += "  sqlFile: %s\n" % sql
    path.write_text(text)


class Link:
    """The space link as seen from the board: PDUs in space packets over UDP, with seeded loss."""

    def __init__(self, up: socket.socket, down_port: int) -> None:
        self.up = up
        self.down = ("127.0.0.1", down_port)
        self.rng = random.Random(0)
        self.loss = 0.0
        self.count = 0
        self.lost = 0

    def start(self, loss: float, seed: int) -> None:
        self.rng = random.Random(seed)
        self.loss = loss
        self.lost = 0
        while self.receive():  # anything left over from the last transfer
            pass

    def _dropped(self) -> bool:
        if self.loss and self.rng.random() < self.loss:
            self.lost += 1
            return True
        return False

    def receive(self) -> list[bytes]:
        """The PDUs Yamcs sent since the last call (minus the lost ones)."""
        pdus = []
        while True:
            try:
                packet = self.up.recv(4096)
            except BlockingIOError:
                return pdus
            word, _seq, length = struct.unpack_from(">HHH", packet)
            assert word == 0x1000 | CFDP_APID and length == len(packet) - 7, packet[:6].hex()
            if not self._dropped():
                pdus.append(packet[6:])

    def send(self, pdu: bytes) -> None:
        if self._dropped():
            return
        header = struct.pack(">HHH", CFDP_APID, 0xC000 | (self.count & 0x3FFF), len(pdu) - 1)
        self.count += 1
        self.up.sendto(header + bytes(pdu), self.down)


def transaction(pdu: bytes) -> tuple[int, int, int]:
    """(source entity, sequence number, destination entity) from a PDU's header."""
    n_id, n_seq = ((pdu[3] >> 4) & 7) + 1, (pdu[3] & 7) + 1
    pos = 4
    source = int.from_bytes(pdu[pos : pos + n_id], "big")
    seq = int.from_bytes(pdu[pos + n_id : pos + n_id + n_seq], "big")
    dest = int.from_bytes(pdu[pos + n_id + n_seq : pos + 2 * n_id + n_seq], "big")
    return source, seq, dest


def directive(pdu: bytes) -> tuple[int, int]:
    """(directive code, the octet after it) of a file directive PDU; (-1, 0) for File Data."""
    if pdu[0] & 0x10:
        return -1, 0
    hlen = 4 + 2 * (((pdu[3] >> 4) & 7) + 1) + (pdu[3] & 7) + 1
    return pdu[hlen], pdu[hlen + 1]


def finished_status(pdu: bytes) -> tuple[int, int, int] | None:
    """(condition, delivery code, file status) of a Finished PDU, else None."""
    code, b = directive(pdu)
    return (b >> 4, (b >> 2) & 1, b & 3) if code == cl.FINISHED else None


def acks(pdu: bytes, code: int) -> bool:
    """Whether `pdu` is an ACK of the directive `code` (EOF or Finished)."""
    ack, b = directive(pdu)
    return ack == cl.ACK and b >> 4 == code


def now_ms() -> int:
    return int(time.monotonic() * 1000)


def request(y: Yamcs, method: str, path: str, body: bytes, content_type: str) -> bytes:
    req = urllib.request.Request(
        y.api + path, data=body, headers={"Content-Type": content_type}, method=method
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read()


def transfers(y: Yamcs) -> list[dict]:
    return y.get("/filetransfer/%s/%s/transfers" % (INSTANCE_NAME, SERVICE)).get("transfers", [])


def ended(y: Yamcs, direction: str, initiator: int, seq: int) -> dict | None:
    """Yamcs' record of a transfer once it is COMPLETED or FAILED."""
    for t in transfers(y):
        tid = t.get("transactionId", {})
        if (
            t.get("direction") == direction
            and int(tid.get("initiatorEntity", -1)) == initiator
            and int(tid.get("sequenceNumber", -1)) == seq
            and t.get("state") in ("COMPLETED", "FAILED")
        ):
            return t
    return None


def cfdp_warnings(y: Yamcs) -> list[str]:
    """The CFDP service's warning events so far (PDU_DECODING_ERROR, UNEXPECTED_CFDP_PDU...)."""
    events = y.get("/archive/%s/events?source=CfdpService&severity=WARNING&limit=100" % INSTANCE_NAME)
    return ["%s: %s" % (e.get("type"), e.get("message")) for e in events.get("events", [])]


@pytest.fixture(scope="module")  # one Yamcs (~7 s to start) for the module's transfers
def yamcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Yamcs, Link]]:
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.bind(("127.0.0.1", 0))
    up.setblocking(False)
    down_port = free_port(socket.SOCK_DGRAM)
    folder = tmp_path_factory.mktemp("yamcs_cfdp")
    try:
        with running_yamcs(
            folder,
            free_port(socket.SOCK_DGRAM),  # the mission's TC link: unused here
            SCID,
            extend=lambda etc: add_cfdp(etc, down_port, up.getsockname()[1]),
        ) as y:
            service = y.get("/filetransfer/%s/services/%s" % (INSTANCE_NAME, SERVICE))
            assert [int(e["id"]) for e in service["localEntities"]] == [GROUND], service
            assert [int(e["id"]) for e in service["remoteEntities"]] == [BOARD], service
            request(
                y, "POST", "/storage/buckets", json.dumps({"name": UP_BUCKET}).encode(), "application/json"
            )
            yield y, Link(up, down_port)
    finally:
        up.close()


def _payload(seed: int) -> bytes:
    return random.Random(seed).randbytes(SIZE)


@pytest.mark.parametrize("loss", [0.0, 0.1], ids=["lossless", "loss10"])
def test_yamcs_uploads_a_file_to_the_boards_receiver(yamcs, tmp_path: Path, loss: float) -> None:
    """Yamcs' first ACK of our Finished is always dropped: the Receiver has to repeat the Finished,
    and Yamcs (done with the upload by then) has to ACK it again for NO_ERROR."""
    y, link = yamcs
    name = "up_%d.bin" % int(loss * 100)
    data = _payload(int(loss * 100) + 1)
    request(y, "POST", "/storage/buckets/%s/objects/%s" % (UP_BUCKET, name), data, "application/octet-stream")
    link.start(loss, seed=11)
    put = {
        "direction": "UPLOAD",
        "bucket": UP_BUCKET,
        "objectName": name,
        "remotePath": name,
        "source": "ground",
        "destination": "board",
        "options": {"reliable": True},  # class 2
    }
    path = "/filetransfer/%s/%s/transfers" % (INSTANCE_NAME, SERVICE)
    started = json.loads(request(y, "POST", path, json.dumps(put).encode(), "application/json"))
    assert int(started["transactionId"]["initiatorEntity"]) == GROUND and started["reliable"], started
    seq = int(started["transactionId"]["sequenceNumber"])
    board = tmp_path / "board"
    board.mkdir()
    store = HostFileStore(str(board))
    rx: Receiver | None = None
    fin_acks = fins_sent = 0
    record: dict | None = None
    next_check = 0.0
    end = time.monotonic() + DEADLINE_S
    while rx is None or not rx.done or record is None:
        if time.monotonic() > end:
            pytest.fail(
                "upload did not end: receiver %s, Yamcs %s; log tail:\n%s"
                % (rx and (rx.state, rx.condition, rx.missing()), transfers(y), y.log.read_text()[-3000:])
            )
        t = now_ms()
        for pdu in link.receive():
            if transaction(pdu) != (GROUND, seq, BOARD):
                continue  # a late PDU of an earlier transfer
            if acks(pdu, cl.FINISHED):
                fin_acks += 1
                if fin_acks == 1:
                    continue  # lost on the way up
            if rx is None:
                rx = Receiver(store, BOARD, t)
                rx.ack_timeout_ms = rx.nak_timeout_ms = TIMER_MS
                rx.ack_limit = rx.nak_limit = 20
            rx.feed(pdu, t)
        if rx is not None:
            for pdu in rx.poll(t):
                fins_sent += finished_status(pdu) is not None
                link.send(pdu)
            if rx.done and time.monotonic() >= next_check:
                next_check = time.monotonic() + 0.2
                record = ended(y, "UPLOAD", GROUND, seq)
        time.sleep(0.002)
    store.close()
    assert rx.delivered and (board / name).read_bytes() == data
    # POSITIVE_ACK_LIMIT_REACHED (file delivered) would mean Yamcs never ACKed a repeated Finished
    assert rx.condition == cl.NO_ERROR, "condition %d: Yamcs did not ACK a repeated Finished" % rx.condition
    assert fins_sent >= 2 and fin_acks >= 2, (fins_sent, fin_acks)
    assert record["state"] == "COMPLETED", record
    assert int(record["totalSize"]) == SIZE and int(record["sizeTransferred"]) == SIZE, record
    assert (record["bucket"], record["objectName"], record["remotePath"]) == (UP_BUCKET, name, name)
    assert int(record["remoteEntity"]["id"]) == BOARD, record
    assert link.lost > 0 if loss else link.lost == 0
    assert cfdp_warnings(y) == []


@pytest.mark.parametrize("loss", [0.0, 0.1], ids=["lossless", "loss10"])
def test_the_boards_sender_sends_a_file_into_a_yamcs_bucket(yamcs, tmp_path: Path, loss: float) -> None:
    """Yamcs' first ACK of our EOF and its first Finished are always dropped: the Sender has to
    repeat the EOF, which Yamcs (waiting for the Finished's ACK) has to ACK again, and Yamcs has
    to repeat its Finished."""
    y, link = yamcs
    name = "down_%d.bin" % int(loss * 100)
    data = _payload(int(loss * 100) + 2)
    board = tmp_path / "board"
    board.mkdir()
    (board / name).write_bytes(data)
    store = HostFileStore(str(board))
    seq = next(_SEQ)
    link.start(loss, seed=12)
    tx = Sender(store, name, name, BOARD, GROUND, seq, now_ms(), seq_len=4, segment_len=400, burst=4)
    tx.ack_timeout_ms = TIMER_MS
    tx.ack_limit = 20
    finished: list[tuple[int, int, int]] = []
    eof_acks = 0
    record: dict | None = None
    next_check = 0.0
    end = time.monotonic() + DEADLINE_S
    while not tx.done or record is None:
        if time.monotonic() > end:
            pytest.fail(
                "download did not end: sender %s, Yamcs %s; log tail:\n%s"
                % ((tx.state, tx.condition), transfers(y), y.log.read_text()[-3000:])
            )
        t = now_ms()
        for pdu in link.receive():
            if transaction(pdu) != (BOARD, seq, GROUND):
                continue
            status = finished_status(pdu)
            if status is not None:
                finished.append(status)
                if len(finished) == 1:
                    continue  # lost on the way down
            if acks(pdu, cl.EOF):
                eof_acks += 1
                if eof_acks == 1:
                    continue  # lost on the way down
            tx.feed(pdu, t)
        for pdu in tx.poll(t):
            link.send(pdu)
        if tx.done and time.monotonic() >= next_check:
            next_check = time.monotonic() + 0.2
            record = ended(y, "DOWNLOAD", BOARD, seq)
        time.sleep(0.002)
    store.close()
    assert tx.condition == cl.NO_ERROR, tx.condition
    assert len(finished) >= 2 and set(finished) == {(cl.NO_ERROR, 0, 2)}, finished  # complete, retained
    assert tx.eof_count >= 2 and eof_acks >= 2, (tx.eof_count, eof_acks)
    assert record["state"] == "COMPLETED", record
    assert int(record["totalSize"]) == SIZE and int(record["sizeTransferred"]) == SIZE, record
    assert (record["bucket"], record["objectName"]) == (DOWN_BUCKET, name), record
    assert int(record["remoteEntity"]["id"]) == BOARD, record
    assert _object(y, DOWN_BUCKET, name) == data
    assert link.lost > 0 if loss else link.lost == 0
    assert cfdp_warnings(y) == []


def _object(y: Yamcs, bucket: str, name: str) -> bytes:
    url = "%s/storage/buckets/%s/objects/%s" % (y.api, bucket, urllib.parse.quote(name))
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read()
