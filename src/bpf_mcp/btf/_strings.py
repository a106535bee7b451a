"""A BTF string section, decoded once and sliced per name."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import BtfError


class StringTable:
    """The strings of one BTF object, addressed by the offsets its records use.

    For split BTF, offsets below `start` belong to the base object's table, which this
    table delegates to.
    """

    __slots__ = ("_base", "_object_name", "_text", "end", "start")

    def __init__(self, raw: bytes, *, base: StringTable | None, object_name: str) -> None:
        # latin-1 maps each byte to one character, so character offsets are byte offsets.
        self._text = raw.decode("latin-1")
        self._base = base
        self._object_name = object_name
        self.start: int = base.end if base is not None else 0
        self.end: int = self.start + len(raw)

    def get(self, offset: int, tid: int, what: str) -> str:
        """The NUL-terminated string at `offset`, decoded as UTF-8 with replacement.

        Raises BtfError naming type id `tid` and `what` in it holds the offset when `offset`
        is outside this table and its bases.
        """
        if offset >= self.start:
            rel = offset - self.start
            text = self._text
            end = text.find("\0", rel)
            if end < 0:
                # The section ends with NUL, so only an offset past the end gets here.
                raise BtfError(
                    f"{self._object_name}: type id {tid} {what}: string offset {offset} is "
                    f"outside the string section [{self.start}, {self.end})"
                )
            name = text[rel:end]
            if not name.isascii():
                name = name.encode("latin-1").decode("utf-8", errors="replace")
            return name
        if self._base is None:
            raise BtfError(
                f"{self._object_name}: type id {tid} {what}: negative string offset {offset}"
            )
        return self._base.get(offset, tid, what)

    def nonempty(self, offsets: Sequence[int]) -> list[int]:
        """The positions in `offsets` of the ones that name a non-empty string.

        An offset outside the table counts as non-empty: reading it raises later.
        """
        text = self._text
        if self._base is None:
            n = len(text)
            return [i for i, o in enumerate(offsets) if o and (o >= n or text[o] != "\0")]
        return [i for i, o in enumerate(offsets) if o and not self._empty_at(o)]

    def _empty_at(self, offset: int) -> bool:
        if offset >= self.start:
            rel = offset - self.start
            return rel < len(self._text) and self._text[rel] == "\0"
        if self._base is None:
            return False
        return self._base._empty_at(offset)

    def get_many(self, offsets: Sequence[int], ids: Sequence[int]) -> list[str]:
        """The strings at `offsets`, the name offsets of the type ids `ids`, in order.

        Raises BtfError like `get`, naming the type id, for the first offset that is out
        of range.
        """
        text = self._text
        start = self.start
        find = text.find
        if offsets and self._ascii() and min(offsets) >= start and max(offsets) - start < len(text):
            # The common case in one comprehension: the section ends with NUL, so every
            # in-range offset has a terminator after it.
            return [text[o - start : find("\0", o - start)] for o in offsets]
        names: list[str] = []
        for tid, offset in zip(ids, offsets, strict=True):
            rel = offset - start
            end = find("\0", rel) if rel >= 0 else -1
            if end < 0:
                names.append(self.get(offset, tid, "name"))
                continue
            name = text[rel:end]
            if not name.isascii():
                name = name.encode("latin-1").decode("utf-8", errors="replace")
            names.append(name)
        return names

    def _ascii(self) -> bool:
        return self._text.isascii()
