"""The flight application: the components (flight/assembly.py builds and lists them: each subsystem
runs its own commands, housekeeping values and tasks) wired onto the executive, with what they
share: onboard time, the TM queue, the audit hooks, the reactions to a mode change and the
services loaded on demand.

    app = FlightApp(board, clock, fs, link, scid=0x2A, reset_cause=boot.cause_from_machine())
    app.step()            # one 100 ms tick (the twin calls this as fast as it likes)
    app.run()             # on the board: pace ticks with the real clock forever

`board` gives buses and pins (hal.boards.open_board: machine.* on hardware, simulated chips in
the twin); `fs` is the board filesystem (flight.storage.HostFs); `link` is the byte stream that
carries CLTUs in and CADUs out (UART, pty, TCP). Everything persistent (parameters, schedule,
boot record, keys, event and audit logs, payload queue) lives in `fs` and is loaded at boot,
so a reset (watchdog, brown-out) resumes where it was.
"""

import gc
import struct
import sys

from flight import modes
from flight.audit import KIND_COMMAND, KIND_FDIR, KIND_MODE
from flight.dictionary import CFDP_APID, MODE_NAMES
from hal.clock import ticks_diff
from protocols.cuc import split_seconds
from protocols.pus import pack_tm


def release(name):
    """Forget module `name` (a package's submodule): once nothing else refers to its functions,
    the next collection frees its bytecode."""
    sys.modules.pop(name, None)
    parent, _, child = name.rpartition(".")
    if parent in sys.modules and hasattr(sys.modules[parent], child):
        delattr(sys.modules[parent], child)


LOAD_PRIORITY = {"payload": 2, "heater": 2, "radio_pa": 1, "adcs": 1}
TM_QUEUE_MAX = 96


