"""The `events/<category>/<event>/format` file: an event's record layout.

The kernel writes (see `trace_event_format` in kernel/trace/trace_events.c)::

    name: sched_switch
    ID: 372
    format:
    <TAB>field:unsigned short common_type;<TAB>offset:0;<TAB>size:2;<TAB>signed:0;
    ...
    <blank line between the common fields and the event's own>
    <TAB>field:char prev_comm[16];<TAB>offset:8;<TAB>size:16;<TAB>signed:0;
    ...
    <blank line>
    print fmt: "prev_comm=%s ...", REC->prev_comm, ...

The print format runs to the end of the file and may itself span lines.
"""

from __future__ import annotations

import functools
import re

import attrs

from bpf_mcp.tracefs.errors import FormatError, shape


@attrs.frozen
class Field:
    """One field of a trace event record, as the format file declares it.

    `c_type` is the declared type with any array suffix moved onto it ("char[16]",
    "const char *", "__data_loc char[]"). `array_len` is the element count of a fixed array,
    0 for a flexible array member (which takes no room in the record), and None otherwise,
    including for `__data_loc` / `__rel_loc` fields: those hold a u32 of
    `(length << 16) | offset` locating dynamic data, and `data_loc` is true for them.
    Syscall tracepoint arguments occupy 8-byte slots whatever their C type, so `size` may
    exceed the size of `c_type`.
    """

    name: str
    c_type: str
    declaration: str
    offset: int
    size: int
    signed: bool
    common: bool
    array_len: int | None
    data_loc: bool


@attrs.frozen
class EventFormat:
    """A trace event's name, numeric id, record fields (common ones first) and print format."""

    name: str
    id: int
    fields: tuple[Field, ...]
    print_fmt: str


_NAME_PREFIX = "name:"
_ID_PREFIX = "ID:"
_FORMAT_LINE = "format:"
_FIELD_PREFIX = "field:"
_PRINT_FMT_PREFIX = "print fmt:"

# Bounded: int() refuses strings of over 4,300 digits with ValueError.
_UINT = re.compile(r"[0-9]{1,20}", re.ASCII)
# The exact shape the kernel writes; anything else takes the slower, more forgiving path.
_CANONICAL_FIELD = re.compile(
    r"field:([^;]*);\toffset:([0-9]{1,20});\tsize:([0-9]{1,20});\tsigned:([01]);", re.ASCII
)
# The name is the last identifier, before any array dimensions.
NAME_AND_DIMS = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\s*\[[^\[\]]*\])*)\s*\Z", re.ASCII)
# NAME_AND_DIMS read backwards: spaces, dimensions, then the name back to its first letter.
_NAME_AND_DIMS_REVERSED = re.compile(r"\s*(?:\][^\[\]]*\[\s*)*[A-Za-z0-9_]*[A-Za-z_]", re.ASCII)
_DIM = re.compile(r"\[([^\[\]]*)\]")
_DECIMAL_DIM = re.compile(r"\s*([0-9]{1,20})\s*", re.ASCII)
_HEX_DIM = re.compile(r"\s*0[xX]([0-9a-fA-F]{1,16})\s*", re.ASCII)
_LOCATION_KEYWORDS = ("__data_loc", "__rel_loc")


def parse_format(text: str) -> EventFormat:
    """Parse the text of one tracefs event `format` file.

    Raises FormatError, naming the line and what was expected, when the text does not have
    the kernel's shape; nothing else escapes for bad input.
    """
    fmt = parse_as_written(text)
    return fmt if fmt is not None else parse_any(text)


