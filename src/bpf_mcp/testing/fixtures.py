"""The captured kernels under fixtures/ that are stored compressed, made into sysroots."""

from __future__ import annotations

import lzma
from pathlib import Path


def unpack_fixture(source: Path, into: Path) -> Path:
    """A sysroot at `into` made of the fixture tree `source` (such as fixtures/linux-6.12):
    each `X.xz` decompressed to `X`, every other file copied (CAPTURE.json too). Returns
    `into`."""
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        target = into / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".xz":
            target.with_suffix("").write_bytes(lzma.decompress(path.read_bytes()))
        else:
            target.write_bytes(path.read_bytes())
    return into
