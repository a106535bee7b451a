"""The one converter: tool arguments -> typed queries, typed results -> JSON values.

Structuring is strict: a string is not an integer, a boolean is not an integer, and keys the
query does not define are refused. Validation errors become one readable sentence.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

import cattrs
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
