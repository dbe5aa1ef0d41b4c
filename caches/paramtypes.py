"""The type of a user-given parameter value, checked before any work is done.

Two sources of types: an experiment's preset (``barriers run NAME --set key=value`` must match the
type of the preset's value for ``key``) and a plug-in cache's dataclass annotations
(``--cache-arg name=value`` must match the field's annotation). A mismatch is a
:class:`~caches.params.ParameterError` naming the parameter and the type it takes.

Command-line values are JSON. Text that is not JSON becomes a :class:`BareWord`, which only a
string parameter accepts (``--set codebook=hadamard``); for any other parameter it is reported as
malformed JSON, so ``--set etas=[0.1,`` cannot silently become the string ``"[0.1,"``.
"""

from __future__ import annotations

import json
import math
import numbers
import types
import typing

from caches.params import ParameterError


class BareWord(str):
    """Command-line text that is not JSON; ``error`` says where the JSON parser stopped."""

    error: str

    def __new__(cls, text: str, error: str = "not JSON"):
        word = super().__new__(cls, text)
        word.error = error
        return word


def parse_value(text: str):
    """``text`` parsed as JSON, or a :class:`BareWord` when it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        return BareWord(text, f"{error.msg} at character {error.pos}")


def shown(value) -> str:
    """``value`` as the user typed it (JSON where possible: ``null``, ``true``, ``[1, 2]``)."""
    if isinstance(value, BareWord):
        return repr(str(value))
    try:
        return json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        return repr(value)


# --- checks shared by both sources ------------------------------------------------------------


def _mismatch(name: str, value, expected: str) -> ParameterError:
    if isinstance(value, BareWord):
        return ParameterError(f"{name}: malformed JSON {str(value)!r} ({value.error}); {name} must be {expected}")
    return ParameterError(f"{name} must be {expected}, got {shown(value)}")


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_integer(name: str, value) -> int:
    """An integer; a float is accepted only when integral (``1e3`` is 1000, ``2.5`` is an error)."""
    if _is_number(value) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    raise _mismatch(name, value, "an integer")


def check_number(name: str, value):
    """A finite int or float (kept as given)."""
    if _is_number(value) and math.isfinite(value):
        return value
    raise _mismatch(name, value, "a finite number")


def check_boolean(name: str, value) -> bool:
    """Only ``true`` or ``false``."""
    if isinstance(value, bool):
        return value
    raise _mismatch(name, value, "true or false")


def check_string(name: str, value) -> str:
    """A string; here, and only here, a bare word is accepted."""
    if isinstance(value, str):
        return str(value)
    raise _mismatch(name, value, "a string")


# --- against a preset's default value ---------------------------------------------------------


def _prototype(values):
    """One value standing for the type of every element of ``values`` (``None``: any type)."""
    prototype = None
    for position, value in enumerate(values):
        prototype = value if position == 0 else _merge(prototype, value)
        if prototype is None:
            return None
    return prototype


def _merge(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a if isinstance(a, bool) and isinstance(b, bool) else None
    if _is_number(a) and _is_number(b):
        return a if isinstance(a, float) or not isinstance(b, float) else b
    if isinstance(a, str) and isinstance(b, str):
        return a
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return [*a, *b]
    if isinstance(a, dict) and isinstance(b, dict):
        return {**b, **a}
    return None


def describe_like(default) -> str:
    """What a value of the same type as ``default`` is, in words."""
    if default is None:
        return "any value"
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, numbers.Integral):
        return "an integer"
    if isinstance(default, numbers.Real):
        return "a finite number"
    if isinstance(default, str):
        return "a string"
    if isinstance(default, (list, tuple)):
        return f"a non-empty list of {_plural(_prototype(default))}"
    if isinstance(default, dict):
        return "an object {" + ", ".join(f'"{key}": ...' for key in default) + "}"
    return f"a value like {shown(default)}"


def _plural(prototype) -> str:
    if prototype is None:
        return "values"
    if isinstance(prototype, bool):
        return "true/false values"
    if isinstance(prototype, numbers.Integral):
        return "integers"
    if isinstance(prototype, numbers.Real):
        return "numbers"
    if isinstance(prototype, str):
        return "strings"
    if isinstance(prototype, (list, tuple)):
        return f"lists of {_plural(_prototype(prototype))}"
    return "objects"


def check_like(name: str, value, default):
    """``value`` checked against the type of a preset's ``default`` and converted to it.

    An integer parameter takes integers (and integral floats: ``1e3`` becomes 1000), a float
    parameter ints and floats, a bool parameter only true/false, a string parameter strings (and
    bare words). A list parameter takes a non-empty list whose elements are checked against the
    type of the default's elements (``name[i]`` in messages); an object parameter an object whose
    keys present in the default are checked likewise. A ``None`` default says nothing about the
    type, so any JSON value passes (the experiment's own validation checks it), but not
    malformed JSON.
    """
    if default is None:
        if isinstance(value, BareWord):
            raise _mismatch(name, value, "a JSON value")
        return value
    if isinstance(default, bool):
        return check_boolean(name, value)
    if isinstance(default, numbers.Integral):
        return check_integer(name, value)
    if isinstance(default, numbers.Real):
        return check_number(name, value)
    if isinstance(default, str):
        return check_string(name, value)
    if isinstance(default, (list, tuple)):
        if not isinstance(value, (list, tuple)) or not value:
            raise _mismatch(name, value, describe_like(default))
        element = _prototype(default)
        return [check_like(f"{name}[{k}]", item, element) for k, item in enumerate(value)]
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise _mismatch(name, value, describe_like(default))
        return {key: check_like(f"{name}.{key}", item, default.get(key)) for key, item in value.items()}
    return value


# --- against a dataclass field's annotation ---------------------------------------------------


def describe_annotation(annotation) -> str:
    """What a value of ``annotation`` is, in words (``int | None``: "an integer or null")."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in (None, type(None)):
        return "null"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe_annotation(arm) for arm in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(shown(choice) for choice in args)
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return "an integer"
    if annotation is float:
        return "a finite number"
    if annotation is str:
        return "a string"
    if annotation in (list, tuple) or origin in (list, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return "a list [" + ", ".join(describe_annotation(arm) for arm in args) + "]"
        return f"a list whose elements are each {describe_annotation(args[0])}" if args else "a list"
    if annotation is dict or origin is dict:
        return "an object"
    return f"a {getattr(annotation, '__name__', annotation)}"


def check_annotated(name: str, value, annotation):
    """``value`` checked against a type annotation and converted to it.

    Understood: ``int``, ``float``, ``bool``, ``str``, ``None``, ``Optional``/unions (the first
    arm that accepts the value wins), ``Literal[...]``, ``list[X]``, ``tuple[X, ...]``,
    ``tuple[X, Y]`` and ``dict``. Any other annotation (a class, ``Any``) is left to the
    constructor; a bare word there stays a string.
    """
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in (None, type(None)):
        if value is None:
            return None
        raise _mismatch(name, value, "null")
    if origin in (typing.Union, types.UnionType):
        for arm in args:
            try:
                return check_annotated(name, value, arm)
            except ParameterError:
                continue
        raise _mismatch(name, value, describe_annotation(annotation))
    if origin is typing.Literal:
        for choice in args:
            if type(choice) is type(value) or (isinstance(choice, str) and isinstance(value, str)):
                if choice == value:
                    return choice
        if isinstance(value, BareWord) and any(isinstance(choice, str) for choice in args):
            value = str(value)  # a word, just not one of the choices
        raise _mismatch(name, value, describe_annotation(annotation))
    if annotation is bool:
        return check_boolean(name, value)
    if annotation is int:
        return check_integer(name, value)
    if annotation is float:
        return check_number(name, value)
    if annotation is str:
        return check_string(name, value)
    if annotation in (list, tuple) or origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise _mismatch(name, value, describe_annotation(annotation))
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise _mismatch(name, value, f"a list of {len(args)} values")
            items = [check_annotated(f"{name}[{k}]", v, a) for k, (v, a) in enumerate(zip(value, args))]
        else:
            element = args[0] if args else typing.Any
            items = [check_annotated(f"{name}[{k}]", v, element) for k, v in enumerate(value)]
        return tuple(items) if annotation is tuple or origin is tuple else items
    if annotation is dict or origin is dict:
        if isinstance(value, dict):
            return value
        raise _mismatch(name, value, "an object")
    return str(value) if isinstance(value, BareWord) else value
