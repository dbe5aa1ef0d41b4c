"""Typed experiment configurations: a frozen dataclass per experiment, checked when it is built.

Each field is a parameter declared with :func:`param`: its default (the quick preset's value), its
allowed range or choices, and a short description. Building a config checks every field's type
(against the default's type, :func:`caches.paramtypes.check_like`: ``n=1e3`` is 1000, ``2.5`` is
an error), its range (for a list, every element's), then the experiment's own cross-field rules
(:meth:`ExperimentConfig.check`), so a bad value is a one-line
:class:`~caches.params.ParameterError` before any work. ``barriers run NAME --help`` prints
:meth:`ExperimentConfig.parameters`; presets are instances (``quick``: the defaults).
"""

from __future__ import annotations

import copy
import dataclasses
import numbers

from caches.params import ParameterError, check_choice, check_int, check_real
from caches.paramtypes import check_like, describe_like, shown


def param(default, *, low=None, high=None, low_open: bool = False, high_open: bool = False, choices=None,
          doc: str = ""):
    """A parameter field: ``default`` and the allowed values (``[low, high]``, open ends, or ``choices``).

    For a list parameter the range applies to every element.
    """
    metadata = {"low": low, "high": high, "low_open": low_open, "high_open": high_open,
                "choices": None if choices is None else tuple(choices), "doc": doc}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _default(field: dataclasses.Field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _check_range(name: str, value, meta):
    if value is None:
        return value
    if isinstance(value, list):
        return [_check_range(f"{name}[{k}]", item, meta) for k, item in enumerate(value)]
    if meta.get("choices") is not None:
        return check_choice(name, value, meta["choices"])
    low, high = meta.get("low"), meta.get("high")
    if low is None and high is None:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    if isinstance(value, numbers.Integral) and isinstance(low if low is not None else high, numbers.Integral) \
            and not meta.get("low_open") and not meta.get("high_open"):
        return check_int(name, value, low, high)
    return check_real(name, value, low, high, low_open=meta.get("low_open", False),
                      high_open=meta.get("high_open", False))


def _check_distinct(name: str, values: list) -> None:
    """A list parameter names each value once (a sweep measures each configuration once)."""
    seen = []
    for item in values:
        if item in seen:
            raise ParameterError(f"{name} lists {shown(item)} twice; give each value once")
        seen.append(item)


def range_text(meta) -> str:
    """The allowed values of a parameter in words (``""`` when any value of its type is allowed)."""
    if meta.get("choices") is not None:
        return "one of " + ", ".join(shown(c) for c in meta["choices"])
    low, high = meta.get("low"), meta.get("high")
    if low is None and high is None:
        return ""
    if high is None:
        return f"{'>' if meta.get('low_open') else '>='} {low}"
    if low is None:
        return f"{'<' if meta.get('high_open') else '<='} {high}"
    return f"{'(' if meta.get('low_open') else '['}{low}, {high}{')' if meta.get('high_open') else ']'}"


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Base class of every experiment's configuration (fields declared with :func:`param`)."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = check_like(field.name, getattr(self, field.name), _default(field))
            if isinstance(value, list):
                _check_distinct(field.name, value)
            object.__setattr__(self, field.name, _check_range(field.name, value, field.metadata))
        self.check()

    def check(self) -> None:
        """Rules between parameters; raise :class:`ParameterError` naming them. Override as needed."""

    def check_before_run(self) -> None:
        """Checks that cost work (building plug-ins, measuring a codebook): run once for the config
        about to run (:meth:`protocols.experiment.Experiment.config`), not when presets are built."""

    def to_dict(self) -> dict:
        """The parameters as plain data (what ``run`` receives and ``config.json`` records)."""
        return {field.name: copy.deepcopy(getattr(self, field.name)) for field in dataclasses.fields(self)}

    def with_overrides(self, overrides: dict, experiment: str = "") -> "ExperimentConfig":
        """A copy with ``overrides`` applied (each type-checked against this config's value)."""
        names = [field.name for field in dataclasses.fields(self)]
        unknown = sorted(set(overrides) - set(names))
        if unknown:
            owner = f"experiment {experiment!r}" if experiment else type(self).__name__
            raise ParameterError(f"{owner} has no parameter {unknown[0]!r}; its parameters are: {', '.join(names)}")
        typed = {key: check_like(key, value, getattr(self, key)) for key, value in overrides.items()}
        return dataclasses.replace(self, **typed)

    @classmethod
    def parameters(cls) -> list[dict]:
        """One row per parameter: name, type, default, allowed values, description."""
        rows = []
        for field in dataclasses.fields(cls):
            default = _default(field)
            rows.append({"name": field.name, "type": describe_like(default), "default": shown(default),
                         "allowed": range_text(field.metadata), "doc": field.metadata.get("doc", "")})
        return rows
