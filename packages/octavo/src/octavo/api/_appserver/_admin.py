"""``create``, ``add`` and ``list``: what they do to BASEDIR (no network, no reactor)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from octavo.tub import Tub, generateSwissnumber

from ._basedir import (
    TAC_FILE,
    TAC_TEXT,
    ServiceEntry,
    check_basedir,
    load_services,
    next_service_dir,
    read_config,
    save_services,
    write_file,
)
from ._errors import BasedirError
from ._options import absolute_targetdir, check_for_add, parse_service_args


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    old = os.umask(0)
    os.umask(old)
    return old


def create_basedir(basedir: str, port: str, location: str, umask: int | None = None) -> str:
    """Make a new BASEDIR (mode 0700) with a fresh key; return the server's TubID."""
    if os.path.exists(basedir):
        raise BasedirError(f"refusing to touch pre-existing directory {basedir}")
    if not location:
        raise BasedirError("--location is required (e.g. tcp:example.org:3116)")
    os.makedirs(basedir, mode=0o700)
    os.chmod(basedir, 0o700)
    os.mkdir(os.path.join(basedir, "services"), 0o700)
    write_file(os.path.join(basedir, "port"), port + "\n")
    write_file(os.path.join(basedir, "location"), location + "\n")
    mask = current_umask() if umask is None else umask
    write_file(os.path.join(basedir, "umask"), f"{mask:04o}\n")
    save_services(basedir, {})
    tub = Tub(certFile=os.path.join(basedir, "tub.pem"))
    prefix = f"pb://{tub.getTubID()}@{location}/"
    write_file(os.path.join(basedir, "furl_prefix"), prefix + "\n")
    write_file(os.path.join(basedir, TAC_FILE), TAC_TEXT)
    return tub.getTubID()


def add_service(
    basedir: str, service_type: str, args: list[str], comment: str | None = None
) -> tuple[str, str]:
    """Add a service (its arguments checked first); return its FURL and folder."""
    check_basedir(basedir)
    config = read_config(basedir)
    services = load_services(basedir)
    options = parse_service_args(service_type, args)
    check_for_add(options)
    stored = absolute_targetdir(service_type, args)
    relative = next_service_dir(basedir)
    folder = os.path.join(basedir, relative)
    os.makedirs(folder, mode=0o700)
    try:
        swissnum = generateSwissnumber(Tub.NAMEBITS)
        services[swissnum] = ServiceEntry(swissnum, relative, service_type, tuple(stored), comment)
        save_services(basedir, services)
    except BaseException:
        shutil.rmtree(folder)
        raise
    return config.furl_prefix + swissnum, folder


@dataclass(frozen=True)
class ListedService:
    """One line group of ``list``."""

    swissnum: str
    furl: str
    folder: str
    type: str
    args: tuple[str, ...]
    comment: str | None


def list_services(basedir: str) -> list[ListedService]:
    """The configured services, by swissnum."""
    check_basedir(basedir)
    prefix = read_config(basedir).furl_prefix
    return [
        ListedService(
            s.swissnum,
            prefix + s.swissnum,
            os.path.join(basedir, s.relative_basedir),
            s.type,
            s.args,
            s.comment,
        )
        for _, s in sorted(load_services(basedir).items())
    ]
