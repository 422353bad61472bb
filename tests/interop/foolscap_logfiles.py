"""Makes log files with a real Foolscap 24.9, for tests/interop/test_log_files_interop.py.

Usage: ``python foolscap_logfiles.py logfile PATH`` (a LogFileObserver file, .bz2 by
name) or ``python foolscap_logfiles.py incident DIR`` (one incident, whose file name is
printed). Both log the same events: positional args, a format, a parent, a facility,
bytes, a failure and a WEIRD trigger. Only Twisted and Foolscap are used here.
"""

from __future__ import annotations

import sys

from foolscap.logging import incident, log
from twisted.internet import reactor
from twisted.python import failure


def log_events(lg: log.FoolscapLogger) -> None:
    lg.msg("hello %s", "world", level=log.OPERATIONAL)
    lg.msg(format="%(who)s did %(n)d things", who="bob", n=3, facility="app/sub")
    parent = lg.msg("parent", level=log.UNUSUAL)
    lg.msg("child", parent=parent, level=log.NOISY, extra={"k": [1, 2]})
    lg.msg("raw bytes", data=b"\x01\x02")
    try:
        raise ValueError("it broke")
    except ValueError:
        lg.err(failure.Failure(), "while testing", facility="app")
    lg.msg("the trigger", level=log.WEIRD, facility="app")


def logfile(path: str) -> None:
    observer = log.LogFileObserver(path, level=log.NOISY)
    lg = log.FoolscapLogger()
    lg.addImmediateObserver(observer.msg)
    log_events(lg)
    lg.msg("after", level=log.BAD)
    observer._stop()


class QuickReporter(incident.IncidentReporter):
    TRAILING_DELAY = 0.2


def make_incident(directory: str) -> None:
    lg = log.FoolscapLogger()
    lg.setIncidentReporterFactory(QuickReporter)
    lg.setLogDir(directory)

    def recorded(name: str, trigger: dict) -> None:
        print(name, flush=True)
        reactor.callLater(0, reactor.stop)

    lg.addImmediateIncidentObserver(recorded)
    log_events(lg)
    lg.msg("trailing", level=log.OPERATIONAL)
    reactor.callLater(30, reactor.stop)
    reactor.run()


if __name__ == "__main__":
    {"logfile": logfile, "incident": make_incident}[sys.argv[1]](sys.argv[2])
