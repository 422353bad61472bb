"""Foolscap's severity levels and their names."""

import logging

import pytest

from octavo.logging import log
from octavo.logging._levels import LEVEL_NAMES, level_from_name, level_name


def test_levels_have_foolscaps_numbers() -> None:
    """The eight levels are Foolscap's, in line with Python's logging levels."""
    assert (log.NOISY, log.OPERATIONAL, log.UNUSUAL, log.INFREQUENT) == (10, 20, 23, 25)
    assert (log.CURIOUS, log.WEIRD, log.SCARY, log.BAD) == (28, 30, 35, 40)
    assert (log.NOISY, log.OPERATIONAL) == (logging.DEBUG, logging.INFO)
    assert (log.WEIRD, log.BAD) == (logging.WARNING, logging.ERROR)


def test_names_round_trip() -> None:
    """Every level has a name that reads back to it, in any case."""
    for number, name in LEVEL_NAMES.items():
        assert level_name(number) == name
        assert level_from_name(name.lower()) == number
    assert level_from_name("27") == 27
    assert level_name(27) == "27"


def test_unknown_level_name_is_a_clear_error() -> None:
    """A word that is no level names itself in the error."""
    with pytest.raises(ValueError, match="'LOUD'"):
        level_from_name("LOUD")
