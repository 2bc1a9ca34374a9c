"""The flight's side of an in-orbit update: the `update` telecommand and its steps in FlightApp's
1 s task, around flight/update.py's Update. FlightApp.tc_update loads this module (and
flight/update.py) with the first update command: no heap before.
"""

from flight.commands import DEFER, CommandError
from flight.dictionary import FAIL
from flight.update import FAILED, STAGED, STAGING, Update

STEPS = 16  # staging steps per second (FlightApp's 1 s task): 512-byte chunks hashed or copied
_STAGE = 1  # the update command's actions (flight/dictionary.py)
_SWITCH = 2
_REBOOT = 4


class FlightUpdate(Update):
    reboot_at = None  # uptime (ms) when a commanded reboot is due
    token = None  # the STAGE command, completed when the staging ends (Dispatcher.complete)

    def tick(self, app):
        """FlightApp's 1 s task: STEPS steps of staging (its end completes the STAGE command: 1,7, or
        1,8 naming what failed; the dispatcher audits it), and a commanded reboot once due."""
        if self.state == STAGING:
            n = STEPS
            while n and self.step():
                n -= 1
            if self.state != STAGING and self.token is not None:  # STAGE's 1,7, or 1,8 with why
                token, self.token = self.token, None
                if self.state == STAGED:
                    app.dispatcher.complete(token)
                else:
                    app.dispatcher.complete(token, FAIL["EXEC_FAILED"], self.reason or "staging failed")
        if self.reboot_at is not None and app._uptime_ms >= self.reboot_at:
            self.reboot_at = None
            app.board.reset()


def command(app, v):
    """TC update: STAGE, SWITCH (max_attempts), CANCEL, REBOOT; a refusal is a CommandError (its
    failure notice carries the reason)."""
    action = v[0]
    try:
        u = app.updater
        if u is None:
            u = app.updater = FlightUpdate()  # boot_select's boot directory and pointer
        if action == _REBOOT:  # once this command's completion report has had time to go down
            u.reboot_at = app._uptime_ms + 3000
        elif action == _STAGE:
            u.stage()
            u.token = app.dispatcher.current
            return DEFER  # completed (1,7 or 1,8 with the reason) when the staging ends
        elif action == _SWITCH:
            if u.state == FAILED:  # why the staging failed, for the operator
                raise CommandError(FAIL["EXEC_FAILED"], u.reason)
            u.switch(v[1])
        else:
            u.cancel()
    except CommandError:
        raise
    except Exception as exc:  # UpdateError (its one-line reason), or no boot_select at all
        raise CommandError(FAIL["EXEC_FAILED"], str(exc)) from None