class FlightApp:
    tm_room = TM_QUEUE_MAX // 2  # TM packets queued beyond which playback and file parts wait
    # the CFDP transaction last refused for want of heap (flight/file_service.py, released when
    # idle, so the number lives here): one FILE_REFUSED event per transaction, not one a second
    cfdp_refused = None
    # report_once releases a codec after its report on a board; CPython keeps it: the twin's heap
    # is not a board's, and releasing a module (sys.modules, the package's attribute) from several
    # twins' threads in one process is not atomic
    release_codecs = sys.implementation.name == "micropython"

    def __init__(self, board, clock, fs, link, **options):
        """See flight.assembly.assemble for the options (scid, apid, key, admin_key, reset_cause,
        cpu_us, rtc_s, tick_ms, watchdog, interleave)."""
        # the construction code runs once: it lives in a module released again after boot
        from flight import assembly

        assembly.assemble(self, board, clock, fs, link, **options)
        release("flight.assembly")

    # --- time -----------------------------------------------------------------------------------
    def uptime(self):
        return self._uptime_ms / 1000.0

    def obt(self):
        if self.rtc_s is not None:
            return self.rtc_s() + self.time_offset
        return self.uptime() + self.time_offset

    # --- telemetry out --------------------------------------------------------------------------
    def stamp(self):
        """The onboard time as the reports' CUC field (4 + 2 octets), in a buffer reused by the
        next call."""
        coarse, fine = split_seconds(max(0.0, self.obt()))
        struct.pack_into(">IH", self._stamp, 0, coarse, fine)
        return self._stamp

    def report_once(self, codec, *args):
        """The report of the PUS service codec `codec` ("pus_20_param": protocols/pus_20_param.py)
        with `encode_report(*args)` as its data, for a report only a command asks for: the codec
        is loaded for it and released after (`release_codecs`), so a board keeps none of these
        resident."""
        name = "protocols." + codec
        mod = __import__(name, None, None, ("REPORT",))
        try:
            self.emit(mod.SERVICE, mod.REPORT, mod.encode_report(*args))
        finally:
            if self.release_codecs:
                release(name)

    def emit(self, service, subtype, data, downlink=True):
        """A TM(service, subtype) with source data `data` (its service's codec, protocols/pus_*.py,
        packed it) into its packet store and, with `downlink`, onto the TM queue."""
        # one buffer per packet, no PusTm or CucTime objects: every report of every tick comes here
        pkt = pack_tm(service, subtype, data, self.apid, self.tm_seq, self.msg_counter, 0, self.stamp())
        self.tm_seq = (self.tm_seq + 1) & 0x3FFF
        self.msg_counter = (self.msg_counter + 1) & 0xFFFF
        self.stores.keep(service, pkt)  # to flash now: no packet waits in RAM for its store
        if not downlink:
            return
        if len(self.tm_queue) >= TM_QUEUE_MAX:
            self.tm_queue.pop(0)  # oldest first: fresh state beats stale state
            self.tm_dropped += 1
        self.tm_queue.append(pkt)

    # --- audit ----------------------------------------------------------------------------------
    def _audit_command(self, text):
        # chained now, written to flash by the next tick's link_rx (or before the next record):
        # not in the tick that ran the command (docs/board-speed.md)
        self.audit.append(self.obt(), KIND_COMMAND, text, defer=True)

    def audit_fdir(self, text):
        self.audit.append(self.obt(), KIND_FDIR, text)

    # --- modes ----------------------------------------------------------------------------------
    def _mode_changed(self, old, new, reason):
        self.events.report("MODE_CHANGE", old, new, reason)
        self.audit.append(
            self.obt(), KIND_MODE, "%s -> %s reason %d" % (MODE_NAMES[old], MODE_NAMES[new], reason)
        )
        if new == modes.SAFE:
            self.adcs.coils.off()
            self.payload.stop()
            if self.propulsion is not None:
                self.propulsion.safe()
        if new == modes.DETUMBLE:
            self.adcs.bdot.reset()
        self._propulsion_inhibit()  # at once: a command right after the mode change sees it

    def set_mode(self, new, reason):
        return self.modes.set(new, reason)

    def reset_radio(self):
        if self.radio is not None:
            try:
                self.radio.recover()
            except OSError:
                pass  # still dead: the next silence stage takes the spacecraft to SAFE

    # --- tasks ----------------------------------------------------------------------------------
    def _propulsion_inhibit(self):
        p = self.propulsion
        inhibit = self.fdir.prop_inhibited or self.modes.mode in (modes.BOOT, modes.SAFE)
        if p is not None and inhibit != p.inhibited:
            p.inhibit(inhibit)

    def _task_playback(self):
        self.stores.task(self.tm_queue, self.tm_room)  # realtime keeps half the queue
        f = self.files  # file transfers (CFDP) and updates share this task: no task of their own
        if f is not None and not f.task():  # idle: the service and CFDP's modules go
            self.files = None
            f.release()
        if self.updater is not None:  # staging steps, a commanded reboot
            self.updater.tick(self)

    # --- commands of the services loaded on demand (the application is a component too) --------
    def tc_update(self, v):
        """TC update (flight/dictionary.py): its module, and the update's, load with the first one."""
        from flight.update_command import command

        return command(self, v)

    def tc_file_downlink(self, v):
        return self.file_service().downlink(v[0])

    def apply_params(self):
        """The parameters the control laws hold as numbers of their own, after a parameter set."""
        self.adcs.apply(self.params)

    def _task_memory(self):
        # the executive collects at the end of ticks (outside the rate groups' timing) and knows
        # the heap free after its last collection; CPython (the twin) has no fixed heap to report
        self.audit.flush()  # a backstop: a deferred audit record waits at most until here
        if self.executive.heap_free is not None:
            self.heap_free = self.executive.heap_free
        elif hasattr(gc, "mem_free"):
            gc.collect()
            self.heap_free = gc.mem_free()

    # --- files (CFDP) ---------------------------------------------------------------------------
    def _deliver(self, packet, source, level):
        # a packet the link took in: CFDP PDUs to the file service, the rest to the dispatcher
        if len(packet) > 6 and ((packet[0] & 7) << 8 | packet[1]) == CFDP_APID:
            self.file_service().deliver(packet, level)
            return False
        return self.dispatcher.handle(packet, source, level)

    def file_service(self):
        """The file service (flight/file_service.py), loaded on first use: its module and CFDP's are
        heap only while a transfer runs."""
        if self.files is None:
            from flight.file_service import FileService

            self.files = FileService(self)
        return self.files

    def service_link(self):
        """Uplink bytes arrived (a UART RX interrupt on a board, via micropython.schedule; the twin
        calls it directly): handle the telecommands and send the reports now, not at the next tick."""
        try:
            self.comms.poll(self.uptime())  # every unit of one frame now, not one per tick
            self.audit.flush()
            self.comms.send_now(self.tm_queue)
        except Exception as exc:  # same isolation as in the executive: counted, never fatal
            for task in self.executive.tasks:
                if task.name == "link_rx":  # the task whose work this is
                    task.errors += 1
                    task.last_error = "%s: %s" % (type(exc).__name__, exc)
                    break

    # --- the tick -------------------------------------------------------------------------------
    def step(self):
        now = self.clock.ticks_ms()
        self._uptime_ms += ticks_diff(now, self._last_ms)
        self._last_ms = now
        self.executive.step()

    def run(self, ticks=None):
        self.executive.run(self.clock, ticks)
