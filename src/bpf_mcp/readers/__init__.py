"""Reader actors: one per kernel source; only a reader opens its source's files."""
