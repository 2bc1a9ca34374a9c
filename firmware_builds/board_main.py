# The board's main.py (cubesat flash deploy installs this file under that name). boot_select picks
# the slot and imports its app; then it is dropped, so it holds no heap while the app runs, and
# imported again only to report a failure (mark_good and the update import it themselves).
import sys

import boot_select

main = boot_select.start()
del boot_select, sys.modules["boot_select"]
if main:
    try:
        main()
    except Exception as exc:  # not KeyboardInterrupt: an operator's Ctrl-C is not a failed boot
        __import__("boot_select").failed(exc)
