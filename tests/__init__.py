"""bpf-mcp's tests, laid out like src/bpf_mcp.

The tests of `bpf_mcp/<package>/` are in `tests/<package>/` (btf, kallsyms, tracefs,
loaded, index, answers, readers, router, transports); those of the process entry points
(cli.py, calltool.py, examples/) in `tests/cli/`; those of another top-level module
`<m>.py` in `tests/test_<m>.py`, or in `tests/<m>/` when they need several files
(kernels). `reliability/` holds the cross-cutting fault and abuse tests;
`test_layers.py` and `test_hygiene.py` check the shape of the tree itself. Helpers that
bench/ and scripts/ use too live in `bpf_mcp.testing`; paths to the captured kernel are
in `tests/support.py`.
"""
