"""`python -m bpf_mcp` runs the server, like the `bpf-mcp` command."""

import sys

from .cli import main

sys.exit(main())
