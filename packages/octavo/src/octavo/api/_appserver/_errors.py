"""The errors of the application server: each names what was wrong, in one line."""

from __future__ import annotations


class AppServerError(Exception):
    """Base of every refusal of the application server and its services."""


class BasedirError(AppServerError):
    """BASEDIR is missing, unsafe (permissions) or holds a corrupt configuration."""


class ServiceArgumentsError(AppServerError):
    """The arguments given to ``add`` for a service type are wrong."""


class UnknownServiceTypeError(ServiceArgumentsError):
    """``add`` was given a service type this server does not have."""


class BadFilenameError(AppServerError):
    """An upload named a file outside the target directory, or no file at all."""


class QuotaExceededError(AppServerError):
    """An upload grew past the service's configured maximum size."""


class BadRequestError(AppServerError):
    """A client sent a value of the wrong type or size to a service."""


class BusyError(AppServerError):
    """A single-instance command was asked to run while it was still running."""
