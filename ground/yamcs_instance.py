"""A ready Yamcs instance for this mission: `cubesat dict yamcs DIR` (Yamcs 5.12).

    write_instance(Path("yamcs"), YamcsPorts(tm_frames=10015, tc=10025))
    java -cp "<yamcs lib>/*" org.yamcs.YamcsServer --etc-dir yamcs/etc

Yamcs is the operators' tool and this project's ground server is its front end (Yamcs cannot
decode this link's RS codeblocks, and the server owns COP-1 and the SDLS keys):

- `tm_frames`: TM transfer frames over UDP, as the ground server forwards them once it has found
  the ASM, corrected RS (either basis) and derandomised: VC 0 carries PUS packets, whose
  CRC, sequence counts and CUC time (4 + 2 octets, mission epoch) Yamcs' PUS preprocessor reads.
- `tm_packets`: PUS packets over UDP, for tools that send packets rather than frames.
- `tc_out`: PUS telecommands over UDP to the server (Yamcs numbers them and adds the CRC); the
  server frames them (COP-1, SDLS) and sends them as CLTUs.
- the mission database from `ground/xtce.py`, and a realtime processor with algorithms (the PUS-1
  verifiers) and alarms.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ground import DEFAULT_SCID
from ground.xtce import MISSION_EPOCH, to_xtce
from protocols.rs import K_MAX

INSTANCE_NAME = "cubesat"

YAMCS_YAML = """services:
  - class: org.yamcs.http.HttpServer
    args: {address: %(http_address)s, port: %(http)d}
instances: [%(instance)s]
dataDir: %(data_dir)s
secretKey: %(secret)s
"""
PROCESSOR_YAML = """realtime:
  services:
    - class: org.yamcs.StreamTmPacketProvider
    - class: org.yamcs.StreamTcCommandReleaser
    - class: org.yamcs.tctm.StreamParameterProvider
    - class: org.yamcs.algorithms.AlgorithmManager
  config:
    subscribeAll: true
    alarm: {parameterCheck: true}
"""
# replays: the web console's archive views (Archive) and the REST API's parameter history
_REPLAY = """  services:
    - class: org.yamcs.tctm.ReplayService
    - class: org.yamcs.algorithms.AlgorithmManager
  config:
    subscribeAll: true
"""
PROCESSOR_YAML += "Archive:\n" + _REPLAY + "ArchiveRetrieval:\n" + _REPLAY
# the PUS preprocessor: CRC-16-CCITT on every packet, CUC without P-field (4 coarse + 2 fine
# octets: 0x2E) from the mission epoch, which counts no leap seconds
PUS_PREPROCESSOR = """packetPreprocessorClassName: org.yamcs.pus.PusPacketPreprocessor
%(indent)spacketPreprocessorArgs:
%(indent)s  errorDetection: {type: CRC-16-CCIIT}
%(indent)s  timeEncoding: {type: CUC, implicitPField: 0x2E, epoch: CUSTOM, epochUTC: "%(epoch)s",
%(indent)s                 timeIncludesLeapSeconds: false}"""
INSTANCE_YAML = """services:
  - class: org.yamcs.archive.XtceTmRecorder
  - class: org.yamcs.archive.ParameterRecorder
  - class: org.yamcs.archive.CommandHistoryRecorder
  - class: org.yamcs.archive.EventRecorder
  - class: org.yamcs.archive.ReplayServer
  - class: org.yamcs.ProcessorCreatorService
    args: {name: realtime, type: realtime}
dataLinks:
  - name: tm_frames
    class: org.yamcs.tctm.ccsds.UdpTmFrameLink
    port: %(tm_frames)d
    frameType: TM
    spacecraftId: %(scid)d
    frameLength: %(frame_len)d
    frameHeaderErrorControlPresent: false
    insertZoneLength: 0
    errorDetection: CRC16
    virtualChannels:
      - vcId: 0
        service: PACKET
        stream: tm_realtime
        %(vc_preprocessor)s
  - name: tm_packets
    class: org.yamcs.tctm.UdpTmDataLink
    stream: tm_realtime
    port: %(tm_packets)d
    %(preprocessor)s
  - name: tc_out
    class: org.yamcs.tctm.UdpTcDataLink
    stream: tc_realtime
    host: %(tc_host)s
    port: %(tc)d
    commandPostprocessorClassName: org.yamcs.pus.PusCommandPostprocessor
    commandPostprocessorArgs:
      errorDetection: {type: CRC-16-CCIIT}
