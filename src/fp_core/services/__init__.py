"""Use cases: each component's behaviour written against ports only (no I/O of their own)."""
