"""The router: the only holder of indexed data, answering queries with pure functions."""