mdb:
  - type: xtce
    spec: %(mdb)s
streamConfig:
  tm:
    - {name: tm_realtime, processor: realtime}
  invalidTm: invalid_tm_stream
  cmdHist: [cmdhist_realtime]
  event: [events_realtime]
  param: [pp_realtime, sys_param]
  parameterAlarm: [alarms_realtime]
  tc:
    - {name: tc_realtime, processor: realtime}
"""


@dataclass(frozen=True)
class YamcsPorts:
    """Where Yamcs listens (HTTP, TM frames, TM packets) and where its TC link sends."""

    http: int = 8090
    tm_frames: int = 10015
    tm_packets: int = 10016
    tc: int = 10025  # the ground server's `yamcs.tc_port`
    tc_host: str = "127.0.0.1"
    http_address: str = "127.0.0.1"


def write_instance(
    folder: Path, ports: YamcsPorts = YamcsPorts(), scid: int = DEFAULT_SCID, interleave: int = 5
) -> Path:
    """Write the Yamcs configuration (etc/) and mission database (mdb/) under `folder`; returns
    the etc directory, Yamcs' `--etc-dir`. Data goes to `folder/data`."""
    folder = folder.resolve()
    etc, mdb_dir = folder / "etc", folder / "mdb"
    etc.mkdir(parents=True, exist_ok=True)
    mdb_dir.mkdir(exist_ok=True)
    mdb = mdb_dir / ("%s.xml" % INSTANCE_NAME)
    mdb.write_text(to_xtce(INSTANCE_NAME))
    common = {"instance": INSTANCE_NAME, "epoch": MISSION_EPOCH}
    (etc / "yamcs.yaml").write_text(
        YAMCS_YAML
        % dict(
            common,
            http=ports.http,
            http_address=ports.http_address,
            data_dir=folder / "data",
            secret=_secret(),
        )
    )
    (etc / "processor.yaml").write_text(PROCESSOR_YAML)
    conf = dict(
        common,
        tm_frames=ports.tm_frames,
        tm_packets=ports.tm_packets,
        tc=ports.tc,
        tc_host=ports.tc_host,
        scid=scid,
        frame_len=K_MAX * interleave,  # the TM frame fills its RS codeblocks, as flight/comms.py
        mdb=mdb,
        vc_preprocessor=PUS_PREPROCESSOR % dict(common, indent=" " * 8),
        preprocessor=PUS_PREPROCESSOR % dict(common, indent=" " * 4),
    )
    (etc / ("yamcs.%s.yaml" % INSTANCE_NAME)).write_text(INSTANCE_YAML % conf)
    return etc


def _secret() -> str:
    """Yamcs signs its session tokens with this; a new one per instance written."""
    import secrets

    return secrets.token_hex(16)


def java_command(etc: Path, main: str = "org.yamcs.YamcsServer") -> list[str]:
    """The command that runs Yamcs on `etc` with the pip-installed Yamcs (fprime-yamcs-bundle,
    the dev extras) and the `java` on PATH (17 or later). `main="org.yamcs.cli.YamcsAdminCli"`
    is yamcsadmin (add "confcheck" to check the instance)."""
    try:
        import fprime_yamcs_bundle
    except ImportError:
        raise FileNotFoundError(
            "no Yamcs installed: pip install fprime-yamcs-bundle (the dev extras)"
        ) from None
    return [
        "java",
        "-cp",
        "%s/*" % fprime_yamcs_bundle.LIB_DIR,
        main,
        "--etc-dir",
        str(etc),
    ]