def parse_as_written(text: str) -> EventFormat | None:
    """The format of `text` laid out exactly as the kernel writes it, else None.

    A shortcut for the 2,000-odd files of a load: the print format is cut off in one
    search, the header checked by the strictest tests, and field lines come from the
    memo. Whatever it does not accept, `parse_any` parses (or refuses with the line);
    what it accepts, `parse_any` would parse the same.
    """
    head, found, tail = text.partition("\n" + _PRINT_FMT_PREFIX)
    lines = head.split("\n")
    if not found or len(lines) < 3 or lines[2] != _FORMAT_LINE:
        return None
    name_line, id_line = lines[0], lines[1]
    if not (name_line.startswith(_NAME_PREFIX) and id_line.startswith(_ID_PREFIX)):
        return None
    name = name_line[len(_NAME_PREFIX) :].strip()
    number = id_line[len(_ID_PREFIX) :].strip()
    # An identifier holds no whitespace; a 20-digit bound is what _UINT allows.
    if not name.isidentifier() or not (number.isascii() and number.isdigit()):
        return None
    if len(number) > 20:
        return None
    fields = []
    for line in lines[3:]:
        if not line:
            continue
        field = _field_of_line(line)
        if field is None:
            if line.isspace():
                continue
            return None
        fields.append(field)
    print_fmt = tail.removeprefix(" ").removesuffix("\n")
    return EventFormat(name=name, id=int(number), fields=tuple(fields), print_fmt=print_fmt)


def parse_any(text: str) -> EventFormat:
    """`parse_format` for any text: line by line, naming the first line that is wrong."""
    lines = text.split("\n")
    name = _header_value(lines, 0, _NAME_PREFIX)
    if not name or any(char.isspace() for char in name):
        raise FormatError(f"expected an event name after 'name:', got {shape(name)}", line=1)
    event_id = _uint(_header_value(lines, 1, _ID_PREFIX), "the event ID", 2)
    if len(lines) < 3 or lines[2].strip() != _FORMAT_LINE:
        got = shape(lines[2]) if len(lines) >= 3 else "the end of the text"
        raise FormatError(f"expected 'format:', got {got}", line=3)

    fields: list[Field] = []
    for index in range(3, len(lines)):
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(_FIELD_PREFIX):
            fields.append(_parse_field(stripped, index + 1))
            continue
        if line.startswith(_PRINT_FMT_PREFIX):
            rest = "\n".join(lines[index:])[len(_PRINT_FMT_PREFIX) :]
            print_fmt = rest.removeprefix(" ").removesuffix("\n")
            return EventFormat(name=name, id=event_id, fields=tuple(fields), print_fmt=print_fmt)
        raise FormatError(
            f"expected a 'field:' line or 'print fmt:', got {shape(line)}", line=index + 1
        )
    raise FormatError("expected 'print fmt:' before the end of the text", line=len(lines))


def _header_value(lines: list[str], index: int, prefix: str) -> str:
    if index >= len(lines):
        raise FormatError(f"expected {prefix!r}, got the end of the text", line=index + 1)
    line = lines[index]
    if not line.startswith(prefix):
        raise FormatError(f"expected {prefix!r}, got {shape(line)}", line=index + 1)
    return line[len(prefix) :].strip()


def _uint(value: str, what: str, line: int) -> int:
    if not _UINT.fullmatch(value):
        raise FormatError(f"expected a decimal number for {what}, got {shape(value)}", line=line)
    return int(value)


def _parse_field(text: str, line: int) -> Field:
    """One `field:<declaration>;<TAB>offset:N;<TAB>size:N;<TAB>signed:N;` line, stripped."""
    try:
        return _field(text)
    except _FieldError as error:
        raise FormatError(str(error), line=line) from None


class _FieldError(Exception):
    """A field line is malformed; the caller adds the line number."""


# Every event repeats the same common fields, and many share other lines: Field values are
# immutable, so equal lines can share one.
@functools.lru_cache(maxsize=4096)
def _field(text: str) -> Field:
    canonical = _CANONICAL_FIELD.fullmatch(text)
    if canonical:
        declaration, offset, size, signed = canonical.groups()
        numbers = (int(offset), int(size), signed == "1")
    else:
        declaration, values = _field_parts(text)
        numbers = (values["offset"], values["size"], bool(values["signed"]))
    declaration = declaration.strip()
    name, c_type, array_len, data_loc = _parse_declaration(declaration)
    return Field(
        name,
        c_type,
        declaration,
        *numbers,
        common=name.startswith("common_"),
        array_len=array_len,
        data_loc=data_loc,
    )


