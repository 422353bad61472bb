"""The twistd application of ``octavo-server start``: loaded by twistd ``--python``.

twistd runs this file with BASEDIR as the current directory; it is never imported.
"""

from twisted.application import service

from octavo.api._appserver._server import AppServer

application = service.Application("octavo-server")  # type: ignore[no-untyped-call,unused-ignore]
AppServer(".").setServiceParent(application)  # type: ignore[no-untyped-call,unused-ignore]
