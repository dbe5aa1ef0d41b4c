"""Plain-data descriptions of dataclass objects (caches, reductions) for crossing a process boundary.

A spec is JSON: ``{"class": "package.module:ClassName", "params": {...}}``. A parameter that is
itself a dataclass object (a cache wrapped by another cache) is nested as a spec. This is what
Bob receives instead of objects: the class to import and its public parameters.
"""

from __future__ import annotations

import dataclasses
import importlib
import typing

from caches.params import ParameterError
from caches.paramtypes import check_annotated


def class_path(cls: type) -> str:
    """``"module:QualName"`` for an importable class."""
    return f"{cls.__module__}:{cls.__qualname__}"


def load_object(path: str):
    """Import ``"package.module:Name"`` (a class or function); a clear :class:`ParameterError` if it cannot be."""
    module_name, sep, qualname = str(path).partition(":")
    if not sep or not module_name or not qualname:
        raise ParameterError(f"path must look like 'package.module:Name', got {path!r}")
    try:
        target = importlib.import_module(module_name)
    except ImportError as error:
        raise ParameterError(f"cannot import module {module_name!r} for {path!r}: {error}") from None
    for part in qualname.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ParameterError(f"module {module_name!r} has no attribute {qualname!r}") from None
    return target


def load_class(path: str) -> type:
    """Import the class ``"package.module:ClassName"``."""
    target = load_object(path)
    if not isinstance(target, type):
        raise ParameterError(f"{path!r} is not a class")
    return target


def check_params(cls: type, params: dict) -> dict:
    """``params`` for the dataclass ``cls``, checked against its fields before it is built.

    An unknown name is an error listing the parameters; each value must match its field's
    annotation (:func:`caches.paramtypes.check_annotated`; string annotations are resolved with
    ``typing.get_type_hints``) and is converted to it: ``width=1e3`` for an ``int`` field is 1000,
    ``width=notanint`` an error naming ``Class.width``. Annotations that cannot be resolved are
    left to the constructor.
    """
    names = [field.name for field in dataclasses.fields(cls) if field.init]
    unknown = sorted(set(params) - set(names))
    if unknown:
        allowed = ", ".join(names) or "none"
        raise ParameterError(f"{cls.__name__} has no parameter {unknown[0]!r}; its parameters are: {allowed}")
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - a name only imported under TYPE_CHECKING, say
        hints = {}
    return {
        name: value if isinstance(value, dict) and set(value) == {"spec"}
        else check_annotated(f"{cls.__name__}.{name}", value, hints.get(name, typing.Any))
        for name, value in params.items()
    }


def object_spec(obj) -> dict:
    """The spec of a dataclass instance: its class path and its fields (nested where needed)."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"expected a dataclass instance, got {obj!r}")
    params = {}
    for field in dataclasses.fields(obj):
        if not field.init:
            continue
        value = getattr(obj, field.name)
        params[field.name] = {"spec": object_spec(value)} if dataclasses.is_dataclass(value) else value
    return {"class": class_path(type(obj)), "params": params}


def spec_params(spec: dict) -> dict:
    """The keyword arguments a spec describes, nested specs rebuilt into objects."""
    return {
        name: build(value["spec"]) if isinstance(value, dict) and set(value) == {"spec"} else value
        for name, value in spec["params"].items()
    }


def build(spec: dict):
    """A fresh object from its spec."""
    return load_class(spec["class"])(**spec_params(spec))