@functools.lru_cache(maxsize=8192)
def _field_of_line(line: str) -> Field | None:
    """The field a line declares, as it stands in the file; None for any other line."""
    stripped = line.strip()
    if not stripped.startswith(_FIELD_PREFIX):
        return None
    try:
        return _field(stripped)
    except _FieldError:
        return None


def _field_parts(text: str) -> tuple[str, dict[str, int]]:
    """The declaration and the numbers of a field line in any spacing, with unknown keys."""
    parts = text.split(";")
    if len(parts) < 2 or parts[-1].strip():
        raise _FieldError(f"expected the field line to end with ';', got {shape(parts[-1])}")
    attributes: dict[str, str] = {}
    for part in parts[1:-1]:
        key, colon, value = part.strip().partition(":")
        if not colon or not key:
            raise _FieldError(f"expected 'key:value;', got {shape(part.strip())}")
        if key in attributes:
            raise _FieldError("a key appears twice in the field line")
        attributes[key] = value.strip()
    values: dict[str, int] = {}
    for key in ("offset", "size", "signed"):
        if key not in attributes:
            raise _FieldError(f"expected '{key}:' in the field line")
        if not _UINT.fullmatch(attributes[key]):
            raise _FieldError(
                f"expected a decimal number for {key!r}, got {shape(attributes[key])}"
            )
        values[key] = int(attributes[key])
    if values["signed"] not in (0, 1):
        raise _FieldError("expected 'signed:' to be 0 or 1")
    return parts[0][len(_FIELD_PREFIX) :], values


def _parse_declaration(declaration: str) -> tuple[str, str, int | None, bool]:
    """Split a C declaration into (name, type with dimensions, array length, data_loc)."""
    match = name_and_dims(declaration)
    base_type = declaration[: match.start()].rstrip() if match else ""
    if match is None or not base_type:
        raise _FieldError(f"expected a C declaration 'type name', got {shape(declaration)}")
    name = match.group(1)
    c_type = base_type + _normalized_dims(match.group(2))
    data_loc = base_type.split(None, 1)[0] in _LOCATION_KEYWORDS
    if data_loc:
        return name, c_type, None, True
    return name, c_type, _array_len(c_type), False


def name_and_dims(declaration: str) -> re.Match[str] | None:
    """`NAME_AND_DIMS.search(declaration)`, without its trial at every position.

    The name is the identifier just before the trailing dimensions, so a match read from
    the end (on the reversed text) finds where the search would succeed; the search
    itself is the fallback wherever that does not hold.
    """
    tail = _NAME_AND_DIMS_REVERSED.match(declaration[::-1])
    if tail is not None:
        match = NAME_AND_DIMS.match(declaration, len(declaration) - tail.end())
        if match is not None:
            return match
    return NAME_AND_DIMS.search(declaration)


def _normalized_dims(dims: str) -> str:
    return "".join(f"[{dim.strip()}]" for dim in _DIM.findall(dims))


def _array_len(c_type: str) -> int | None:
    """Elements in the array `c_type` declares: 0 when flexible, None when not an array.

    None too when a dimension is not a number (older kernels printed macro names such as
    TASK_COMM_LEN).
    """
    dims: list[str] = []
    rest = c_type.rstrip()
    while rest.endswith("]"):
        start = rest.rfind("[")
        if start < 0:
            return None
        dims.append(rest[start + 1 : -1])
        rest = rest[:start].rstrip()
    if not dims:
        return None
    length = 1
    for dim in dims:
        if not dim.strip():
            return 0
        if decimal := _DECIMAL_DIM.fullmatch(dim):
            length *= int(decimal.group(1))
        elif hexadecimal := _HEX_DIM.fullmatch(dim):
            length *= int(hexadecimal.group(1), 16)
        else:
            return None
    return length
