"""Checks of single numbers at the public boundary, with errors that name the field.

Every sensor, tracker and engagement parameter goes through one of these when it is
built (STYLE 6: validate once, at the boundary; inner kernels trust their inputs).
"""

from __future__ import annotations

import math

from hyperdef.errors import InputError


def finite(value, field: str) -> float:
    """``value`` as a float, or :class:`InputError` naming ``field`` if it is not finite."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise InputError(f"{field}: {value!r} is not a finite number")
    return number


def positive(value, field: str) -> float:
    """A finite number > 0, else :class:`InputError` naming ``field``."""
    number = finite(value, field)
    if number <= 0.0:
        raise InputError(f"{field}: {value!r} must be > 0")
    return number


def non_negative(value, field: str) -> float:
    """A finite number >= 0, else :class:`InputError` naming ``field``."""
    number = finite(value, field)
    if number < 0.0:
        raise InputError(f"{field}: {value!r} must be >= 0")
    return number
