"""BASEDIR: the server's files, in Foolscap 24.9's flappserver layout.

``port``, ``location`` and ``umask`` (one line each), ``tub.pem`` (the key, so FURLs
survive restarts), ``furl_prefix`` (``pb://TUBID@LOCATION/``), ``services.json``
(``{"version": 1, "services": {SWISSNUM: {"relative_basedir", "type", "args",
"comment"}}}``), ``services/N/`` (one folder per service) and a ``.tac`` file for
twistd; ``twistd.pid`` and ``twistd.log`` while it runs in the background.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from typing import Any

from ._errors import BasedirError

SERVICES_FILE = "services.json"
TAC_FILE = "octavo-server.tac"
TAC_TEXT = """\
# -*- python -*-
# Loaded by twistd from this directory (octavo-server start).
from twisted.application import service

from octavo.api._appserver._server import AppServer

application = service.Application("octavo-server")
AppServer(".").setServiceParent(application)
"""


@dataclass(frozen=True)
class ServerConfig:
    """What BASEDIR says about the server itself."""

    port: str
    location: str
    umask: int | None
    furl_prefix: str


@dataclass(frozen=True)
class ServiceEntry:
    """One service of services.json."""

    swissnum: str
    relative_basedir: str
    type: str
    args: tuple[str, ...]
    comment: str | None


def check_basedir(basedir: str) -> None:
    """Refuse a BASEDIR that is missing or that others may read (it holds the key)."""
    try:
        st = os.stat(basedir)
    except OSError as e:
        raise BasedirError(f"cannot use BASEDIR {basedir}: {e.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise BasedirError(f"BASEDIR {basedir} is not a directory")
    if st.st_mode & 0o077:
        raise BasedirError(
            f"BASEDIR {basedir} has mode {stat.S_IMODE(st.st_mode):04o}: it holds the "
            f"server's private key and must be 0700 (chmod 700 {basedir})"
        )


def write_file(path: str, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file renamed over it)."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _read_line(basedir: str, name: str) -> str:
    path = os.path.join(basedir, name)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except (OSError, UnicodeDecodeError) as e:
        raise BasedirError(f"cannot read {path}: {e}") from None


def read_config(basedir: str) -> ServerConfig:
    """The server's port, location, umask and FURL prefix, checked."""
    umask: int | None = None
    if os.path.exists(os.path.join(basedir, "umask")):
        text = _read_line(basedir, "umask")
        try:
            umask = int(text, 8)
        except ValueError:
            raise BasedirError(
                f"{os.path.join(basedir, 'umask')} is not an octal umask: {text!r}"
            ) from None
    port = _read_line(basedir, "port")
    if not port:
        raise BasedirError(f"{os.path.join(basedir, 'port')} is empty")
    location = _read_line(basedir, "location")
    if not location:
        raise BasedirError(
            f"{os.path.join(basedir, 'location')} is empty: write the server's "
            f"location hints there, e.g. tcp:example.org:3116"
        )
    prefix = _read_line(basedir, "furl_prefix")
    if not prefix.startswith("pb://") or not prefix.endswith("/"):
        raise BasedirError(f"{os.path.join(basedir, 'furl_prefix')} is not a FURL prefix")
    return ServerConfig(port=port, location=location, umask=umask, furl_prefix=prefix)


def _entry(basedir: str, swissnum: Any, raw: Any) -> ServiceEntry:
    where = os.path.join(basedir, SERVICES_FILE)
    if not isinstance(swissnum, str) or not swissnum or "/" in swissnum:
        raise BasedirError(f"{where}: bad swissnum {swissnum!r}")
    if not isinstance(raw, dict):
        raise BasedirError(f"{where}: service {swissnum[:4]}... is not an object")
    rel, typ, args, comment = (raw.get(k) for k in ("relative_basedir", "type", "args", "comment"))
    if not isinstance(rel, str) or os.path.isabs(rel) or ".." in rel.split(os.sep):
        raise BasedirError(f"{where}: service {swissnum[:4]}... has a bad relative_basedir")
    if not isinstance(typ, str):
        raise BasedirError(f"{where}: service {swissnum[:4]}... has no type")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise BasedirError(f"{where}: service {swissnum[:4]}... has bad args")
    if comment is not None and not isinstance(comment, str):
        raise BasedirError(f"{where}: service {swissnum[:4]}... has a bad comment")
    return ServiceEntry(swissnum, rel, typ, tuple(args), comment)


def load_services(basedir: str) -> dict[str, ServiceEntry]:
    """The services of services.json by swissnum; BasedirError if it is corrupt."""
    where = os.path.join(basedir, SERVICES_FILE)
    try:
        with open(where, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise BasedirError(f"{where} is missing") from None
    except (OSError, ValueError) as e:
        raise BasedirError(f"{where} is corrupt: {e}") from None
    if not isinstance(data, dict) or data.get("version") != 1:
        raise BasedirError(f"{where}: not a version 1 services file")
    services = data.get("services")
    if not isinstance(services, dict):
        raise BasedirError(f"{where}: 'services' is not an object")
    return {k: _entry(basedir, k, v) for k, v in services.items()}


def save_services(basedir: str, services: dict[str, ServiceEntry]) -> None:
    """Write services.json atomically."""
    data = {
        "version": 1,
        "services": {
            s.swissnum: {
                "relative_basedir": s.relative_basedir,
                "type": s.type,
                "args": list(s.args),
                "comment": s.comment,
            }
            for s in services.values()
        },
    }
    write_file(os.path.join(basedir, SERVICES_FILE), json.dumps(data, indent=2) + "\n")


def next_service_dir(basedir: str) -> str:
    """``services/N`` (relative to BASEDIR) for the next service: one past the highest."""
    numbers = [0]
    for name in os.listdir(os.path.join(basedir, "services")):
        if name.isdigit():
            numbers.append(int(name))
    return os.path.join("services", str(max(numbers) + 1))
