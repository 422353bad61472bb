"""A real Foolscap 24.9 process for the logging interop tests.

Usage:

- ``python foolscap_log_peer.py logport N``: a Tub on 127.0.0.1 whose logport
  FURL is printed as ``FURL <furl>``; it then logs ``tick <i>`` (level 20 + i % 3 * 5,
  ``format`` with an argument) every 20 ms, N times, and keeps running.
- ``python foolscap_log_peer.py push GATHERER_FURL``: a Tub with the
  ``log-gatherer-furl`` option; it prints ``TUBID <tubid>`` and logs
  ``push <i>`` every 20 ms until killed.
- ``python foolscap_log_peer.py incident GATHERER_FURL LOGDIR``: records one
  incident (``a foolscap problem``, level WEIRD) in LOGDIR, then offers its
  logport to the gatherer; prints ``TUBID <tubid>`` and runs until killed.

Only the standard library, Twisted and Foolscap are used here.
"""

from __future__ import annotations

import sys

from foolscap.api import Tub
from foolscap.logging import log
from twisted.internet import reactor, task


def start_tub():
    tub = Tub()
    tub.startService()
    listener = tub.listenOn("tcp:0:interface=127.0.0.1")
    return tub, listener


def main(argv):
    mode = argv[1]
    tub, listener = start_tub()
    counter = iter(range(1_000_000))
    if mode == "logport":
        tub.setLocation(f"127.0.0.1:{listener.getPortnum()}")
        print("FURL", tub.getLogPortFURL(), flush=True)
        limit = int(argv[2])

        def tick():
            i = next(counter)
            if i < limit:
                log.msg(format="tick %(i)d", i=i, level=20 + (i % 3) * 5, facility="interop")

    elif mode == "incident":
        from foolscap.logging import incident

        log.setLogDir(argv[3])
        log.theLogger.setIncidentReporterFactory(incident.NonTrailingIncidentReporter)
        log.msg("a foolscap problem", level=log.WEIRD)

        def offer():
            tub.setOption("log-gatherer-furl", argv[2])
            tub.setLocation(f"127.0.0.1:{listener.getPortnum()}")
            print("TUBID", tub.getTubID(), flush=True)

        reactor.callLater(0.5, offer)  # the incident file is finished by then
        reactor.run()
        return
    else:
        tub.setOption("log-gatherer-furl", argv[2])
        tub.setLocation(f"127.0.0.1:{listener.getPortnum()}")
        print("TUBID", tub.getTubID(), flush=True)

        def tick():
            i = next(counter)
            log.msg(format="push %(i)d", i=i, level=log.OPERATIONAL)

    task.LoopingCall(tick).start(0.02)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
