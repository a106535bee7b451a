"""bpf-mcp."""
