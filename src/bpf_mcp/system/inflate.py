"""Bounded gzip decompression for /proc/config.gz: a small file can inflate to gigabytes,
so the output is capped while it is produced, never after."""

from __future__ import annotations

import zlib


class InflateError(ValueError):
    """The data is not gzip, is cut short, or inflates past the bound. The message says
    which, never what the data holds."""


_GZIP = 16 + zlib.MAX_WBITS  # wbits for the gzip wrapper


def gunzip(data: bytes, limit: int) -> bytes:
    """The decompressed content of the gzip `data` (each member in turn), at most `limit`
    bytes. Raises InflateError when it is not gzip, is truncated, or would exceed `limit`
    (decompression stops there, so memory stays near `limit`)."""
    out: list[bytes] = []
    size = 0
    rest = data
    while True:
        inflater = zlib.decompressobj(_GZIP)
        try:
            piece = inflater.decompress(rest, limit + 1 - size)
        except zlib.error:
            raise InflateError("it is not a valid gzip file") from None
        size += len(piece)
        if size > limit:
            raise InflateError(
                f"it inflates to more than {limit} bytes, more than any kernel config"
            )
        out.append(piece)
        if not inflater.eof:
            raise InflateError("the gzip data is cut short")
        rest = inflater.unused_data
        if not rest.strip(b"\0"):
            return b"".join(out)
