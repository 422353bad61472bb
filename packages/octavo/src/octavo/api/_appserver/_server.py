"""The running server: a Tub with BASEDIR's key whose FURLs reach the configured services.

Services are looked up in services.json when a client first asks for their FURL (so
``add`` works on a running server) and kept while their entry is unchanged. A corrupt
services.json or a broken entry makes that lookup fail with one logged line; the
server goes on serving the others.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from twisted.application import service
from twisted.logger import Logger

from octavo.tub import Tub

from ._basedir import ServiceEntry, check_basedir, load_services, read_config
from ._errors import AppServerError
from ._services import build_service

_log = Logger()


class AppServer(service.MultiService):
    """The application server of one BASEDIR."""

    def __init__(
        self,
        basedir: str = ".",
        stdout: IO[str] | None = None,
        *,
        port: str | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call,unused-ignore]
        self.basedir = os.path.abspath(basedir)
        check_basedir(self.basedir)
        self.config = read_config(self.basedir)
        self.umask = self.config.umask
        self.tub = Tub(certFile=os.path.join(self.basedir, "tub.pem"))
        self.listener = self.tub.listenOn(port or self.config.port)
        self.tub.setServiceParent(self)  # type: ignore[no-untyped-call,unused-ignore]
        self.tub.setLocation(*self.config.location.split(","))
        self.tub.registerNameLookupHandler(self.lookup)
        self._built: dict[str, tuple[ServiceEntry, Any]] = {}
        print("Server Running", file=stdout or sys.stdout, flush=True)

    def startService(self) -> None:
        if self.umask is not None:
            os.umask(self.umask)
        super().startService()  # type: ignore[no-untyped-call,unused-ignore]

    def lookup(self, name: str) -> Any:
        """The service whose swissnum is ``name``, or None (logged when broken)."""
        try:
            entry = load_services(self.basedir).get(name)
            if entry is None:
                return None
            built = self._built.get(name)
            if built is not None and built[0] == entry:
                return built[1]
            obj = build_service(entry.type, list(entry.args), self.basedir)
        except AppServerError as e:
            _log.error("octavo-server: cannot serve {n}...: {e}", n=name[:4], e=e)
            return None
        self._built[name] = (entry, obj)
        return obj
