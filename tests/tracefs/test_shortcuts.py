"""The format parser's shortcuts give exactly what the line-by-line parser gives.

`parse_format` first tries a shortcut for text laid out as the kernel writes it, and finds a
field's name by reading its declaration from the end; each is compared here with the plain
way over every captured format file, mutations of them, and generated declarations.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bpf_mcp.testing.tracefs import format_samples, mutated
from bpf_mcp.tracefs import FormatError
from bpf_mcp.tracefs import format as fmt

from .conftest import FIXTURE_TRACEFS, fixture_format_files

SAMPLES = format_samples(FIXTURE_TRACEFS)


def plain(text: str) -> object:
    """What the line-by-line parser makes of `text`: the format, or the error's text."""
    try:
        return fmt.parse_any(text)
    except FormatError as error:
        return str(error)


def shortcut(text: str) -> object:
    """What parse_format makes of `text`, and that the shortcut agrees where it answers."""
    quick = fmt.parse_as_written(text)
    try:
        whole = fmt.parse_format(text)
    except FormatError as error:
        assert quick is None
        return str(error)
    assert quick is None or quick == whole
    return whole


def test_every_captured_format_takes_the_shortcut_to_the_same_result() -> None:
    files = fixture_format_files()
    assert len(files) > 2000
    for path in files:
        text = path.read_text()
        quick = fmt.parse_as_written(text)
        assert quick is not None, path
        assert quick == fmt.parse_any(text), path


@settings(derandomize=True, max_examples=400, deadline=None)
@given(mutated(SAMPLES))
def test_mutated_formats_parse_the_same(text: str) -> None:
    assert shortcut(text) == plain(text)


def test_headers_the_shortcut_leaves_to_the_plain_parser() -> None:
    (sample,) = [s for s in SAMPLES if s.startswith("name: sched_switch\n")]
    for text in (
        sample.replace("name: sched_switch", "name:  sched_switch "),
        sample.replace("name: sched_switch", "name: 9lives"),
        sample.replace("ID: ", "ID:  0"),
        sample.replace("ID: ", "ID: 1" + "0" * 20),
        sample.replace("format:", " format:"),
        sample.replace("\nprint fmt: ", "\nprint fmt:"),
        sample.replace("\tfield:", "  field:", 1),
        sample.replace("\n\n", "\n \n"),
    ):
        assert shortcut(text) == plain(text)


DECLARATION = st.lists(
    st.sampled_from([*"ab_9 \t[]*x0\u00e9", "int ", "char ", "[16]", "  "]), max_size=12
).map("".join)


@settings(derandomize=True, max_examples=1000, deadline=None)
@given(DECLARATION)
def test_name_found_from_the_end_equals_the_search(declaration: str) -> None:
    found = fmt.name_and_dims(declaration)
    searched = fmt.NAME_AND_DIMS.search(declaration)
    if searched is None:
        assert found is None
    else:
        assert found is not None
        assert (found.span(), found.groups()) == (searched.span(), searched.groups())


def test_every_captured_declaration_is_found_as_searched() -> None:
    declarations = {
        field.declaration
        for path in fixture_format_files()
        for field in fmt.parse_format(path.read_text()).fields
    }
    for declaration in declarations:
        found = fmt.name_and_dims(declaration)
        searched = fmt.NAME_AND_DIMS.search(declaration)
        assert found is not None and searched is not None
        assert (found.span(), found.groups()) == (searched.span(), searched.groups())
