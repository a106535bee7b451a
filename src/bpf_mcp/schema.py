"""JSON Schemas derived from the attrs classes of queries and results.

Input schemas list each argument with its description and bounds and forbid unknown ones;
output schemas describe exactly what the converter produces from a result class.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

import attrs

_SCALARS: dict[Any, str] = {str: "string", int: "integer", bool: "boolean", float: "number"}
_KEYWORDS = ("minimum", "maximum", "maxLength", "minLength", "maxItems", "minItems", "pattern")


def _type_schema(tp: Any) -> dict[str, Any]:
    origin = get_origin(tp)
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}
    if tp is type(None):
        return {"type": "null"}
    if origin is Literal:
        values = list(get_args(tp))
        return {"type": _SCALARS[type(values[0])], "enum": values}
    if origin in (Union, types.UnionType):
        # Always `anyOf` of single types, never `"type": [...]`: clients that map tool
        # schemas onto a one-type dialect (OpenAPI-style function declarations) reject
        # type arrays.
        return {"anyOf": [_type_schema(arg) for arg in get_args(tp)]}
    if origin in (tuple, list):
        args = get_args(tp)
        return {"type": "array", "items": _type_schema(args[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type_schema(get_args(tp)[1])}
    if attrs.has(tp):
        return object_schema(tp)
    raise TypeError(f"no JSON schema for {tp!r}")


def _fields(cls: type) -> list[tuple[attrs.Attribute[Any], Any]]:
    hints = typing.get_type_hints(cls)
    return [(a, hints[a.name]) for a in attrs.fields(cls)]


def object_schema(cls: type, *, is_input: bool = False) -> dict[str, Any]:
    """The JSON Schema of an attrs class.

    For an input (tool arguments), fields with defaults are optional and nullable defaults
    are omitted from the type; for an output every field is required (the converter
    always writes every field).
    """
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field, tp in _fields(cls):
        if is_input and field.default is None:
            non_null = [a for a in get_args(tp) if a is not type(None)]
            tp = non_null[0] if len(non_null) == 1 else tp
        schema = _type_schema(tp)
        description = field.metadata.get("description")
        if description:
            schema["description"] = description
        for key in _KEYWORDS:
            if key in field.metadata:
                schema[key] = field.metadata[key]
        if "items" in field.metadata:  # bounds on each entry of a list
            schema["items"] = {**schema["items"], **field.metadata["items"]}
        if is_input and field.default is not attrs.NOTHING and field.default is not None:
            schema["default"] = field.default
        properties[field.name] = schema
        if not is_input or field.default is attrs.NOTHING:
            required.append(field.name)
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    out["additionalProperties"] = False
    return out


def input_schema(cls: type) -> dict[str, Any]:
    """The tool input schema of a query class."""
    return object_schema(cls, is_input=True)


def output_schema(cls: type) -> dict[str, Any]:
    """The tool output schema of a result class: every field's type and bounds, without
    descriptions.

    Clients check answers against it but seldom show it to the model, while a client
    reads the whole tools/list page as one message (many cap a message at 64 KiB): the
    fields are described in docs/tools.md instead, and only the top level lists its
    required fields (every field of every nested object is always present too).
    """
    schema = object_schema(cls)
    required = schema.get("required", [])
    compact: dict[str, Any] = _undescribed(schema)
    if required:
        compact["required"] = required
    return compact


_DROPPED = frozenset({"description", "additionalProperties", "required"})


def _undescribed(schema: Any, *, names: bool = False) -> Any:
    """`schema` without `description`, `additionalProperties` or `required` keywords, at
    any depth; `names` marks a `properties` mapping, whose keys are field names (a field
    may well be called `description`) and stay."""
    if isinstance(schema, dict):
        return {
            k: _undescribed(v, names=k == "properties" and not names)
            for k, v in schema.items()
            if names or k not in _DROPPED
        }
    if isinstance(schema, list):
        return [_undescribed(v) for v in schema]
    return schema
