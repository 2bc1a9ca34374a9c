"""The space link's keys in flash: each SDLS security association's key and anti-replay counter
in a slot store of its own, so a reboot neither loses a new key nor reopens old sequence numbers
to replay (flight/comms.py verifies frames with the associations; this keeps them).

    keys = LinkKeys(fs)              # fs None: nothing persists (tests, an unkeyed board)
    keys.restore(sa, "keys")         # at boot: the key and high-water mark in flash, both files made
    keys.persist(sa)                 # after a frame passed the anti-replay check
    keys.rekey(sa, wrapped)          # a new key, wrapped under the current one

The counter is kept as a high-water mark written once every PERSIST_STRIDE frames (a flash write
costs a board tens of ms; written per frame it made every command tick overrun at the RP2040's
speed): after a reset the association starts above anything it accepted before.
"""

import struct

from flight.storage import SlotStore
from protocols.sdls import PERSIST_STRIDE


class LinkKeys:
    def __init__(self, fs):
        self.fs = fs
        self._stores = {}  # spi -> its SlotStore
        self._marks = {}  # spi -> the anti-replay high-water mark in flash

    def restore(self, sa, name):
        """Give association `sa` what its store `name` holds (its key and mark), and the store both
        of its files: no write during flight then has to create a file (creating one cost a host's
        ext4 300 us, 60 board ms at the RP2040's speed, in the tick of the board's first command)."""
        if self.fs is None:
            return
        store = self._stores[sa.spi] = SlotStore(self.fs, name)
        raw = store.load()
        if raw and len(raw) >= 8:
            spi, version, last_sn = struct.unpack_from(">HHI", raw, 0)
            if spi == sa.spi:
                sa.last_sn = last_sn  # the high-water mark: above anything accepted before the restart
                self._marks[spi] = last_sn
                if version:
                    sa._key = raw[8:]
                    sa.key_version = version
        for _ in range(2):
            if store.fs.size(store.name + ".a") and store.fs.size(store.name + ".b"):
                return
            self._save(sa, self._marks.get(sa.spi, min(sa.last_sn + PERSIST_STRIDE, 0xFFFFFFFF)))

    def persist(self, sa, force=False):
        """The association's counter in flash once it passed its mark (or now, with `force`)."""
        if sa.spi not in self._stores:
            return
        if not force and sa.last_sn <= self._marks.get(sa.spi, -1):
            return
        self._save(sa, min(sa.last_sn + PERSIST_STRIDE, 0xFFFFFFFF))

    def rekey(self, sa, wrapped):
        """Install a key wrapped under the current one (the ground wrapped it with the SN of the
        frame that carried the command, which is the association's last accepted SN now)."""
        sn = sa.last_sn
        sa.install_wrapped_key(wrapped, sn)
        sa.last_sn = sn  # the counter continues: the new key does not reopen old numbers
        self.persist(sa, force=True)

    def _save(self, sa, mark):
        """Write the association (its key, and `mark` as its anti-replay high-water mark)."""
        self._stores[sa.spi].save(struct.pack(">HHI", sa.spi, sa.key_version, mark) + bytes(sa._key))
        self._marks[sa.spi] = mark
