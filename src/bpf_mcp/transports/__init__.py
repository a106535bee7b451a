"""Transports: MCP glue that talks to the router (through the handle) and nothing else."""
