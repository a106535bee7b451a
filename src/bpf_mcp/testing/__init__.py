"""Helpers for bpf-mcp's own tests, benchmarks and scripts, importable from all three.

Like `trio.testing`: public, but for checking bpf-mcp rather than for using it. Nothing in
the library imports this package (tests/test_layers.py keeps it on the top layer). The
modules that generate examples need the development extras (`pip install -e '.[dev]'`).

- `view`: a View of a sysroot, built synchronously by the readers' own parsing steps
- `fixtures`: the compressed fixture kernels (fixtures/linux-6.12) made into sysroots
- `btf`: BTF blobs assembled word by word, for cases real tools do not produce, and
  mutated blobs with the property the parser keeps over them
- `tracefs`, `kallsyms`: captured text sampled and mutated (by `text.edited`), and the
  parsers' properties over it (the test suite runs them briefly, scripts/fuzz_parsers.py
  at length)
- `pahole`: pahole run and its struct layouts read, the oracle for offsets and holes
- `rawclient`: JSON-RPC lines to a bpf-mcp process over its stdio, for the benchmarks
- `httpserver`: a bpf-mcp --http process on 127.0.0.1 and raw HTTP/1.1 requests to it,
  for the benchmarks of hostile clients and of misses
"""
