"""The size budget of one answer: a list page whose answer would pass it is cut short, and
any other answer is shrunk by its own class, never silently.

Every answer is held so that the whole JSON-RPC message carrying it stays under the
budget (`Config.max_answer_bytes`, `BUDGET_BYTES` by default): clients read a message as
one line or one body, many cap its size, and the model reading it pays for every byte. A
tool answer carries its result twice, as structured content and as the JSON text of its
text block (escaped inside a JSON string), so that is what is measured (`answer_size`),
plus reserves for the envelope and the note.
A page that would be larger keeps the longest prefix of its items that fits, and
`next_offset` says where the rest continues, exactly as for a page ended by `limit`; so a
client that follows `next_offset` sees every item once. The cut is never silent: a result
class with a `note` field gets a sentence saying so, and on the others `next_offset` is not
null while fewer than `limit` items came back (the tool descriptions promise no more).

A page always keeps at least one item, so paging makes progress even if a single item is
larger than the budget. An answer that is not a page and is over budget is replaced by
its class's `shrink()` (a smaller form whose `note` says what was left out and which
arguments fetch it) until it fits; one that cannot shrink enough is refused with
AnswerTooLarge, a sentence saying how to narrow the question.
"""

from __future__ import annotations

import json
from typing import Any, Protocol, Self, TypeVar

import attrs

from ..convert import render
from ..errors import BpfMcpError

T = TypeVar("T")

BUDGET_BYTES = 64 * 1024
"""Largest JSON-RPC message carrying a list answer, in bytes (UTF-8)."""

ENVELOPE_RESERVE = 2048
"""Bytes kept free for the JSON-RPC envelope and the content block around the result."""

NOTE_RESERVE = 512
"""Bytes kept free, on a cut page, for the note that says it was cut (in both copies)."""

_PAGE_FIELDS = frozenset({"items", "offset", "next_offset"})


class AnswerTooLarge(BpfMcpError):
    """An answer that cannot be made to fit the budget."""


class Shrinkable(Protocol):
    """A result class that can give a smaller form of itself."""

    def shrink(self) -> Self | None:
        """A smaller form, its note saying what it leaves out; None when none is."""


def answer_size(value: Any) -> int:
    """Bytes a JSON-ready value takes in a tool answer: once as compact JSON (structured
    content), once as that JSON inside a JSON string (the text block)."""
    return text_size(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def text_size(text: str) -> int:
    """`answer_size` of the value whose compact JSON is `text`. Inside a JSON string only
    `"` and `\\` gain a backslash: compact JSON holds no raw control characters, the only
    other characters a JSON string escapes."""
    length = len(text) if text.isascii() else len(text.encode("utf-8"))
    return 2 * length + text.count('"') + text.count("\\")


def is_page(result: object) -> bool:
    """True for a list answer: an attrs value with `items`, `offset` and `next_offset`."""
    cls: Any = type(result)
    return attrs.has(cls) and attrs.fields_dict(cls).keys() >= _PAGE_FIELDS


def cut_note(kept: int, budget: int, next_offset: int) -> str:
    """The sentence a cut page carries in its `note`."""
    return (
        f"This page was cut to {kept} item(s) to keep the answer under {budget // 1024} KB;"
        f" the rest follows from offset {next_offset} (pass next_offset)."
    )


def fits(result: object, budget: int) -> bool:
    """Whether the tool answer carrying `result` stays within `budget` bytes."""
    return text_size(render(result).text) + ENVELOPE_RESERVE <= budget


def fit_to_budget(result: T, budget: int = BUDGET_BYTES) -> T:
    """`result`, or, when its answer would take more than `budget` bytes: for a page, the
    same page cut to the longest prefix of its items that fits, with `next_offset` pointing
    just past it and a note saying so; for another answer, the first of its `shrink()`
    forms that fits. Pure. Raises AnswerTooLarge when no form fits."""
    if not is_page(result):
        return _shrink_to_fit(result, budget)
    rendered = render(result)
    whole = text_size(rendered.text) + ENVELOPE_RESERVE
    if whole <= budget:
        return result
    items = rendered.payload["items"]
    sizes = [answer_size(item) for item in items]
    # Bytes outside the items: the envelope, plus the commas between items (in both copies).
    used = whole - sum(sizes) - 2 * max(0, len(sizes) - 1) + NOTE_RESERVE
    kept = 0
    for size in sizes:
        used += size + (2 if kept else 0)
        if used > budget:
            break
        kept += 1
    kept = max(kept, 1)
    if kept >= len(sizes):
        return result
    page: Any = result
    next_offset = page.offset + kept
    changes: dict[str, Any] = {"items": page.items[:kept], "next_offset": next_offset}
    fields = attrs.fields_dict(type(page))
    note = cut_note(kept, budget, next_offset)
    if "note" in fields:
        changes["note"] = f"{page.note} {note}" if page.note else note
    elif "notes" in fields:
        changes["notes"] = (*page.notes, note)
    evolved: T = attrs.evolve(page, **changes)
    return evolved


def _shrink_to_fit(result: T, budget: int) -> T:
    current: Any = result
    while not fits(current, budget):
        shrink = getattr(current, "shrink", None)
        smaller = shrink() if shrink is not None else None
        if smaller is None:
            raise AnswerTooLarge(
                f"This answer would be longer than the {budget // 1024} KB an answer may take"
                " here; ask for less (a narrower name, fewer names, a smaller limit), or"
                " start the server with a larger --max-answer-bytes."
            )
        current = smaller
    shrunk: T = current
    return shrunk
