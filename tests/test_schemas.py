"""Tool schemas every client can read: valid JSON Schema, one type per schema node."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from bpf_mcp.tools import TOOLS, ToolSpec


def _nodes(schema: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        yield path, schema
        for key, value in schema.items():
            yield from _nodes(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for n, value in enumerate(schema):
            yield from _nodes(value, f"{path}[{n}]")


@pytest.mark.parametrize("spec", TOOLS, ids=lambda s: s.name)
def test_schemas_are_valid_and_use_one_type_per_node(spec: ToolSpec) -> None:
    for kind, schema in (("input", spec.input_schema()), ("output", spec.output_schema())):
        jsonschema.Draft202012Validator.check_schema(schema)
        arrays = [p for p, node in _nodes(schema) if isinstance(node.get("type"), list)]
        assert not arrays, f"{spec.name} {kind} schema has type arrays at {arrays[:5]}"


def test_nullable_fields_are_any_of_with_null() -> None:
    (spec,) = [t for t in TOOLS if t.name == "list_tracepoints"]
    items = spec.output_schema()["properties"]["items"]["items"]
    assert items["properties"]["format"]["anyOf"] == [{"type": "string"}, {"type": "null"}]


@pytest.mark.parametrize(
    ("names", "words"),
    [([""], "each entry of names must be 1-256 characters long, not 0"), (["x" * 257], "not 257")],
)
def test_list_entries_are_bounded_in_the_schema_and_the_answer(
    names: list[str], words: str
) -> None:
    from bpf_mcp.convert import structure_arguments
    from bpf_mcp.errors import InvalidArgument

    (spec,) = [t for t in TOOLS if t.name == "generate_c_header"]
    schema = spec.input_schema()
    assert not jsonschema.Draft202012Validator(schema).is_valid({"names": names})
    with pytest.raises(InvalidArgument, match=words):
        structure_arguments({"names": names}, spec.query)


def test_output_schemas_keep_fields_named_like_keywords() -> None:
    from bpf_mcp.tools import TOOLS_BY_NAME

    schema = TOOLS_BY_NAME["list_bpf_map_types"].output_schema()
    item = schema["properties"]["items"]["items"]
    assert "description" in item["properties"]  # a field, not the keyword
    assert "description" not in schema["properties"]["items"]
    assert schema["required"] == list(schema["properties"])
