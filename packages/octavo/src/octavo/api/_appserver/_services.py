"""The service types: from a services.json entry to the object its FURL reaches."""

from __future__ import annotations

import os
from dataclasses import replace

from ._command import CommandRunner
from ._options import CommandOptions, parse_service_args
from ._upload import FileUploader


def build_service(service_type: str, args: list[str], basedir: str) -> FileUploader | CommandRunner:
    """The service object for ``service_type`` with ``args`` (errors: ServiceArgumentsError).

    A relative TARGETDIR (as flappserver stores it) is relative to BASEDIR, where
    flappserver's daemon runs.
    """
    options = parse_service_args(service_type, args)
    options = replace(options, targetdir=os.path.join(basedir, options.targetdir))
    if isinstance(options, CommandOptions):
        return CommandRunner(options)
    return FileUploader(options)
