"""Parameter validation shared by every layer.

A user mistake raises :class:`ParameterError`, whose message names the parameter and the
allowed range. The command line turns it into a one-line message and a non-zero exit code.
"""

from __future__ import annotations

import math
import numbers


class ParameterError(ValueError):
    """A parameter is outside its allowed range (a user mistake, not a bug)."""


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int, or raise naming ``name`` and the range ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer() and not isinstance(value, bool):
            value = int(value)
        else:
            raise ParameterError(f"{name} must be an integer{_range(low, high)}, got {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParameterError(f"{name} must be an integer{_range(low, high)}, got {value}")
    return value


def check_real(
    name: str,
    value,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float inside the interval, or raise naming ``name``."""
    interval = _interval(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite number in {interval}, got {value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise ParameterError(f"{name} must be in {interval}, got {value:g}")
    return value


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``, or raise listing them."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ParameterError(f"{name} must be one of {listed}, got {value!r}")
    return value


#: What a wrapped cache must provide (any number of arrays per token: triples, tensor 5-tuples).
CACHE_METHODS = ("step", "extend", "probe", "to_bytes", "from_bytes", "params")


def check_cache(name: str, value):
    """Return ``value`` if it has every method of :data:`CACHE_METHODS`, or raise naming ``name``."""
    missing = [method for method in CACHE_METHODS if not callable(getattr(value, method, None))]
    if missing:
        raise TypeError(f"{name} must be a cache (missing {', '.join(missing)}), got {value!r}")
    return value


def _range(low, high) -> str:
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


def _interval(low, high, low_open, high_open) -> str:
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{left}{lo}, {hi}{right}"
