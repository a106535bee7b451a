"""The one converter: tool arguments -> typed queries, typed results -> JSON values.

Structuring is strict: a string is not an integer, a boolean is not an integer, and keys the
query does not define are refused. Validation errors become one readable sentence.

"""

from __future__ import annotations

import enum
import functools
import json
import types
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
import pydantic_core
from cattrs.cols import homogenous_tuple_structure_factory, list_structure_factory
from cattrs.preconf.json import make_converter

from .errors import InvalidArgument

T = TypeVar("T")

converter = make_converter(forbid_extra_keys=True, omit_if_default=False)


def _strict(kind: type, label: str) -> Any:
    def structure(value: object, _type: object) -> object:
        if type(value) is kind or (kind is float and type(value) is int):
            return value
        raise TypeError(f"expected {label}, got {_describe(value)}")

    return structure


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'the string "{shown}"'
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


converter.register_structure_hook(int, _strict(int, "an integer"))
converter.register_structure_hook(str, _strict(str, "a string"))
converter.register_structure_hook(bool, _strict(bool, "a boolean (true or false)"))
converter.register_structure_hook(float, _strict(float, "a number"))
converter.register_unstructure_hook(enum.Enum, lambda e: e.value)


def _is_array(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is list or (get_origin(tp) is tuple and len(args) == 2 and args[1] is ...)


def _arrays_only(tp: Any) -> Any:
    """Only a JSON array structures into a list or tuple: cattrs alone would turn the
    string "abc" into ('a', 'b', 'c') and an object into its keys."""
    make = list_structure_factory if get_origin(tp) is list else homogenous_tuple_structure_factory
    inner = make(tp, converter)

    def structure(value: object, _type: object) -> object:
        if not isinstance(value, list):
            raise TypeError(f"expected an array, got {_describe(value)}")
        return inner(value, _type)

    return structure


converter.register_structure_hook_factory(_is_array, _arrays_only)


def _format(exc: BaseException, _type: object) -> str:
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        names = ", ".join(sorted(exc.extra_fields))
        return f"unknown argument(s): {names}"
    if isinstance(exc, KeyError):
        return "required argument missing"
    return str(exc).replace("'", "")


def _messages(exc: BaseException) -> list[str]:
    out: list[str] = []
    for text in cattrs.transform_error(exc, path="", format_exception=_format):
        message, _, where = text.partition(" @ ")
        where = where.lstrip("$.").strip()
        out.append(f"{where}: {message}" if where else message)
    return out


def structure_arguments(arguments: dict[str, Any] | None, cls: type[T]) -> T:
    """Build the typed query `cls` from a tool call's arguments.

    Raises InvalidArgument with one sentence naming every bad argument and why.
    """
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise InvalidArgument("Invalid arguments: expected a JSON object of named arguments.")
    try:
        return converter.structure(arguments, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
        lines = _messages(exc) if isinstance(exc, cattrs.BaseValidationError) else [str(exc)]
        raise InvalidArgument("Invalid arguments: " + "; ".join(lines) + ".") from None


def unstructure(value: object) -> Any:
    """The JSON-ready form (dicts, lists, str, int, float, bool, None) of a result value."""
    return converter.unstructure(value)


@attrs.frozen
class Rendered:
    """The JSON forms of one result value: `payload` (JSON-ready: dicts, lists, str, int,
    float, bool, None) and `text`, its compact JSON."""

    payload: Any
    text: str


def render(value: object) -> Rendered:
    """The JSON forms of a result value."""
    payload = converter.unstructure(value)
    cls: Any = type(value)
    return Rendered(payload, dumps(payload, fast=float_free(cls)))


def dumps(payload: Any, *, fast: bool) -> str:
    """`json.dumps(payload, separators=(",", ":"), ensure_ascii=False)`, written by
    pydantic-core (about 3x faster) when `fast`. The two agree to the byte on every value
    without floats (pydantic-core writes 1e-05 as 0.00001); a lone surrogate, which
    pydantic-core refuses, is left to json.dumps."""
    if fast:
        try:
            return pydantic_core.to_json(payload).decode()
        except pydantic_core.PydanticSerializationError:
            pass
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


_PLAIN = (str, int, type(None))  # bool is an int


@functools.cache
def float_free(tp: Any) -> bool:
    """True when no value of type `tp` (a result class or a field's type) can hold a
    float once unstructured: its JSON text may then be written by pydantic-core. A class
    that refers to itself is not (json.dumps writes it), so no answer rests on a guess."""
    if tp in _float_free_pending:
        return False
    if isinstance(tp, type) and attrs.has(tp):
        _float_free_pending.add(tp)
        try:
            return all(float_free(f.type) for f in attrs.fields(attrs.resolve_types(tp)))
        finally:
            _float_free_pending.discard(tp)
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return all(isinstance(a, _PLAIN) for a in args)
    if origin in (Union, types.UnionType):
        return all(float_free(a) for a in args)
    if isinstance(origin, type) and issubclass(origin, Mapping):
        return len(args) == 2 and args[0] is str and float_free(args[1])
    if isinstance(origin, type) and issubclass(origin, Sequence):
        return bool(args) and all(a is ... or float_free(a) for a in args)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return all(isinstance(member.value, _PLAIN) for member in tp)
    return tp in _PLAIN or tp is bool


_float_free_pending: set[Any] = set()
